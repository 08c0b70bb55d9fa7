"""Project and board profiles: TOML in, checked dataclasses out.

Every problem names the file and the key and says what would be right, e.g.
`tls.toml:[policy].tls: "1.4" is not a TLS version configgen knows (use "1.2" or "1.3")`.
Paths inside a project profile are relative to the profile's own directory.

The schema is small and its messages must name a key a person can find, so it is checked
here with a table per section rather than through a generic schema library.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Callable

from configgen import readers, values
from configgen.errors import ProfileError
from configgen.model.endpoint import endpoint
from configgen.model.profile import (
    CRITERIA,
    FORMATS,
    RECORD_MAX,
    TLS_VERSIONS,
    Board,
    Margin,
    Override,
    Policy,
    Profile,
    Sdk,
    Server,
)
from configgen.kb import model as knowledge
from configgen.kb.model import LINES, KnowledgeBase, Option
from configgen.resources import data_dir
from configgen.sdk import esp_idf_releases

# --- reading and checking ------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's table; ProfileError naming the file for anything unreadable."""
    return readers.read_toml(path, readers.PROFILE)


class _Checker:
    """Reads one table, naming `file:[section].key` in every complaint."""

    def __init__(self, path: Path, section: str, table: Any):
        self.path = path
        self.section = section
        if not isinstance(table, dict):
            raise ProfileError(f"must be a table, not {_kind(table)}", where=self.where())
        self.table: dict[str, Any] = table
        self.read: set[str] = set()

    def where(self, key: str | None = None) -> str:
        name = f"[{self.section}]" if self.section else ""
        if key:
            name = f"{name}.{key}" if name else key
        return f"{self.path}:{name}" if name else str(self.path)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., check: Callable[[Any], str | None] | None = None) -> Any:
        self.read.add(key)
        if key not in self.table:
            if default is ...:
                raise ProfileError("is missing", where=self.where(key))
            return default
        value = self.table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            expected = " or ".join(_names.get(k.__name__, k.__name__)
                                   for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ProfileError(f"must be {expected}, not {_kind(value)}", where=self.where(key))
        problem = check(value) if check else None
        if problem:
            raise ProfileError(problem, where=self.where(key))
        return value

    def strings(self, key: str, default: Any = ..., allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        values = self.get(key, list, default)
        for value in values:
            if not isinstance(value, str):
                raise ProfileError(f"must hold strings, not {_kind(value)}", where=self.where(key))
            if allowed and value not in allowed:
                raise ProfileError(
                    f"{value!r} is not one of {', '.join(map(repr, allowed))}", where=self.where(key)
                )
        return tuple(values)

    def choice(self, key: str, allowed: tuple[str, ...], default: Any = ...) -> str:
        chosen: str = self.get(
            key, str, default,
            lambda v: None if v in allowed else f"{v!r} is not one of {', '.join(map(repr, allowed))}",
        )
        return chosen

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.read)
        if unknown:
            raise ProfileError(
                f"unknown key {unknown[0]!r}",
                where=self.where(unknown[0]),
                hint="see README.md (project profiles) or profiles/README.md for the keys",
            )


_names = {"str": "a string", "int": "an integer", "bool": "true or false", "list": "a list", "dict": "a table"}


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def load_board(name_or_path: str, relative_to: Path | None = None, where: str | None = None) -> Board:
    """A board profile by name (profiles/NAME.toml) or by path to the user's own file;
    `where` names the key that asked for it (tls.toml:board)."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        shown = name_or_path
    else:
        path = data_dir("profiles") / f"{name_or_path}.toml"
        shown = f"profiles/{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(board_names())
            raise ProfileError(f"unknown board {values.echo(name_or_path)!r} (known: {known})",
                               where=where)
    c = _Checker(path, "", read_toml(path))
    lines = c.strings("mbedtls", allowed=LINES)
    board = Board(
        name=c.get("name", str),
        description=c.get("description", str),
        mbedtls=lines,
        heap_kib=c.get("heap_kib", int, check=lambda v: None if v > 0 else "must be positive"),
        entropy=c.choice("entropy", ("platform", "hardware")),
        time=c.choice("time", ("wall-clock", "uptime", "none")),
        network=c.choice("network", ("bsd-sockets", "sdk")),
        filesystem=c.get("filesystem", bool),
        accelerated=c.strings("accelerated", (), ("aes", "sha", "mpi", "ecc")),
        platform_enable=_reasons(path, "platform.enable", c.get("platform", dict, {}).get("enable", {})),
        source=shown,
        esp_idf=c.get("esp_idf", str, None, _esp_idf_release),
        priority=c.strings("priority", CRITERIA, CRITERIA),
        sdk=tuple(_sdk(path, i, entry, lines) for i, entry in enumerate(c.get("sdk", list, []))),
    )
    c.done()
    if not board.mbedtls:
        raise ProfileError("must name at least one mbedTLS line", where=c.where("mbedtls"))
    shipped = [values.line_of(s.mbedtls) for s in board.sdk]
    twice = next((line for line in shipped if shipped.count(line) > 1), None)
    if twice:
        raise ProfileError(f"names two SDK releases of mbedTLS {twice}; keep one per line",
                           where=c.where("sdk"))
    return board


def _esp_idf_release(value: str) -> str | None:
    known = esp_idf_releases()
    return None if value in known else f"{value!r} is not an ESP-IDF release configgen knows ({', '.join(known)})"


def _sdk(path: Path, index: int, table: Any, lines: tuple[str, ...]) -> Sdk:
    c = _Checker(path, f"sdk.{index}", table)

    def release(value: str) -> str | None:
        if not re.fullmatch(r"\d+\.\d+\.\d+", value):
            return f"{value!r} is not an mbedTLS release (write it as \"3.6.6\")"
        if values.line_of(value) not in lines:
            return f"{value!r} is not of a line the board names in mbedtls ({', '.join(lines)})"
        return None

    sdk = Sdk(c.get("name", str), c.get("version", str), c.get("mbedtls", str, check=release),
              c.get("source", str))
    c.done()
    return sdk


def _reasons(path: Path, section: str, table: Any) -> tuple[tuple[str, str], ...]:
    c = _Checker(path, section, table)
    pairs = tuple((name, c.get(name, str)) for name in sorted(table))
    c.done()
    return pairs


def board_names() -> list[str]:
    return sorted(p.stem for p in data_dir("profiles").glob("*.toml"))


def load(path: Path, mbedtls: str | None = None) -> Profile:
    """Read and check a project profile; `mbedtls` (from --mbedtls) overrides its line."""
    path = Path(path)
    raw = readers.read_bytes(path, readers.PROFILE)
    data = readers.toml_of(raw, str(path))
    base = path.parent
    top = _Checker(path, "", data)
    board = load_board(top.get("board", str), base, top.where("board"))
    line = mbedtls or top.get("mbedtls", str, board.mbedtls[0])
    top.read.add("mbedtls")
    if line not in LINES:
        raise ProfileError(f"{line!r} is not an mbedTLS line configgen knows ({', '.join(LINES)})",
                           where=top.where("mbedtls"))
    if line not in board.mbedtls:
        raise ProfileError(
            f"board {board.name!r} ships mbedTLS {', '.join(board.mbedtls)}, not {line}",
            where=top.where("mbedtls"),
        )
    servers = tuple(
        _server(path, index, entry)
        for index, entry in enumerate(top.get("server", list, []))
    )
    if not servers:
        raise ProfileError("names no server: a profile needs at least one [[server]] table",
                           where=top.where("server"),
                           hint="add [[server]] with host = ... and port = ... (see README.md)")
    trust = _Checker(path, "trust", top.get("trust", dict, {}))
    ca = tuple(_file(base, trust, "ca", p) for p in trust.strings("ca", ()))
    ca_format = trust.choice("format", ("pem", "der"), "pem")
    trust.done()
    client = _Checker(path, "client", top.get("client", dict, {}))
    cert = client.get("cert", str, None)
    key = client.get("key", str, None)
    client.done()
    policy = _policy(path, top.get("policy", dict, {}), line)
    overrides = _Checker(path, "overrides", top.get("overrides", dict, {}))
    kb = knowledge.load(line)
    enable = _overrides(path, "overrides.enable", overrides.get("enable", dict, {}), kb)
    disable = _overrides(path, "overrides.disable", overrides.get("disable", dict, {}), kb)
    overrides.done()
    output_format = top.choice("format", FORMATS, "header")
    esp_idf = top.get("esp_idf", str, board.esp_idf, _esp_idf_release)
    if output_format == "esp-idf" and esp_idf is None:
        raise ProfileError(f"board {board.name!r} names no ESP-IDF release", where=top.where("format"),
                           hint='set esp_idf = "v5.5.5" (or "v6.0.2") in the profile or the board profile')
    top.done()
    return Profile(
        path=path,
        board=board,
        mbedtls=line,
        servers=servers,
        ca=ca,
        ca_format=ca_format,
        client_cert=_file(base, client, "cert", cert) if cert else None,
        client_key=_file(base, client, "key", key) if key else None,
        policy=policy,
        enable=enable,
        disable=disable,
        format=output_format,
        esp_idf=esp_idf,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _file(base: Path, checker: _Checker, key: str, name: str,
          hint: str = "paths are relative to the profile's directory") -> Path:
    path = base / name
    if not path.is_file():
        problem = "is not a regular file" if name and path.exists() else "no such file"
        raise ProfileError(f"{values.echo(name, 200)!r}: {problem}", where=checker.where(key), hint=hint)
    return path


def _server(path: Path, index: int, table: Any) -> Server:
    c = _Checker(path, f"server.{index}", table)
    host = c.get("host", str, check=values.host_problem)
    port = c.get("port", int, 443, lambda v: None if 0 < v < 65536 else "must be a TCP port (1-65535)")
    snapshot = c.get("snapshot", str, None)
    if snapshot is not None:
        _file(path.parent, c, "snapshot", snapshot,
              hint="record one with 'configgen probe HOST:PORT -o FILE'")
    server = Server(
        name=c.get("name", str, endpoint(host, port)),
        host=host,
        port=port,
        sni=c.get("sni", str, None),
        alpn=c.strings("alpn", ()),
        snapshot=path.parent / snapshot if snapshot else None,
        app_record_max=c.get("app_record_max", int, None, check_app_record_max),
    )
    c.done()
    return server


def check_app_record_max(value: int) -> str | None:
    """What is wrong with [server].app_record_max, or None (also the wizard's check)."""
    return None if 0 < value <= RECORD_MAX else f"must be 1-{RECORD_MAX} bytes"


def _policy(path: Path, table: Any, line: str) -> Policy:
    c = _Checker(path, "policy", table)
    tls = c.strings("tls", TLS_VERSIONS, TLS_VERSIONS)
    if not tls:
        raise ProfileError("must allow at least one TLS version", where=c.where("tls"))
    if line == "2.28" and tls == ("1.3",):
        raise ProfileError(
            "mbedTLS 2.28 cannot speak TLS 1.3",
            where=c.where("tls"),
            hint='allow "1.2", or use mbedTLS 3.6 (mbedtls = "3.6")',
        )
    policy = Policy(
        tls=tls,
        allow_sha1=c.get("allow_sha1", bool, False),
        allow_unsupported_critical_extensions=c.get("allow_unsupported_critical_extensions", bool, False),
        allow_cbc=c.get("allow_cbc", bool, False),
        allow_no_forward_secrecy=c.get("allow_no_forward_secrecy", bool, False),
        allow_weak_ciphers=c.get("allow_weak_ciphers", bool, False),
        psk=c.get("psk", bool, False),
        margin=Margin(c.choice("margin", tuple(m.value for m in Margin), "minimal")),
        at=c.get("at", str, None, values.date_problem),
    )
    c.done()
    return policy


def _overrides(path: Path, section: str, table: Any, kb: KnowledgeBase) -> tuple[Override, ...]:
    c = _Checker(path, section, table)
    found = []
    for name in sorted(table):
        if not name.startswith("MBEDTLS_"):
            raise ProfileError("is not an mbedTLS option (MBEDTLS_...)", where=c.where(name))
        entry = c.get(name, (str, dict))
        if isinstance(entry, str):
            found.append(Override(name, None, entry))
            continue
        inner = _Checker(path, f"{section}.{name}", entry)
        value = inner.get("value", (str, int), check=lambda v: value_problem(kb.option(name), v))
        found.append(Override(name, str(value), inner.get("reason", str)))
        inner.done()
    c.done()
    return tuple(found)



INT_MAX = 2**31 - 1  # C int on the 32-bit targets mbedTLS runs on
_NUMERIC = re.compile(r"(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*")


def value_problem(option: Option | None, value: str | int) -> str | None:
    """What is wrong with an override's value for this option, or None. An option whose
    default value in mbedTLS's header is a number takes an integer from 0 to INT_MAX (the
    ranges mbedTLS's check_config.h states are checked when the header is resolved); a flag
    takes no value; any value is one line of C without comments."""
    text = str(value)
    if option is not None and option.is_flag:
        return (f"{option.name} is an on/off option and takes no value: write "
                f'{option.name} = "reason"')
    if option is not None and option.value is not None and _NUMERIC.fullmatch(option.value):
        number = value if isinstance(value, int) else values.integer(value)
        if number is None:
            return f"{values.echo(text)!r} is not an integer ({option.name} is a number, e.g. {option.value})"
        if not 0 <= number <= INT_MAX:
            return f"must be from 0 to {INT_MAX}, not {values.echo(text)}"
        return None
    if not text.strip() or any(c in text for c in "\r\n\0") or "/*" in text or "//" in text:
        return f"{values.echo(text)!r} is not a one-line C value"
    return None
