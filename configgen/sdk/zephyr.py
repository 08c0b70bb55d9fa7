"""The option set as a Zephyr application speaks it: prj.conf lines. Pure.

Zephyr builds mbedTLS with MBEDTLS_CONFIG_FILE="${CONFIG_MBEDTLS_CFG_FILE}"; the lines here
make that the generated header, and give mbedTLS a heap of its own, sized from the peak heap
a handshake measured (`configgen verify --server`, valgrind massif) with the profile's margin,
or estimated from the header's record buffers when no measurement is given. The symbols and
their sources are in configgen/sdk/zephyr.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

from configgen import __version__
from configgen.derive import HANDSHAKE_WORKING_SET as WORKING_SET
from configgen.model.options import OptionSet
from configgen.model.profile import Margin, Profile
from configgen.render import HeaderContext
from configgen.render import _environment as environment
from configgen.sdk import rules

FRAGMENT = "mbedtls.conf"


@dataclass(frozen=True)
class Heap:
    size: int  # bytes
    how: str  # the derivation, for the comment
    measured: bool


@dataclass(frozen=True)
class Line:
    symbol: str
    value: str
    reasons: tuple[str, ...]


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def heap(options: OptionSet, profile: Profile, peak: int | None) -> Heap:
    """CONFIG_MBEDTLS_HEAP_SIZE: the measured peak (or an estimate) with the profile's margin
    ("minimal": rounded up to 1 KiB; "balanced": a quarter more)."""
    margin = profile.policy.margin
    if peak is not None:
        base, what = peak, (f"measured peak heap {peak:,} bytes (a handshake and one round trip, on the "
                            "host: 64-bit pointers, so a 32-bit device needs a little less)")
    else:
        values = options.values()
        buffers = [int(values.get(n) or 16384) for n in ("MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_OUT_CONTENT_LEN")]
        base = sum(buffers) + WORKING_SET
        what = (f"estimated, nothing measured: record buffers {buffers[0]:,} + {buffers[1]:,} bytes and "
                f"about {WORKING_SET // 1024} KiB of handshake; measure with 'configgen verify HEADER "
                "--server HOST:PORT' and pass its peak heap as --heap-peak")
    size = _round_up(base if margin is Margin.MINIMAL else base * 5 // 4, 1024)
    return Heap(size, f"{what}, margin \"{margin.value}\" -> {size:,} bytes", peak is not None)


def plan(options: OptionSet, profile: Profile, header: str, peak: int | None) -> tuple[tuple[Line, ...], tuple[str, ...]]:
    """The prj.conf lines and the warnings about what the header must hold for them."""
    table = rules("zephyr.toml")
    size = heap(options, profile, peak)
    lines = []
    for symbol in table["symbol"]:
        value = {"header": f'"{header}"', "heap": str(size.size)}.get(symbol["value"], symbol["value"])
        why = size.how if symbol["value"] == "heap" else symbol["why"]
        lines.append(Line(symbol["name"], value, (why,)))
    names = options.names()
    warnings = tuple(check["say"] for check in table["check"]
                     if check["needs"] not in names and check.get("when") in (None, *names))
    return tuple(lines), warnings


def render(options: OptionSet, profile: Profile, context: HeaderContext, header: str,
           peak: int | None) -> str:
    """The prj.conf fragment (EXTRA_CONF_FILE) that makes `header` mbedTLS's configuration."""
    table = rules("zephyr.toml")
    lines, warnings = plan(options, profile, header, peak)
    return environment().get_template("prj.conf.j2").render(
        file_name=FRAGMENT, header=header, board=context.board, command=context.command,
        inputs=context.inputs, options=options, lines=lines, warnings=warnings,
        releases=" / ".join(table["releases"]), sources=table["sources"],
        configgen_version=__version__)
