"""diff: what changed between two headers, for a reviewer.

Options switched on or off, values changed, suites added or removed from
MBEDTLS_SSL_CIPHERSUITES, reasons changed under an unchanged value, and the banner's
"Weakened on purpose" entries. Security-relevant changes come first (security.toml says
which options are), the rest in mbedTLS's header order. Pure over parsed headers.
"""

from __future__ import annotations


from configgen.advise.causes import Security
from configgen.model.header import Define, Header
from configgen.kb.model import KnowledgeBase
from configgen.model.findings import Change, HeaderDiff

SUITES = "MBEDTLS_SSL_CIPHERSUITES"


def _suites(define: Define | None) -> tuple[str, ...]:
    if define is None or not define.active or define.value is None:
        return ()
    return tuple(s for s in define.value.replace("\\", " ").replace(",", " ").split() if s)


def _security(kind: str, name: str, line: str, security: Security) -> str | None:
    risk = security.risk(line, name)
    if risk:
        return {"added": f"weakens security: {risk}", "removed": f"no longer weakened: {risk}"}.get(
            kind, f"risky option: {risk}")
    if security.relevant(name):
        return "security-relevant: protocols, suites, hashes, certificate checks or entropy"
    return None


def _kind(old: Define | None, new: Define | None) -> str | None:
    was = old is not None and old.active
    now = new is not None and new.active
    if was != now:
        return "added" if now else "removed"
    if old is None or new is None or not now:
        return None
    if old.value != new.value:
        return "value"
    if old.reasons != new.reasons:
        return "reasons"
    return None


def diff(old: Header, new: Header, kb: KnowledgeBase, security: Security) -> HeaderDiff:
    """The changes from `old` to `new`; `kb` (the new header's line) orders and judges them."""
    names = dict.fromkeys([d.name for d in old.defines] + [d.name for d in new.defines])
    changes = []
    for name in names:
        before, after = old.define(name), new.define(name)
        kind = _kind(before, after)
        if kind is None:
            continue
        added: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
        if name == SUITES:
            was, now = _suites(before), _suites(after)
            added = tuple(s for s in now if s not in was)
            removed = tuple(s for s in was if s not in now)
        changes.append(Change(name, kind, before, after, _security(kind, name, kb.line, security),
                              added, removed))

    def rank(change: Change) -> tuple[int, int, int]:
        option = kb.option(change.option)
        return (change.kind == "reasons", change.security is None,
                option.index if option else len(kb.options))

    return HeaderDiff(
        old.where, new.where, tuple(sorted(changes, key=rank)),
        tuple(w for w in new.weakened if w not in old.weakened),
        tuple(w for w in old.weakened if w not in new.weakened),
    )
