"""The output layer's shared parts: the conversion to plain data and the progress line."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from enum import Enum

from configgen.model.plain import plain
from configgen.report.progress import ProgressLine


class Colour(str, Enum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    der: bytes
    colour: Colour


@dataclass(frozen=True)
class Outer:
    at: dt.datetime
    inner: tuple[Inner, ...]
    table: dict[str, Inner]


def test_plain_gives_json_data_in_field_order():
    value = Outer(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), (Inner(b"\x00\xff", Colour.RED),),
                  {"one": Inner(b"", Colour.RED)})
    assert plain(value) == {"at": "2026-01-02T03:04:05Z", "inner": [{"der": "AP8=", "colour": "red"}],
                            "table": {"one": {"der": "", "colour": "red"}}}
    assert list(plain(value)) == ["at", "inner", "table"]
    assert plain(value, omit=("der",))["inner"] == [{"colour": "red"}]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_rewritten_on_a_terminal_and_erased_at_the_end():
    terminal = _Terminal()
    with ProgressLine(terminal, indent="  ") as progress:
        progress.step("compiling")
        progress.probing("host:443")(3, "TLS 1.3")
    assert terminal.getvalue() == ("\r\033[K  compiling ...\r\033[K  probing host:443: 3 connections (TLS 1.3)"
                                   "\r\033[K")


def test_progress_is_silent_off_a_terminal():
    piped = io.StringIO()
    with ProgressLine(piped) as progress:
        progress.step("compiling")
        progress.probing("host:443")(1, "default ClientHello")
    assert piped.getvalue() == ""
