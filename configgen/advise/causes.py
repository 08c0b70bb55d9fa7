"""The advisor's knowledge as data, beside the loaders and a schema check: causes.toml
(causes and fixes per error code and verify flag), security.toml (risky options) and
sizes.toml (the code each module option brings, measured)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import tomllib

from configgen import resources
from configgen.errors import KnowledgeBaseError
from configgen.model.explanations import Cause


@dataclass(frozen=True)
class ErrorCauses:
    name: str  # MBEDTLS_ERR_...
    lines: tuple[str, ...]
    cause: Cause
    with_low: str | None = None  # only when the code's low part is this error


@dataclass(frozen=True)
class FlagCauses:
    name: str  # MBEDTLS_X509_BADCERT_...
    cause: Cause


@dataclass(frozen=True)
class Causes:
    errors: tuple[ErrorCauses, ...]
    flags: tuple[FlagCauses, ...]

    def for_error(self, line: str, name: str, low: str | None) -> tuple[Cause, ...]:
        return tuple(
            e.cause for e in self.errors
            if e.name == name and line in e.lines and e.with_low in (None, low)
        )

    def for_flag(self, name: str) -> tuple[Cause, ...]:
        return tuple(f.cause for f in self.flags if f.name == name)

    def errors_fixed_by(self, line: str, option: str) -> tuple[tuple[str, str | None], ...]:
        """(error, low part or None) whose causes name `option`: what leaving it out may cause."""
        return tuple(dict.fromkeys(
            (e.name, e.with_low) for e in self.errors if line in e.lines and option in e.cause.options
        ))


def _cause(entry: dict[str, Any]) -> Cause:
    return Cause(entry["why"], entry["fix"], tuple(entry.get("options", ())), entry["check"],
                 tuple(entry.get("shrink", ())))


def parse(text: str) -> Causes:
    """Causes from the TOML text; KnowledgeBaseError when an entry lacks a field."""
    try:
        data = tomllib.loads(text)
        return Causes(
            tuple(ErrorCauses(e["name"], tuple(e["lines"]), _cause(e), e.get("with"))
                  for e in data.get("error", ())),
            tuple(FlagCauses(f["name"], _cause(f)) for f in data.get("flag", ())),
        )
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as error:
        raise KnowledgeBaseError(f"causes.toml is malformed: {error}") from None


@lru_cache(maxsize=1)
def load() -> Causes:
    """The causes shipped with configgen."""
    return parse(resources.read_text("advise/causes.toml"))


@dataclass(frozen=True)
class Risky:
    name: str
    lines: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Security:
    risky: tuple[Risky, ...]
    prefixes: tuple[str, ...]

    def risk(self, line: str, name: str) -> str | None:
        """Why an option weakens security in a line, or None."""
        return next((r.why for r in self.risky if r.name == name and line in r.lines), None)

    def relevant(self, name: str) -> bool:
        """Whether a change of this option alters what the device accepts from a server."""
        return name.startswith(self.prefixes)


@lru_cache(maxsize=1)
def security() -> Security:
    """The risky options and security-relevant names shipped with configgen."""
    text = resources.read_text("advise/security.toml")
    try:
        data = tomllib.loads(text)
        return Security(
            tuple(Risky(r["name"], tuple(r["lines"]), r["why"]) for r in data["risky"]),
            tuple(data["relevant"]["prefixes"]),
        )
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as error:
        raise KnowledgeBaseError(f"security.toml is malformed: {error}") from None


@lru_cache(maxsize=1)
def sizes() -> dict[str, dict[str, int]]:
    """Line -> option -> bytes of code it brings (sizes.toml, measured from real builds)."""
    text = resources.read_text("advise/sizes.toml")
    try:
        data = tomllib.loads(text)
        return {line: {name: int(size) for name, size in table.items()} for line, table in data.items()}
    except (AttributeError, ValueError, TypeError, tomllib.TOMLDecodeError) as error:
        raise KnowledgeBaseError(f"sizes.toml is malformed: {error}") from None
