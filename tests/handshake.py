"""Build configgen's test client against a header and run it on 127.0.0.1: the handshake
oracle of the tests and benchmarks (the client itself lives in configgen.handshake)."""

from __future__ import annotations

from pathlib import Path

from configgen import handshake, mbedbuild
from configgen.handshake import CLIENT, Outcome, integration_arguments

__all__ = ["CLIENT", "Outcome", "build_client", "integration_arguments", "run_client"]


def build_client(tree, header: str, output: Path) -> Path:
    """The test client linked against mbedTLS built with `header` (check_config clean)."""
    assert mbedbuild.check_config(tree, header) == ""
    return handshake.build_client(mbedbuild.build_library(tree, header), output)


def run_client(client: Path, port: int, ca: Path, *args: str, timeout: float = 60) -> Outcome:
    return handshake.run_client(client, "127.0.0.1", port, ca, args, timeout)
