"""explain: an mbedTLS error code or X.509 verify flags, named per line, with causes.

`parse_code` reads any spelling people paste (-0x2700, 0x2700, -9984, 9984, 0xFFFFD900,
"(-0x2700)"); `explain_code` splits it into the high- and low-level parts mbedTLS adds
together and names each from the knowledge base of every line asked for, saying which line
defines a part another lacks, with the causes of causes.toml and the patch-level facts of
the release asked for (kb/releases.toml: a known defect of 3.6.6, a capability 3.6.2 lacks).
Pure: the knowledge bases, causes and release facts are arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from configgen.advise.causes import Causes
from configgen.model.explanations import Cause
from configgen.errors import ConfiggenError
from configgen.kb import releases
from configgen.values import echo
from configgen.kb.errcodes import describe, describe_flags, split
from configgen.kb.model import KnowledgeBase
from configgen.model.explanations import (
    CodeExplanation,
    ErrorCode,
    FlagReading,
    FlagsExplanation,
    Part,
    Reading,
)


class AdviceInputError(ConfiggenError):
    """A code, flag value, log or header the advisor cannot read."""


# At most 20 digits: no code or flag set needs more, and int() refuses more than 4,300.
_NUMBER = re.compile(r"^\(?\s*(?P<sign>[-\u2212\u2013]?)\s*(?P<hex>0x)?(?P<digits>[0-9a-f]{1,20})\s*\)?$",
                     re.IGNORECASE)


def parse_number(text: str) -> tuple[bool, int]:
    """(negative, magnitude) of "-0x2700", "0x2700", "-9984", "9984"; hex needs 0x."""
    found = _NUMBER.match(text.strip())
    if not found or (not found["hex"] and not found["digits"].isdigit()):
        raise AdviceInputError(f"'{echo(text)}' is not a number (write it as -0x2700, 0x2700 or -9984)")
    return bool(found["sign"]), int(found["digits"], 16 if found["hex"] else 10)


def parse_code(text: str) -> int:
    """An mbedTLS error code (always negative) from any spelling people paste.

    mbedTLS codes are negative 16-bit values, so 0x2700 and 9984 mean -0x2700, and a 32-bit
    unsigned print of a negative int (0xFFFFD900) means -0x2700 too.
    """
    negative, magnitude = parse_number(text)
    if not negative and 0x80000000 <= magnitude <= 0xFFFFFFFF:
        magnitude = 0x100000000 - magnitude
    if magnitude == 0:
        raise AdviceInputError(f"'{echo(text)}' is 0, which mbedTLS uses for success, not an error")
    if magnitude > 0x7FFF:
        raise AdviceInputError(
            f"'{echo(text)}' is not an mbedTLS error code: they lie between -0x0001 and -0x7FFF"
        )
    return -magnitude


def parse_flags(text: str) -> int:
    """X.509 verify flags ("0x08", "8", "0x00004008")."""
    negative, value = parse_number(text)
    if negative or value == 0 or value > 0xFFFFFFFF:
        raise AdviceInputError(f"'{echo(text)}' is not a set of X.509 verify flags (e.g. 0x08)")
    return value


def _named(kb: KnowledgeBase, code: int) -> tuple[ErrorCode | None, tuple[str, ...]]:
    found = sorted((e for e in kb.errors if e.code == code), key=lambda e: e.alias_of is not None)
    if not found:
        return None, ()
    return found[0], tuple(e.name for e in found[1:])


def _part(level: str, value: int, kb: KnowledgeBase, others: Sequence[KnowledgeBase]) -> Part:
    error, aliases = _named(kb, value)
    elsewhere: tuple[tuple[str, str], ...] = ()
    if error is None:
        elsewhere = tuple(
            (other.version, named.name) for other in others
            if (named := _named(other, value)[0]) is not None
        )
    return Part(level, value, error, aliases, elsewhere)


def _parts(code: int, kb: KnowledgeBase, others: Sequence[KnowledgeBase]) -> tuple[Part, ...]:
    exact, _ = _named(kb, code)
    if exact is not None or any(_named(o, code)[0] is not None for o in others):
        return (_part("whole", code, kb, others),)
    high, low = split(code)
    parts = []
    if high:
        parts.append(_part("high", -high, kb, others))
    if low:
        parts.append(_part("low", -low, kb, others))
    return tuple(parts)


def release_causes(release: releases.ReleaseFacts, error: str) -> tuple[Cause, ...]:
    """The causes a release's own facts give an error: a defect or requirement that holds
    for it, a capability it lacks."""
    return tuple(Cause(why, fact.fix, fact.options, fact.check)
                 for fact, why in release.explaining(error))


def read_code(code: int, kb: KnowledgeBase, others: Sequence[KnowledgeBase], causes: Causes,
              release: releases.ReleaseFacts | None = None) -> Reading:
    """One line's reading of a code; `others` are the lines to name when this one lacks a
    part; `release` (default: the line's knowledge-base release) adds its facts' causes."""
    release = release or releases.facts_for(kb.version)
    parts = _parts(code, kb, others)
    names = [p.error.name if p.error else None for p in parts]
    low = names[1] if len(names) == 2 else None
    found: list[Cause] = []
    for index, name in enumerate(names):
        if name is not None:
            found += release_causes(release, name)
            found += causes.for_error(kb.line, name, low if index == 0 else None)
    return Reading(kb.line, release.release, describe(code, [vars(e) for e in kb.errors]), parts,
                   tuple(dict.fromkeys(found)))


def explain_code(code: int, kbs: Sequence[KnowledgeBase], causes: Causes,
                 every: Sequence[KnowledgeBase] | None = None,
                 release: releases.ReleaseFacts | None = None) -> CodeExplanation:
    """A code read by each line of `kbs`; `every` (default `kbs`) are the lines to name
    where a part exists; `release` is the release to read the code for (its line must be
    the only one in `kbs`). Raises AdviceInputError when no line knows any part of it."""
    every = list(every if every is not None else kbs)
    readings = tuple(read_code(code, kb, [o for o in every if o is not kb], causes, release)
                     for kb in kbs)
    unknown = [p for i, p in enumerate(readings[0].parts)
               if not any(r.parts[i].error for r in readings) and not p.elsewhere]
    if unknown:
        versions = ", ".join(kb.version for kb in every)
        part = unknown[0]
        what = "" if part.level == "whole" else f" (no {part.level} part -0x{-part.value:04X})"
        raise AdviceInputError(
            f"-0x{-code:04X} ({code}) is not an error code of mbedTLS {versions}{what}",
            hint="a PSA status (-132 .. -151) comes from psa_* functions, see "
            "include/psa/crypto_values.h" if 132 <= -code <= 151 else
            "check the digits: mbedTLS codes are negative, such as -0x2700 or -9984",
        )
    return CodeExplanation(code, readings)


def explain_flags(value: int, kb: KnowledgeBase, causes: Causes) -> FlagsExplanation:
    """Verify flags decoded bit by bit, each with its causes."""
    entries = [vars(f) for f in kb.verify_flags]
    found = tuple(FlagReading(f, causes.for_flag(f.name)) for f in kb.verify_flags if value & f.bit)
    unknown = value & ~sum(f.bit for f in kb.verify_flags)
    return FlagsExplanation(value, kb.version, describe_flags(value, entries), found, unknown)
