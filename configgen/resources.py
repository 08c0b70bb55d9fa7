"""Where configgen's own data lives: templates/ and profiles/.

In a checkout they sit at the top of the repository; in an installed wheel they are packed
into configgen/_data/ (see pyproject.toml). One loader finds them in both.
"""

from __future__ import annotations

from pathlib import Path

from configgen.errors import ConfiggenError

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory of configgen's `templates` or `profiles`."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfiggenError(f"configgen's {name}/ directory is missing from this installation")
