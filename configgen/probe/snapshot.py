"""Probe snapshots on disk: ServerFacts as JSON, written atomically, read back checked.

The format is documented in docs/probe-snapshot.md. Key order follows the fields of
ServerFacts, so the same facts always give the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from configgen.errors import ProbeError
from configgen.probe.facts import ServerFacts


def dumps(facts: ServerFacts) -> str:
    """The snapshot text: indented JSON with a final newline."""
    return json.dumps(facts.to_json(), indent=2, ensure_ascii=False) + "\n"


def save(facts: ServerFacts, path: Path) -> None:
    """Write the snapshot to `path` (through path.new and os.replace)."""
    tmp = path.with_name(path.name + ".new")
    try:
        tmp.write_text(dumps(facts), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as error:
        raise ProbeError(f"cannot write the snapshot: {error.strerror}", where=str(path)) from None


def load(path: Path) -> ServerFacts:
    """Read a snapshot; ProbeError naming the file when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProbeError(f"cannot read the snapshot: {error.strerror}", where=str(path)) from None
    except UnicodeDecodeError:
        raise ProbeError("the snapshot is not UTF-8 text", where=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProbeError(f"the snapshot is not JSON: {error}", where=str(path)) from None
    try:
        return ServerFacts.from_json(data)
    except ProbeError as error:
        raise ProbeError(error.message, where=str(path), hint=error.hint) from None
