"""Where configgen's own data lives, found one way in a checkout and in an installed wheel.

templates/ and profiles/ sit at the top of the repository in a checkout and are packed into
configgen/_data/ in a wheel (see pyproject.toml): `data_dir` finds them in both. Every other
data file sits inside the package in both (configgen/data/*, kb/*.json and *.toml,
advise/*.toml, sdk/*): `path`, `read_text` and `read_toml` name it from the package
("data/client.c", "kb/releases.toml"). Every module reads configgen's own data through here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from configgen.errors import ConfiggenError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory of configgen's `templates` or `profiles`."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfiggenError(f"configgen's {name}/ directory is missing from this installation")


def path(name: str) -> Path:
    """Where a data file of the package is ("data/client.c": configgen/data/client.c)."""
    return _PACKAGE / name


def read_text(name: str) -> str:
    """A data file of the package as UTF-8 text; ConfiggenError when it is missing."""
    try:
        return path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfiggenError(f"configgen's {name} is missing from this installation",
                             hint="reinstall configgen") from None


def read_toml(name: str) -> dict[str, Any]:
    """A TOML data file of the package ("data/features.toml")."""
    return tomllib.loads(read_text(name))
