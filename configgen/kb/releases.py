"""Patch-level facts: what holds for one mbedTLS release and not another (releases.toml).

`facts_for("3.6.2")` gives the ReleaseFacts of a release: the capabilities it has, the
requirements and known defects that hold for it, and its line's support status.
`version_in(">=3.6.3", "3.6.2")` is the one range test (PEP 440 specifiers, from the
`packaging` library, rather than a hand-written range parser). `target()` decides which
release a header is for. Pure apart from reading the packaged data file once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, Sequence

import tomllib
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from configgen import resources
from configgen.errors import KnowledgeBaseError

KINDS = ("capability", "requirement", "defect")
_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class Fact:
    """One patch-ranged fact, with the releases it holds for and its sources."""

    id: str
    kind: str  # capability | requirement | defect
    holds: str  # PEP 440 specifier set over release numbers
    says: str  # what holds, in a sentence
    fix: str
    error: str  # the MBEDTLS_ERR_* it explains (for a capability: where it does not hold)
    check: str  # the configgen command that shows whether it bites
    source: tuple[str, ...]
    checked: tuple[str, ...]
    lacking: str | None = None  # a capability: what a release without it cannot do
    options: tuple[str, ...] = ()  # what the fix enables or sizes

    def holds_for(self, release: str) -> bool:
        return version_in(self.holds, release)


@dataclass(frozen=True)
class LineSupport:
    line: str
    maintained: bool
    status: str  # a sentence: maintained until when, or what to move to
    source: tuple[str, ...]


@dataclass(frozen=True)
class ReleaseFacts:
    """The facts that bear on one release."""

    release: str
    holding: tuple[Fact, ...]  # facts that hold for it
    lacking: tuple[Fact, ...]  # capabilities it does not have
    support: LineSupport | None

    def has(self, fact_id: str) -> bool:
        return any(f.id == fact_id for f in self.holding)

    def fact(self, fact_id: str) -> Fact | None:
        return next((f for f in self.holding + self.lacking if f.id == fact_id), None)

    @property
    def defects(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.holding if f.kind == "defect")

    @property
    def end_of_life(self) -> str | None:
        """The line's end-of-life sentence, when it is no longer maintained."""
        return self.support.status if self.support and not self.support.maintained else None

    def explaining(self, error: str) -> tuple[tuple[Fact, str], ...]:
        """(fact, sentence) for each fact of this release that may explain `error`."""
        found = [(f, f"mbedTLS {self.release} {f.lacking}") for f in self.lacking
                 if f.error == error and f.lacking]
        found += [(f, f"mbedTLS {self.release}: {f.says}") for f in self.holding
                  if f.error == error and f.kind != "capability"]
        return tuple(found)


@dataclass(frozen=True)
class Releases:
    facts: tuple[Fact, ...]
    lines: tuple[LineSupport, ...]


def version_in(holds: str, release: str) -> bool:
    """Whether a release ("3.6.2") lies in a range (">=3.6.3", "==3.6.6", ">=2.28.0")."""
    return Version(release) in SpecifierSet(holds)


def line_of(release: str) -> str:
    return ".".join(release.split(".")[:2])


def parse(text: str) -> Releases:
    """The facts of releases.toml; KnowledgeBaseError naming the entry for a bad one."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise KnowledgeBaseError(f"releases.toml: {error}") from None
    facts = tuple(_fact(entry) for entry in data.get("fact", ()))
    try:
        lines = tuple(LineSupport(e["line"], bool(e["maintained"]), e["status"], tuple(e["source"]))
                      for e in data.get("line", ()))
    except (KeyError, TypeError) as error:
        raise KnowledgeBaseError(f"releases.toml: a [[line]] lacks {error}") from None
    return Releases(facts, lines)


def _fact(entry: dict[str, Any]) -> Fact:
    name = entry.get("id", "?")
    try:
        fact = Fact(entry["id"], entry["kind"], entry["holds"], entry["says"], entry["fix"],
                    entry["error"], entry["check"], tuple(entry["source"]), tuple(entry["checked"]),
                    entry.get("lacking"), tuple(entry.get("options", ())))
        SpecifierSet(fact.holds)
    except (KeyError, TypeError) as error:
        raise KnowledgeBaseError(f"releases.toml: fact {name!r} lacks {error}") from None
    except InvalidSpecifier:
        raise KnowledgeBaseError(f"releases.toml: fact {name!r}: holds = {entry['holds']!r} "
                                 "is not a PEP 440 range such as \">=3.6.3\"") from None
    if fact.kind not in KINDS or (fact.kind == "capability") != (fact.lacking is not None):
        raise KnowledgeBaseError(f"releases.toml: fact {name!r}: kind must be one of "
                                 f"{', '.join(KINDS)}; a capability (only) says what lacking it means")
    return fact


@lru_cache(maxsize=1)
def load() -> Releases:
    """The release facts shipped with configgen."""
    return parse(resources.read_text("kb/releases.toml"))


def facts_for(release: str, known: Releases | None = None) -> ReleaseFacts:
    """The facts that bear on a release ("3.6.2")."""
    known = known or load()
    return ReleaseFacts(
        release,
        tuple(f for f in known.facts if f.holds_for(release)),
        tuple(f for f in known.facts if f.kind == "capability" and not f.holds_for(release)),
        next((s for s in known.lines if s.line == line_of(release)), None),
    )


def defects_for(release: str) -> tuple[Fact, ...]:
    """The known defects of a release."""
    return facts_for(release).defects


def is_release(text: str) -> bool:
    return bool(_RELEASE.match(text))


class Sdk(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def mbedtls(self) -> str: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class Target:
    """The release a header is for, and where configgen learnt it."""

    release: str
    how: str  # "board pico-w: pico-sdk 2.2.0 ships it (source)", ...


def target(line: str, tested: str, board: str, sdks: Sequence[Sdk],
           tree_version: str | None = None) -> Target:
    """The release of `line` a header targets: the user's tree, else the release the board's
    SDK ships, else the line's tested release."""
    if tree_version:
        return Target(tree_version, "read from the tree given with --mbedtls-src")
    for sdk in sdks:
        if line_of(sdk.mbedtls) == line:
            return Target(sdk.mbedtls, f"board {board}: {sdk.name} {sdk.version} ships it "
                                       f"(source: {sdk.source})")
    return Target(tested, f"the tested release of mbedTLS {line} (board {board} names no {line} "
                          "release)")
