"""Patch-level facts: what holds for one mbedTLS release and not another (releases.toml).

`facts_for("3.6.2")` gives the ReleaseFacts of a release: the capabilities it has, the
requirements and known defects that hold for it, and its line's support status. It is the
one path every consumer takes to them: `explaining(error)` for explain, `in_log()` for
diagnose, `walked_into(header, servers, kb)` for review and generate (the known defects a
header walks into with these servers), `has()`, `lacks()` and `notes` for derive.
`version_in(">=3.6.3", "3.6.2")` is the one range test (PEP 440 specifiers, from the
`packaging` library, rather than a hand-written range parser). `target()` decides which
release a header is for. Pure apart from reading the packaged data file once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol, Sequence

import tomllib
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from configgen import resources, values
from configgen.errors import KnowledgeBaseError
from configgen.handshake_model import client_key_exchange
from configgen.kb.model import KnowledgeBase
from configgen.model.facts import KeyExchangeFact, ServerFacts

KINDS = ("capability", "requirement", "defect")
_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")
# The capability derive refuses a split handshake message by, and sizes buffers for
# max_fragment_length by.
HANDSHAKE_REASSEMBLY = "handshake-reassembly"
# The requirement the certificate verdicts read basicConstraints by (3.6.7 and later).
BASIC_INTEGER_FIRST = "basic-constraints-integer-first-refused"


@dataclass(frozen=True)
class Bite:
    """When a header walks into a known defect ([fact.bites])."""

    header: tuple[str, ...]  # every one active
    key_exchanges: tuple[str, ...]  # a server uses one in TLS 1.2, and the header enables it
    without_version: str | None = None  # ... the server does not speak this TLS version
    signed: str | None = None  # ... it signs its ServerKeyExchange with a scheme named so
    exceeds: str | None = None  # ... the client's ClientKeyExchange is larger than this option's value
    source: tuple[str, ...] = ()

    def how(self, header: Mapping[str, str | None], server: ServerFacts, kb: KnowledgeBase) -> str | None:
        """What `server` does that leads a header with these active options into the defect,
        in words; None when it does not (or the header lacks what the defect needs)."""
        if not set(self.header) <= set(header):
            return None
        if self.without_version and self.without_version in server.versions:
            return None
        for exchange in server.key_exchanges:
            if (exchange.key_exchange in self.key_exchanges
                    and f"MBEDTLS_KEY_EXCHANGE_{exchange.key_exchange}_ENABLED" in header):
                found = self._conditions(exchange, header, kb)
                if found is not None:
                    said = ([f"speaks no TLS {self.without_version}"] if self.without_version else []) + found
                    return f"{server.where} " + " and ".join(said)
        return None

    def _conditions(self, exchange: KeyExchangeFact, header: Mapping[str, str | None],
                    kb: KnowledgeBase) -> list[str] | None:
        name = exchange.key_exchange
        said = []
        if self.signed:
            if not (exchange.signature_scheme or "").startswith(self.signed):
                return None
            said.append(f"signs its {name} key exchange with {exchange.signature_scheme}")
        if self.exceeds:
            option = kb.option(self.exceeds)
            text = header[self.exceeds] if self.exceeds in header else option.value if option else None
            value = values.integer(text.strip().rstrip("uUlL")) if text else None
            sent = client_key_exchange(name, exchange.curve, None, exchange.dh_prime_bits, None)
            if exchange.dh_prime_bits is None or sent is None or value is None or sent.size <= value:
                return None
            said.append(f"has a {exchange.dh_prime_bits}-bit {name} group: a ClientKeyExchange of "
                        f"{sent.size:,} bytes, larger than {self.exceeds} {value:,}")
        return said or [f"uses {name}"]

    @property
    def option(self) -> str:
        """The option that leads a header into it: the first it needs, else the one it outgrows."""
        return next(iter(self.header), self.exceeds or "")


@dataclass(frozen=True)
class LogSign:
    """What shows a fact in a debug log ([fact.log])."""

    cause: str  # what diagnose names it
    shows: tuple[str, ...]  # debug messages or handshake steps, any of which shows it
    what: str | None = None  # what the log shows, in words (for a capability)


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
    note: bool = False  # said to the integrator in every header for a release it holds for
    bites: Bite | None = None  # a defect: when a header walks into it
    log: LogSign | None = None  # what shows it in a debug log

    def holds_for(self, release: str) -> bool:
        return version_in(self.holds, release)


@dataclass(frozen=True)
class Walk:
    """A known defect a header walks into."""

    fact: Fact
    option: str  # the option that leads the header into it
    why: str  # "mbedTLS 3.6.6: <what the defect does>; <the server> <what it does>"


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

    def lacks(self, fact_id: str) -> Fact | None:
        """The capability, when this release lacks it."""
        return next((f for f in self.lacking if f.id == fact_id), None)

    @property
    def defects(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.holding if f.kind == "defect")

    @property
    def notes(self) -> tuple[str, ...]:
        """What every header for this release tells the integrator (a requirement in code)."""
        return tuple(f.says for f in self.holding if f.note)

    def walked_into(self, header: Mapping[str, str | None], servers: Sequence[ServerFacts],
                    kb: KnowledgeBase) -> tuple[Walk, ...]:
        """The known defects of this release a header with these active options (name ->
        value) walks into with one of `servers`; `kb` gives the defaults of options the
        header does not set."""
        found = []
        for fact in self.defects:
            if fact.bites is None:
                continue
            hows = [h for s in servers if (h := fact.bites.how(header, s, kb))]
            if hows:
                found.append(Walk(fact, fact.bites.option, f"mbedTLS {self.release}: {fact.says}; {hows[0]}"))
        return tuple(found)

    def in_log(self, error: str | None, seen: Callable[[str], bool]) -> tuple[tuple[Fact, LogSign], ...]:
        """The facts a debug log that failed with `error` (an MBEDTLS_ERR_* name) shows, with
        their [fact.log] signs (`seen` says whether the log shows a message or step): a
        capability whenever its sign is seen, since the log shows the device lacks it; a
        defect or requirement of this release when its error is `error` too."""
        capabilities = [f for f in self.holding + self.lacking if f.kind == "capability"]
        holding = [f for f in self.holding if f.kind != "capability" and f.error == error]
        return tuple((f, f.log) for f in capabilities + holding if f.log and any(seen(s) for s in f.log.shows))

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


def _bite(entry: dict[str, Any] | None) -> Bite | None:
    if entry is None:
        return None
    return Bite(tuple(entry["header"]), tuple(entry["key_exchanges"]), entry.get("without_version"),
                entry.get("signed"), entry.get("exceeds"), tuple(entry.get("source", ())))


def _sign(entry: dict[str, Any] | None) -> LogSign | None:
    if entry is None:
        return None
    return LogSign(entry["cause"], tuple(entry["shows"]), entry.get("what"))


def _fact(entry: dict[str, Any]) -> Fact:
    name = entry.get("id", "?")
    try:
        fact = Fact(entry["id"], entry["kind"], entry["holds"], entry["says"], entry["fix"],
                    entry["error"], entry["check"], tuple(entry["source"]), tuple(entry["checked"]),
                    entry.get("lacking"), tuple(entry.get("options", ())), bool(entry.get("note", False)),
                    _bite(entry.get("bites")), _sign(entry.get("log")))
        SpecifierSet(fact.holds)
    except (KeyError, TypeError) as error:
        raise KnowledgeBaseError(f"releases.toml: fact {name!r} lacks {error}") from None
    except InvalidSpecifier:
        raise KnowledgeBaseError(f"releases.toml: fact {name!r}: holds = {entry['holds']!r} "
                                 "is not a PEP 440 range such as \">=3.6.3\"") from None
    if fact.kind not in KINDS or (fact.kind == "capability") != (fact.lacking is not None):
        raise KnowledgeBaseError(f"releases.toml: fact {name!r}: kind must be one of "
                                 f"{', '.join(KINDS)}; a capability (only) says what lacking it means")
    if fact.bites is not None and fact.kind != "defect":
        raise KnowledgeBaseError(f"releases.toml: fact {name!r}: only a defect has [fact.bites]")
    return fact


@lru_cache(maxsize=1)
def load() -> Releases:
    """The release facts shipped with configgen."""
    return parse(resources.read_text("kb/releases.toml"))


def facts_for(release: str, known: Releases | None = None) -> ReleaseFacts:
    """The facts that bear on a release ("3.6.2")."""
    return _facts_for(release) if known is None else _judged(release, known)


@lru_cache(maxsize=None)
def _facts_for(release: str) -> ReleaseFacts:
    """facts_for() of the shipped releases.toml: derive, explain and review ask it often."""
    return _judged(release, load())


def _judged(release: str, known: Releases) -> ReleaseFacts:
    return ReleaseFacts(
        release,
        tuple(f for f in known.facts if f.holds_for(release)),
        tuple(f for f in known.facts if f.kind == "capability" and not f.holds_for(release)),
        next((s for s in known.lines if s.line == values.line_of(release)), None),
    )


def defects_for(release: str) -> tuple[Fact, ...]:
    """The known defects of a release."""
    return facts_for(release).defects


def log_signs(known: Releases | None = None) -> tuple[str, ...]:
    """Every debug message or handshake step a fact's [fact.log] names, in file order."""
    return tuple(dict.fromkeys(s for f in (known or load()).facts if f.log for s in f.log.shows))


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
class TargetRelease:
    """The release a header is for, and where configgen learnt it."""

    release: str
    how: str  # "board pico-w: pico-sdk 2.2.0 ships it (source)", ...


def target(line: str, tested: str, board: str, sdks: Sequence[Sdk],
           tree_version: str | None = None) -> TargetRelease:
    """The release of `line` a header targets: the user's tree, else the release the board's
    SDK ships, else the line's tested release."""
    if tree_version:
        return TargetRelease(tree_version, "read from the tree given with --mbedtls-src")
    for sdk in sdks:
        if values.line_of(sdk.mbedtls) == line:
            return TargetRelease(sdk.mbedtls, f"board {board}: {sdk.name} {sdk.version} ships it "
                                       f"(source: {sdk.source})")
    return TargetRelease(tested, f"the tested release of mbedTLS {line} (board {board} names no {line} "
                          "release)")
