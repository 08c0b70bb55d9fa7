"""Every number, date, host and port a user types, read one way, each with its range.

Each reader takes the text as given and a `where` (the option or key it came from) and
returns the value, or raises ConfiggenError naming `where` and echoing at most a short
prefix of the text: a 100 KB argument is not printed back. Only ASCII digits are digits
(`str.isdigit()` accepts "²", which `int()` refuses), and a number has at most a few
dozen digits (Python refuses to convert more than 4,300).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re

from configgen.errors import ConfiggenError

ECHO = 60  # characters of an input echoed back in a message
_DIGITS = 40  # more than any range here needs
_INTEGER = re.compile(rf"(?:0[xX](?P<hex>[0-9a-fA-F]{{1,{_DIGITS}}})|(?P<dec>[0-9]{{1,{_DIGITS}}}))")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9}")
SECONDS_MIN, SECONDS_MAX = 0.001, 24 * 3600.0


def echo(text: str, most: int = ECHO) -> str:
    """`text` as a message quotes it, on one line: control characters escaped, at most `most`
    characters, then an ellipsis."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: most * 2])
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def integer(text: str) -> int | None:
    """A decimal or 0x-hexadecimal integer of ASCII digits, or None."""
    found = _INTEGER.fullmatch(text.strip())
    if not found:
        return None
    return int(found["hex"], 16) if found["hex"] else int(found["dec"])


def seconds(text: str, where: str) -> float:
    """A positive, finite number of seconds (at most a day): "5", "0.5"."""
    value = float(text) if _SECONDS.fullmatch(text.strip()) else math.nan
    if not SECONDS_MIN <= value <= SECONDS_MAX:
        raise ConfiggenError(f"{echo(text)!r} is not a number of seconds from {SECONDS_MIN} to "
                             f"{SECONDS_MAX:.0f}", where=where)
    return value


def port(text: str, where: str) -> int:
    """A TCP port, 1-65535, written in ASCII digits."""
    value = int(text) if re.fullmatch(r"[0-9]{1,5}", text) else 0
    if not 0 < value < 65536:
        raise ConfiggenError("expected HOST[:PORT] with a port from 1 to 65535", where=where)
    return value


def host_problem(host: str) -> str | None:
    """What is wrong with a host name or IP address, or None."""
    if not host:
        return "must not be empty"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:  # an internationalised name must be one IDNA writes back unchanged ("²" is not "2")
        ascii_name = host
        if not host.isascii():
            ascii_name = host.encode("idna").decode("ascii")
            if ascii_name.encode("ascii").decode("idna") != host.lower():
                ascii_name = ""
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.rstrip(".").split(".")
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"{echo(host)!r} is not a host name or IP address"
    return None


def host_port(text: str, default_port: int, where: str | None = None) -> tuple[str, int]:
    """HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address -> (host, port)."""
    where = where or echo(text)
    host, port_text = text, str(default_port)
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1:] if end >= 0 else ""
        if end < 0 or (rest and not rest.startswith(":")):
            raise ConfiggenError("malformed address: use [IPv6]:PORT", where=where)
        host, port_text = text[1:end], rest[1:] or str(default_port)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    problem = host_problem(host)
    if problem:
        raise ConfiggenError(f"host {problem}" if host else "expected HOST[:PORT]", where=where)
    return host, port(port_text, where)


def instant(text: str, where: str) -> dt.datetime:
    """An ISO 8601 date or time, in UTC (a time without a zone is UTC)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise ConfiggenError(
            f"{echo(text)!r} is not a date from 0001-01-01 to 9999-12-31 (UTC); use ISO 8601 "
            "like 2026-06-01 or 2026-06-01T12:00:00Z", where=where) from None


def date_problem(text: str) -> str | None:
    """What is wrong with an ISO date (YYYY-MM-DD), or None."""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return f"{echo(text)!r} is not a date (use YYYY-MM-DD)"
    return None


def line_of(release: str) -> str:
    """The mbedTLS line of a release ("3.6.7" -> "3.6"); a line is its own line."""
    return ".".join(release.split(".")[:2])
