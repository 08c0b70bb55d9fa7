"""Which of a server's suites and groups the device offers: those the policy admits, ranked
by cost (configgen/costs.py) and by what each adds to the options already needed."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Sequence

from configgen import costs
from configgen.model.certificates import CertFacts, KeyType
from configgen.errors import ResolveConflict
from configgen.kb import closure
from configgen.kb.model import KnowledgeBase, Suite
from configgen.model.facts import ServerFacts
from configgen.model.profile import Board, Margin, Policy
from configgen.model.requirements import Need, Requirement
from configgen.resolve import want_of
from configgen.derive.inputs import requirement


def options_so_far(kb: KnowledgeBase, items: Sequence[Requirement]) -> dict[str, str | None]:
    """What the requirements so far need, without the options the closure picked only to
    calm an #error (such as "some curve"): those must not make one candidate look free."""
    wants = [w for r in items if (w := safe_want(r, kb)) is not None]
    explained: dict[str, tuple[str, str]] = {}
    try:
        options = closure.enable(kb, {}, wants, explain=explained)
    except ResolveConflict:
        return {}
    return {k: v for k, v in options.items() if explained.get(k, ("want",))[0] == "want"}


def safe_want(r: Requirement, kb: KnowledgeBase) -> str | None:
    try:
        return want_of(r, kb)
    except ResolveConflict:
        return None


def refused(suite: Suite, policy: Policy) -> str | None:
    """Why the policy refuses a suite (None: it does not)."""
    flags = set(suite.flags)
    if (flags & {"weak", "null_cipher"} or suite.cipher in ("RC4", "DES", "3DES", "NULL")) and not policy.allow_weak_ciphers:
        return "weak cipher"
    if "psk" in flags and not policy.psk:
        return "pre-shared key"
    if "cbc" in flags and not policy.allow_cbc:
        return "CBC"
    if "no_forward_secrecy" in flags and not policy.allow_no_forward_secrecy:
        return "no forward secrecy"
    return None


_ADMITTED_BY = {
    "weak cipher": "[policy].allow_weak_ciphers = true",
    "pre-shared key": "[policy].psk = true",
    "CBC": "[policy].allow_cbc = true",
    "no forward secrecy": "[policy].allow_no_forward_secrecy = true",
}


_STRICT = Policy(("1.2", "1.3"), False, False, False, False, False, False, Margin.MINIMAL, None)


def weakening(suite: Suite) -> str | None:
    """What choosing this suite weakens, and the policy key that allowed it."""
    reasons = []
    strict = _STRICT
    while (why := refused(suite, strict)) is not None and why != "pre-shared key":
        reasons.append(f"{why} ({_ADMITTED_BY[why]})")
        strict = _admit(strict, why)
    return f"{suite.name}: " + ", ".join(reasons) if reasons else None


def _admit(policy: Policy, why: str) -> Policy:
    if why == "weak cipher":
        return replace(policy, allow_weak_ciphers=True)
    if why == "CBC":
        return replace(policy, allow_cbc=True)
    assert why == "no forward secrecy", why
    return replace(policy, allow_no_forward_secrecy=True)


@dataclass(frozen=True)
class _Candidate:
    """A suite the server accepts, on the group it would use, with what it costs the device."""

    suite: Suite
    group: str | None  # the (EC)DHE group, for ECDHE suites and TLS 1.3
    cost: costs.Cost
    rank: tuple[int, ...]  # after the costs: accelerated cipher, the server's order of suites, of groups


def _candidates(facts: ServerFacts, kb: KnowledgeBase, policy: Policy, board: Board, version: str,
                base: dict[str, str | None], leaf: CertFacts | None) -> list[_Candidate]:
    """Every accepted suite the policy allows and the line compiles, on each group the server
    accepts for it, ranked by the board's priority (costs.py), then the board's accelerated
    cipher, the server's order of suites and of groups."""
    accepted = facts.tls13_suites if version == "1.3" else facts.tls12_suites
    accelerated = "AES" if "aes" in board.accelerated else None
    signer = "RSA" if leaf is not None and leaf.public_key.type is KeyType.RSA else "ECDSA"
    found = []
    for index, seen in enumerate(accepted):
        suite = kb.suite(seen.id)
        if suite is None or (suite.min_tls == "1.3") != (version == "1.3") or refused(suite, policy):
            continue
        ecdhe = version == "1.3" or suite.key_exchange.startswith(("ECDHE", "ECDH_"))
        groups: list[str | None] = list(facts.tls13_groups if version == "1.3" else facts.tls12_curves) if ecdhe else [None]
        table = f"TLS1_3_{signer}" if version == "1.3" else suite.key_exchange
        for order, group in enumerate(groups):
            wants = [suite.guard]
            if group is not None:
                want = safe_want(requirement(Need.GROUP, group, ""), kb)
                if want is None:
                    continue
                wants.append(want)
            added = _added(kb, base, wants)
            if added is None:
                continue
            on: str | int | None = group
            if group is None:
                on = next((f.dh_prime_bits for f in facts.key_exchanges
                           if f.key_exchange == suite.key_exchange and f.dh_prime_bits),
                          leaf.public_key.bits if leaf is not None else None)
            compute, heap = costs.handshake(kb.line, table, on)
            if compute is not None and heap is not None:
                more_compute, more_heap = costs.record_protection(kb.line, version, suite)
                compute, heap = compute + more_compute, heap + more_heap
            cost = costs.Cost(costs.flash(kb.line, added), compute, heap, costs.removed_next(suite.key_exchange))
            rank = (int(accelerated is not None and suite.cipher != accelerated), index, order)
            found.append(_Candidate(suite, group, cost, rank))

    def better(a: _Candidate, b: _Candidate) -> int:
        return a.cost.compare(b.cost, board.priority) or (a.rank > b.rank) - (a.rank < b.rank)

    return sorted(found, key=functools.cmp_to_key(better))


def _added(kb: KnowledgeBase, base: dict[str, str | None], wants: list[str]) -> set[str] | None:
    try:
        return set(closure.enable(kb, base, wants)) - set(base)
    except ResolveConflict:
        return None


def pick_suites(name: str, facts: ServerFacts, kb: KnowledgeBase, policy: Policy, board: Board, version: str,
                base: dict[str, str | None], leaf: CertFacts | None) -> tuple[list[tuple[Suite, str]], list[Requirement]]:
    """The suite (and with margin "balanced" a fallback of another family) and its group."""
    ranked = _candidates(facts, kb, policy, board, version, base, leaf)
    accepted = facts.tls13_suites if version == "1.3" else facts.tls12_suites
    if not ranked:
        known = [s for s in (kb.suite(a.id) for a in accepted)
                 if s is not None and (s.min_tls == "1.3") == (version == "1.3")]
        reasons = sorted({refused(s, policy) or "" for s in known} - {""})
        if known and not reasons:
            raise ResolveConflict(f"no accepted TLS {version} suite can be compiled into mbedTLS {kb.version} "
                                  "on a group the server accepts", where=name)
        raise ResolveConflict(
            f"the server accepts no TLS {version} suite that mbedTLS {kb.version} implements "
            f"and the policy allows (refused: {', '.join(reasons) or 'none offered'})",
            where=name,
            hint=" or ".join(_ADMITTED_BY[r] for r in reasons if r in _ADMITTED_BY) or "configgen probe the server to see what it accepts",
        )
    first = ranked[0]
    runner = next((c for c in ranked if c.suite.id != first.suite.id), None)
    why = (f"accepts {first.suite.hex} {first.suite.name} (one of {len(accepted)} accepted TLS {version} suites; "
           f"by the board's priority, {', '.join(board.priority)}: {first.cost.describe()}"
           + (f"; runner-up {runner.suite.hex} {runner.suite.name}: {runner.cost.describe(first.cost)})"
              if runner else ")"))
    picked = [(first.suite, why)]
    chosen = [first] if first.group else []
    if policy.margin is Margin.BALANCED:
        fallback = next((c for c in ranked if (c.suite.cipher, c.suite.mac) != (first.suite.cipher, first.suite.mac)), None)
        if fallback is not None:
            picked.append((fallback.suite, f"accepts {fallback.suite.hex} {fallback.suite.name} (balanced: fallback of another family)"))
        spare = next((c for c in ranked if c.suite.id == first.suite.id and c.group not in (None, first.group)), None)
        chosen += [spare] if spare else []
    label = "TLS 1.3 key share" if version == "1.3" else "ECDHE"
    offered = facts.tls13_groups if version == "1.3" else facts.tls12_curves
    groups = [requirement(Need.GROUP, c.group, f"{name}: {label} on {c.group} (the server accepts {', '.join(offered)})")
              for c in chosen]
    if first.group is None:
        groups += _dhe(name, facts, picked)
    return picked, groups


def _dhe(name: str, facts: ServerFacts, picked: Sequence[tuple[Suite, str]]) -> list[Requirement]:
    found = []
    for fact in facts.key_exchanges:
        if fact.dh_prime_bits and any(s.key_exchange == fact.key_exchange for s, _ in picked):
            found.append(requirement(Need.MPI_BYTES, (fact.dh_prime_bits + 7) // 8,
                                     f"{name}: DHE prime of {fact.dh_prime_bits} bits",
                                     derivation=f"DHE-{fact.dh_prime_bits}: {fact.dh_prime_bits} bits = {(fact.dh_prime_bits + 7) // 8} bytes"))
    return found
