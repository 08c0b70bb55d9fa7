"""Probe snapshots on disk: ServerFacts as JSON, written atomically, read back checked.

The format is documented in docs/probe-snapshot.md. Key order follows the fields of
ServerFacts, so the same facts always give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from configgen import output, readers
from configgen.errors import ProbeError
from configgen.model.facts import ServerFacts
from configgen.model.endpoint import endpoint as address


def dumps(facts: ServerFacts) -> str:
    """The snapshot text: indented JSON with a final newline."""
    return json.dumps(facts.to_json(), indent=2, ensure_ascii=False) + "\n"


def save(facts: ServerFacts, path: Path) -> None:
    """Write the snapshot to `path` (atomically, through configgen.output)."""
    output.write_text(path, dumps(facts))


def read_bytes(path: Path) -> bytes:
    """The bytes of a snapshot file, or a ProbeError naming the problem."""
    return readers.read_bytes(path, readers.SNAPSHOT)


def load(path: Path, endpoint: tuple[str, int] | None = None) -> ServerFacts:
    """Read a snapshot (see parse)."""
    return parse(read_bytes(path), path, endpoint)


def parse(raw: bytes, path: Path, endpoint: tuple[str, int] | None = None) -> ServerFacts:
    """The facts of a snapshot's bytes, read from `path`; ProbeError naming the file when it
    cannot be used, or when it was recorded for another server than `endpoint` (host, port)."""
    data = readers.json_of(raw, str(path), readers.SNAPSHOT)
    try:
        facts = ServerFacts.from_json(data)
    except ProbeError as error:
        raise ProbeError(error.message, where=str(path), hint=error.hint) from None
    if endpoint is not None and (facts.host.lower(), facts.port) != (endpoint[0].lower(), endpoint[1]):
        raise ProbeError(
            f"was recorded for {facts.where}, not for {address(*endpoint)}",
            where=str(path),
            hint=f"record it again with 'configgen probe {address(*endpoint)} -o {path}', "
            "or correct host and port in the profile")
    return facts
