"""The knowledge base of one mbedTLS line, as typed objects over the committed JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

from configgen import resources
from configgen.errors import ConfiggenError, KnowledgeBaseError
from configgen.kb import cpp
from configgen.model.explanations import ErrorCode, VerifyFlag

SCHEMA = 1
LINES = ("2.28", "3.6")


@dataclass(frozen=True)
class Option:
    """One setting of the default config header, in header order."""

    name: str
    section: str
    default_enabled: bool
    value: str | None
    args: str | None
    summary: str
    requires: str | None
    cautions: tuple[str, ...]
    index: int

    @property
    def is_flag(self) -> bool:
        """A boolean option (defined or not), as opposed to one that carries a value."""
        return self.value is None and self.args is None


@dataclass(frozen=True)
class Suite:
    """A TLS ciphersuite the line implements, and the guard that compiles it in."""

    id: int
    hex: str
    macro: str
    name: str
    min_tls: str
    max_tls: str
    key_exchange: str
    cipher: str
    key_bits: int
    mode: str
    mac: str | None
    flags: tuple[str, ...]
    guard: str
    requires: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)  # identity: one object per loaded line, usable as a cache key
class KnowledgeBase:
    """Everything configgen knows about one mbedTLS line (see extract.py for where from)."""

    line: str
    version: str
    options: tuple[Option, ...]
    suites: tuple[Suite, ...]
    errors: tuple[ErrorCode, ...]
    verify_flags: tuple[VerifyFlag, ...]
    x509: Mapping[str, Any]
    config_tail: tuple[cpp.Directive, ...]
    preprocessor_entry: tuple[cpp.Directive, ...]
    preprocessor_files: Mapping[str, Sequence[cpp.Directive]] = field(repr=False)

    def option(self, name: str) -> Option | None:
        return self._options_by_name().get(name)

    def suite(self, suite_id: int) -> Suite | None:
        return next((s for s in self.suites if s.id == suite_id), None)

    def _options_by_name(self) -> dict[str, Option]:
        return _index(self)

    def evaluate(self, options: Mapping[str, str | None]) -> cpp.Outcome:
        """Run mbedTLS's configuration headers over a set of options (name -> value).

        The outcome depends only on which options are set to what (not on their order), so
        it is cached on that set: the closure asks about the same sets many times. The
        outcome is shared between callers; nobody may change it."""
        return _evaluate(self, frozenset(options.items()))


@lru_cache(maxsize=4096)
def _evaluate(kb: KnowledgeBase, options: frozenset[tuple[str, str | None]]) -> cpp.Outcome:
    config = cpp.config_directives(dict(sorted(options)), kb.config_tail)
    return cpp.run(kb.preprocessor_files, kb.preprocessor_entry, config)


@lru_cache(maxsize=8)
def _index(kb: KnowledgeBase) -> dict[str, Option]:
    return {o.name: o for o in kb.options}


def from_dict(data: Mapping[str, Any]) -> KnowledgeBase:
    """Build a KnowledgeBase from the JSON structure extract.py writes."""
    if data.get("schema") != SCHEMA:
        raise KnowledgeBaseError(
            f"knowledge base schema {data.get('schema')!r}, expected {SCHEMA}",
            hint="regenerate it with 'configgen kb extract'",
        )
    try:
        return KnowledgeBase(
            line=data["line"],
            version=data["mbedtls"],
            options=tuple(
                Option(index=i, **{**o, "cautions": tuple(o["cautions"])})
                for i, o in enumerate(data["options"])
            ),
            suites=tuple(
                Suite(**{**s, "flags": tuple(s["flags"]), "requires": tuple(s.get("requires", ()))})
                for s in data["suites"]
            ),
            errors=tuple(ErrorCode(**e) for e in data["errors"]),
            verify_flags=tuple(VerifyFlag(**f) for f in data["verify_flags"]),
            x509=data["x509"],
            config_tail=tuple(data["config_tail"]),
            preprocessor_entry=tuple(data["preprocessor"]["entry"]),
            preprocessor_files=data["preprocessor"]["files"],
        )
    except (KeyError, TypeError) as error:
        raise KnowledgeBaseError(f"knowledge base is malformed: {error}") from None


def data_name(line: str) -> str:
    return f"mbedtls-{line}.json"


@lru_cache(maxsize=None)
def load(line: str) -> KnowledgeBase:
    """The committed knowledge base of an mbedTLS line ("2.28" or "3.6")."""
    if line not in LINES:
        raise KnowledgeBaseError(
            f"no knowledge base for mbedTLS {line} (known: {', '.join(LINES)})"
        )
    try:
        text = resources.read_text(f"kb/{data_name(line)}")
    except ConfiggenError:
        raise KnowledgeBaseError(
            f"knowledge base {data_name(line)} is missing",
            hint="regenerate it with 'configgen kb extract'",
        ) from None
    return from_dict(json.loads(text))
