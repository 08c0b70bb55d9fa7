"""The only place configgen writes files: atomically, and only when the text changed.

`write_bytes` (and `write_text`) writes a temporary file beside the target (same directory,
so the rename is atomic) and `os.replace`s it over the target; on any failure, Ctrl-C
included, the temporary file is removed and the target is left as it was, byte for byte. A
target that is a directory, FIFO or device is refused before anything is written.
`move_into_place` does the same for what another program built (an archive `ar` wrote, a
source tree `tar` unpacked): one rename puts the whole of it in place.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from configgen import readers
from configgen.errors import ConfiggenError

_EXISTING = readers.Kind("a file configgen writes", 64 * readers.MIB)


def _check_target(path: Path) -> os.stat_result | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfiggenError(f"cannot write: {error.strerror}", where=str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfiggenError("is a directory: name the file to write", where=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise ConfiggenError("is not a regular file: configgen writes only regular files",
                             where=str(path), hint="use -o - to write to standard output")
    return info


def current_text(path: Path) -> str | None:
    """The text a file to be written holds now, or None when there is none."""
    if _check_target(Path(path)) is None:
        return None
    return readers.read_text(path, _EXISTING, latin1=True)


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` as UTF-8, atomically (see write_bytes)."""
    data = text.encode("utf-8")  # before any file exists: text that cannot be encoded fails here
    write_bytes(path, data)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a temporary file in the same directory, then
    os.replace), keeping the mode of a file it replaces."""
    path = Path(path)
    existing = _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise ConfiggenError(f"cannot write: {error.strerror}", where=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, stat.S_IMODE(existing.st_mode) if existing else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as error:
        os.unlink(tmp)
        if isinstance(error, OSError):
            raise ConfiggenError(f"cannot write: {error.strerror}", where=str(path)) from None
        raise


def move_into_place(built: Path, target: Path) -> None:
    """Put a file or directory another program built at `built` (on the same file system as
    `target`) in place of `target` with one rename. A directory `target` is renamed aside
    first and removed afterwards, so at every moment `target` is the old whole, the new whole
    or absent: never half-written, never half-removed."""
    built, target = Path(built), Path(target)
    try:
        if not (built.is_dir() and target.is_dir()):
            if not built.is_dir():
                _check_target(target)
            os.replace(built, target)
            return
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        try:
            os.replace(target, aside / target.name)
            try:
                os.replace(built, target)
            except BaseException:
                os.replace(aside / target.name, target)
                raise
        finally:
            shutil.rmtree(aside, ignore_errors=True)
    except OSError as error:
        raise ConfiggenError(f"cannot write: {error.strerror}", where=str(target)) from None


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` atomically; False (nothing touched) when it already holds it."""
    if current_text(path) == text:
        return False
    write_text(path, text)
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
