"""The package type-checks: mypy, strict everywhere but the modules pyproject.toml lists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# The core whose types the rest leans on: never in a looser override.
STRICT_CORE = ("configgen.handshake_model", "configgen.model.options", "configgen.model.requirements",
               "configgen.kb.model", "configgen.kb.cpp", "configgen.kb.closure", "configgen.errors",
               "configgen.model.facts", "configgen.render", "configgen.cli")


def test_mypy_passes(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_is_checked_strictly():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    loosened = set()
    for override in config.get("overrides", []):
        modules = override["module"]
        loosened.update([modules] if isinstance(modules, str) else modules)
    assert not loosened & set(STRICT_CORE)
