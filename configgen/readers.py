"""Every file a command reads, read one way.

`read_bytes(path, kind)` stats the path before opening it, refuses anything but a regular
file (a FIFO, device or socket would block or never end), opens it without blocking, caps
its size by kind, and raises the kind's ConfiggenError naming the file for anything that
goes wrong; `read_input` reads standard input for "-" too. `read_text`, `read_toml` and `read_json` add the decoding, and turn every
decoding failure (bad UTF-8, syntax, numbers Python will not convert, nesting deep enough
to exhaust the stack) into that same one-line error; `text_of` and `json_of` decode bytes
already read the same way (for a caller that also hashes them).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from configgen.errors import CertificateError, ConfiggenError, ProbeError, ProfileError
from configgen.headerfile import HeaderError, parse
from configgen.model.header import Header
from configgen.values import echo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

T = TypeVar("T")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Kind:
    """What a file is meant to be: its name in messages, its size cap, its error class."""

    noun: str  # "a TOML file": "is a directory, not a TOML file"
    limit: int  # bytes
    error: type[ConfiggenError] = ConfiggenError


PROFILE = Kind("a TOML file", 1 * MIB, ProfileError)
SNAPSHOT = Kind("a probe snapshot", 16 * MIB, ProbeError)
CERTIFICATE = Kind("a certificate or key file", 10 * MIB, CertificateError)
HEADER = Kind("a C config header", 4 * MIB, HeaderError)


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def read_bytes(path: str | Path, kind: Kind, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` (default `kind.limit`) bytes."""
    where = str(path)
    fail = kind.error
    limit = kind.limit if limit is None else limit
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise fail(f"is a directory, not {kind.noun}", where=where)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"is not a regular file (a FIFO, device or socket), not {kind.noun}",
                       where=where)
        if info.st_size > limit:
            raise fail(f"is {_size(info.st_size)}; {kind.noun} is at most {_size(limit)}",
                       where=where, hint="is this the right file?")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the stat
                raise fail(f"is not a regular file, not {kind.noun}", where=where)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise fail("no such file", where=where) from None
    except PermissionError:
        raise fail("cannot be read: permission denied", where=where) from None
    except OSError as error:
        raise fail(f"cannot be read: {error.strerror or error}", where=where) from None
    if len(data) > limit:
        raise fail(f"is more than {_size(limit)}; {kind.noun} is at most that", where=where)
    return data


def read_input(name: str, kind: Kind) -> bytes:
    """The bytes of the file `name`, or of standard input for "-", capped as read_bytes caps them."""
    if name != "-":
        return read_bytes(name, kind)
    data = sys.stdin.buffer.read(kind.limit + 1)
    if len(data) > kind.limit:
        raise kind.error(f"is more than {kind.limit // MIB} MB: not {kind.noun}", where="stdin")
    return data


@contextmanager
def decoding(where: str, kind: Kind, problem: str) -> Iterator[None]:
    """Turn any failure to decode a file into one error naming it: `problem` says what was
    wrong ("TOML syntax error", "not JSON") before the decoder's own words."""
    try:
        yield
    except RecursionError:
        raise kind.error("is nested too deeply to read", where=where) from None
    except UnicodeDecodeError as error:
        raise kind.error(f"not UTF-8 text (byte {error.start})", where=where) from None
    except (ValueError, OverflowError, MemoryError) as error:  # TOML/JSON errors are ValueErrors
        raise kind.error(f"{problem}: {echo(str(error), 120)}", where=where) from None


def text_of(data: bytes, where: str, kind: Kind, latin1: bool = False) -> str:
    """The bytes read from `where` as UTF-8 text (`latin1`: as Latin-1 when they are not
    UTF-8, for logs and headers)."""
    if latin1:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    with decoding(where, kind, "not text"):
        return data.decode("utf-8")


def read_text(path: str | Path, kind: Kind, latin1: bool = False) -> str:
    """A text file (see text_of)."""
    return text_of(read_bytes(path, kind), str(path), kind, latin1)


def parsed(data: bytes, where: str, kind: Kind, problem: str, parse: Callable[[str], T]) -> T:
    """`parse` of the UTF-8 bytes read from `where`, every failure of it a `kind.error`
    naming the file."""
    text = text_of(data, where, kind)
    with decoding(where, kind, problem):
        return parse(text)


def toml_of(data: bytes, where: str, kind: Kind = PROFILE) -> dict[str, Any]:
    """The TOML table of the bytes read from `where`."""
    return parsed(data, where, kind, "TOML syntax error", tomllib.loads)


def read_toml(path: str | Path, kind: Kind = PROFILE) -> dict[str, Any]:
    """A TOML file's table."""
    return toml_of(read_bytes(path, kind), str(path), kind)


def json_of(data: bytes, where: str, kind: Kind = SNAPSHOT) -> Any:
    """The JSON value of the bytes read from `where`."""
    return parsed(data, where, kind, "not JSON", json.loads)


def read_json(path: str | Path, kind: Kind = SNAPSHOT) -> Any:
    """A JSON file's value."""
    return json_of(read_bytes(path, kind), str(path), kind)


def read_header(path: Path) -> Header:
    """A C config header, parsed (configgen/headerfile.py); Latin-1 where it is not UTF-8."""
    data = read_bytes(path, HEADER)
    if b"\0" in data:
        raise HeaderError("is a binary file, not a C config header", where=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse(text, str(path))
