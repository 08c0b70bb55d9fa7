"""The option set in an SDK's own words: ESP-IDF sdkconfig symbols, Zephyr prj.conf lines.

Every format is rendered from the one option set `configgen.generate.generate()` resolves
for the header (configgen/sdk/outputs.py); the facts each renderer relies on are data files
here, with their sources.

A front end beside the header's: may import generate, derive (its handshake working set),
render, the knowledge base, options and profile; never the probe's transport, the wizard or
a command.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DATA = Path(__file__).parent


@lru_cache(maxsize=None)
def rules(name: str) -> dict[str, Any]:
    """One of the rule files here (espidf.toml, zephyr.toml)."""
    return tomllib.loads((DATA / name).read_text())


def esp_idf_releases() -> tuple[str, ...]:
    """The ESP-IDF releases configgen holds facts for."""
    return tuple(sorted(rules("espidf.toml")["release"]))
