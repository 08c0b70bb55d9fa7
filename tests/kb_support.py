"""Helpers for tests that hold the knowledge base against the real sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from configgen.sources import SourceTree


def preset(tree: SourceTree, name: str) -> str:
    """The default config header with mbedTLS's own scripts/config.py preset applied."""
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / tree.config_header.name
        shutil.copy(tree.config_header, copy)
        subprocess.run(
            [sys.executable, str(tree.root / "scripts" / "config.py"), "-f", str(copy), name],
            check=True,
            capture_output=True,
        )
        return copy.read_text()


def settings(header_text: str) -> dict[str, str | None]:
    """Active MBEDTLS_ settings of a config header (name -> value or None)."""
    found: dict[str, str | None] = {}
    for line in header_text.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] == "#define" and parts[1].startswith("MBEDTLS_"):
            if parts[1].endswith("_H") or "(" in parts[1]:
                continue
            value = parts[2].split("/*")[0].strip() if len(parts) == 3 else ""
            found[parts[1]] = value or None
    return found


def bare_header(kb, options) -> str:
    """A config header that defines exactly `options` (plus the line's config tail)."""
    from configgen.kb import cpp

    lines = [f"#define {name}{'' if value is None else ' ' + value}" for name, value in options.items()]
    lines.extend(cpp.render(d) for d in kb.config_tail)
    return "\n".join(lines) + "\n"
