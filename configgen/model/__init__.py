"""The model floor: every frozen type the stages pass to each other.

- facts (what the probe saw of a server), certificates (what certificate and key files
  hold), inputs (a server with its parsed chain, a certificate with where it came from);
- profile (the project profile, its board, Margin, Server.where), endpoint (host:port);
- requirements (what derive finds), options (what resolve settles), header (a parsed C
  config header);
- verdicts (what mbedTLS makes of a certificate, key, file or chain), explanations (error
  codes, verify flags and their causes), findings (review, diff, diagnosis, stale output),
  inspection (what `inspect` says), results (verify, footprint), proof (the proof before
  writing);
- plain: the one conversion of these types to JSON-ready data.

Modules here import the standard library, `configgen.errors` and each other: nothing that
reads a file, opens a socket or runs a program, and no third-party package (a contract in
pyproject.toml). Every other module may import them.
"""
