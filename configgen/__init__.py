"""configgen: the mbedTLS options an embedded TLS client needs, derived from the server and
its certificates, written as a config header with a reason for every line.

The package is layered (README "How it works"; the contracts in pyproject.toml are checked
by tests/test_layering.py). model/ is the floor: the frozen types every stage passes on,
importing nothing of configgen but errors. Readers at the edge (readers, profile, inspect,
probe/snapshot) turn the user's files into those types, resources.py finds configgen's own
data, output.py is the one writer, and the pure core (derive, handshake_model, chain,
verdicts, costs, resolve, render, kb, advise) never imports a reader of the user's files or
an I/O module (probe/transport, probe/runner, mbedbuild,
verify, prove, footprint, handshake, sources, output), the wizard or a command.
Commands (commands/) import the stages they run and never one another; cli.py imports only
the command that runs. This module imports nothing: `configgen --version` reads it alone.
"""

__version__ = "0.1.0"
