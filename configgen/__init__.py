"""configgen: the mbedTLS options an embedded TLS client needs, derived from the server and
its certificates, written as a config header with a reason for every line.

The package is layered (README "How it works"; the contracts in pyproject.toml are checked
by tests/test_layering.py): the readers at the edge (profile, inspect, probe/snapshot,
headerfile) and the pure core (derive, resolve, render, handshake_model, options,
requirements, kb, advise) never import the I/O modules (probe/transport, probe/runner,
mbedbuild, verify, prove, footprint, handshake, sources, output), the wizard or a command.
Commands (commands/) import the stages they run and never one another; cli.py imports only
the command that runs. This module imports nothing: `configgen --version` reads it alone.
"""

__version__ = "0.1.0"
