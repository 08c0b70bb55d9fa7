"""The only place configgen writes files: atomically, and only when the text changed."""

from __future__ import annotations

import os
from pathlib import Path

from configgen.errors import ConfiggenError


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` through `path.new` + rename; False when it was already so."""
    path = Path(path)
    try:
        if path.is_file() and path.read_text() == text:
            return False
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as error:
        raise ConfiggenError(f"cannot write: {error.strerror}", where=str(path)) from None
    return True
