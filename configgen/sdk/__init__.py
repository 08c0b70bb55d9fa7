"""The option set in an SDK's own words: ESP-IDF sdkconfig symbols, Zephyr prj.conf lines.

Every format is rendered from the one option set `configgen.generate.generate()` resolves
for the header (configgen/sdk/outputs.py); the facts each renderer relies on are data files
here, with their sources.

A front end beside the header's: may import generate, derive (its handshake working set),
render, the knowledge base, the model and the profile reader; never the probe's transport,
the wizard or a command.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from configgen import resources


@lru_cache(maxsize=None)
def rules(name: str) -> dict[str, Any]:
    """One of the rule files here (espidf.toml, zephyr.toml)."""
    return resources.read_toml(f"sdk/{name}")


def esp_idf_releases() -> tuple[str, ...]:
    """The ESP-IDF releases configgen holds facts for."""
    return tuple(sorted(rules("espidf.toml")["release"]))
