"""Facts + board + policy -> requirements, each with the fact and source behind it. Pure.

Choices made here, in order:
1. the TLS version: the one both sides allow that costs least (TLS 1.2 unless the server or
   the policy wants 1.3 only; "balanced" keeps both when both work);
2. the suites: those the server accepted, less what the policy refuses (CBC, no forward
   secrecy, weak, PSK without a key), ranked by how many options each adds to what is
   already needed (the knowledge base's closure decides), the board's accelerated cipher and
   the server's order breaking ties; "minimal" takes one, "balanced" adds a fallback of
   another family;
3. the groups for the key exchange, the same way;
4. what each certificate needs to be parsed and verified (signature algorithm, key, curve,
   modulus size), for the server's chain, the trust anchors and the client certificate;
5. record buffer sizes from the sizes the server really sent, and max_fragment_length when
   the board's heap cannot hold 16 KiB records and the server honours it;
6. extensions the server uses (EMS, SNI, ALPN, ETM), never one it chokes on;
7. the board's platform (entropy, clock, sockets) and the profile's overrides.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace
from typing import Sequence

from configgen import chain, costs, handshake_model
from configgen.model.certificates import CertFacts, KeyFacts, KeyType, PublicKeyFacts
from configgen.errors import ResolveConflict
from configgen.kb import closure, releases
from configgen.kb.model import KnowledgeBase, Suite
from configgen.model.facts import ServerFacts
from configgen.model.inputs import Certificate, ProbedServer
from configgen.model.profile import RECORD_MAX, Board, Margin, Policy, Profile, Server
from configgen.model.requirements import Forbid, Need, Requirement, Requirements
from configgen.resolve import VALUE_OPTIONS, want_of
from configgen import verdicts
from configgen.model.verdicts import Role, Severity

_TLS13_ONLY = "1.3"
# What the integrator note for SHA-1-signed chains says (configgen's test client, which
# verifies generated headers, does the same when the header carries it).
SHA1_PROFILE_NOTE = "with a verification profile that allows SHA-1"
# What mbedTLS keeps besides the two record buffers during a handshake, roughly: contexts,
# the parsed chain, key exchange working memory (bytes; measured 8.5 KiB for P-256 chains and
# 19.4 KiB for an RSA-4096 chain, bench/e2e_footprint.py). Used to decide whether a board's
# heap calls for max_fragment_length, and to warn when it cannot hold a handshake.
_HANDSHAKE_WORKING_SET = 20 * 1024
_MFL_SIZES = (512, 1024, 2048, 4096)
# Extension names (as the probe reports them) -> the option that makes mbedTLS send them.
_EXTENSION_OPTIONS = {
    "server_name": "MBEDTLS_SSL_SERVER_NAME_INDICATION",
    "extended_master_secret": "MBEDTLS_SSL_EXTENDED_MASTER_SECRET",
    "encrypt_then_mac": "MBEDTLS_SSL_ENCRYPT_THEN_MAC",
    "session_ticket": "MBEDTLS_SSL_SESSION_TICKETS",
    "max_fragment_length": "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH",
    "application_layer_protocol_negotiation": "MBEDTLS_SSL_ALPN",
    "record_size_limit": "MBEDTLS_SSL_RECORD_SIZE_LIMIT",
}


@dataclass(frozen=True)
class Inputs:
    """Everything derive looks at."""

    profile: Profile
    servers: tuple[ProbedServer, ...]
    anchors: tuple[Certificate, ...]
    client: tuple[Certificate, ...]  # the device's own chain, leaf first
    pem: bool  # trust anchors / client credentials are embedded as PEM
    at: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # when chains are checked
    notes: tuple[str, ...] = ()  # where facts came from, when the integrator should know
    release: releases.ReleaseFacts | None = None  # the target release's facts (default: the KB's)
    client_key: KeyFacts | None = None  # the device's private key ([client].key)


def _release(inputs: Inputs, kb: KnowledgeBase) -> releases.ReleaseFacts:
    """The facts of the release the header is for: the one given, else the KB's own."""
    return inputs.release or releases.facts_for(kb.version)


def _req(need: Need, value: object, via: str, **extra: object) -> Requirement:
    return Requirement(need, value, via, **extra)  # type: ignore[arg-type]


def derive(inputs: Inputs, kb: KnowledgeBase) -> Requirements:
    """The requirements of a project on one mbedTLS line."""
    profile = inputs.profile
    policy = profile.policy
    where = profile.path.name
    items: list[Requirement] = [
        _req(Need.FEATURE, "client", "every device: a TLS client"),
        _req(Need.FEATURE, "rng", "every device: the handshake needs random numbers"),
        _req(Need.FEATURE, "verify", "every device: the server's certificate is verified"),
    ]
    items += _board(profile.board)
    forbid: list[Forbid] = []
    notes: list[str] = list(inputs.notes)
    warnings: list[str] = []
    suites: list[int] = []
    signatures: list[Requirement] = []
    certificate_notes: list[str] = []
    certificates = _certificates(inputs, kb, policy, certificate_notes)  # known before suites are weighed
    for probed in inputs.servers:
        server, facts = probed.server, probed.facts
        found, handshakes = _server(probed, inputs, kb, policy, items, notes, warnings, certificates)
        suites += [s for s in found if s not in suites]
        signatures += _signatures(server.name, handshakes)
        forbid += _intolerance(server, facts)
    items += certificates
    notes += certificate_notes
    items += _adding(kb, items, signatures + _device_key(inputs, kb))
    items += _ecc_memory(items, policy)
    if inputs.pem:
        items.append(_req(Need.FEATURE, "pem", f"{where}: [trust].format = \"pem\""))
    items += [_req(Need.OPTION, (o.name, o.value), f"{where}: [overrides.enable] {o.reason}")
              for o in profile.enable]
    forbid += [Forbid(o.name, f"{where}: [overrides.disable] {o.reason}") for o in profile.disable]
    notes += _release(inputs, kb).notes
    return Requirements(tuple(items), tuple(forbid), tuple(suites), tuple(notes), tuple(warnings))


def _ecc_memory(items: Sequence[Requirement], policy: Policy) -> list[Requirement]:
    """With margin "minimal", elliptic-curve arithmetic keeps its working memory small, as
    mbedTLS's own low-RAM config (configs/config-suite-b.h) does: slower, a few KiB less heap."""
    if policy.margin is not Margin.MINIMAL or not any(r.need is Need.GROUP for r in items):
        return []
    via = "[policy].margin = \"minimal\": ECC working memory kept small, as configs/config-suite-b.h"
    return [
        _req(Need.OPTION, ("MBEDTLS_ECP_WINDOW_SIZE", "2"), via,
             derivation="2: smaller precomputed tables (mbedTLS default 4), slower point multiplication"),
        _req(Need.OPTION, ("MBEDTLS_ECP_FIXED_POINT_OPTIM", "0"), via,
             derivation="0: no fixed-point speed-up tables"),
    ]


# --- board -----------------------------------------------------------------------------------


def _board(board: Board) -> list[Requirement]:
    via = f"board {board.name} ({board.source})"
    found = []
    if board.entropy == "hardware":
        found.append(_req(Need.FEATURE, "entropy_hardware", f"{via}: entropy = \"hardware\""))
    if board.time == "wall-clock":
        found.append(_req(Need.FEATURE, "time_date", f"{via}: time = \"wall-clock\""))
    elif board.time == "uptime":
        found.append(_req(Need.FEATURE, "time", f"{via}: time = \"uptime\""))
    if board.network == "bsd-sockets":
        found.append(_req(Need.FEATURE, "net", f"{via}: network = \"bsd-sockets\""))
    found += [_req(Need.OPTION, (name, None), f"{via}: {reason}") for name, reason in board.platform_enable]
    return found


# --- one server ------------------------------------------------------------------------------


def _server(
    probed: ProbedServer,
    inputs: Inputs,
    kb: KnowledgeBase,
    policy: Policy,
    items: list[Requirement],
    notes: list[str],
    warnings: list[str],
    known: Sequence[Requirement],
) -> tuple[list[int], list[handshake_model.Handshake]]:
    """One server's version, suites, groups, extensions and buffers; `known` are the
    certificates' requirements, which weigh into what each suite adds."""
    server, facts = probed.server, probed.facts
    name = server.name
    sent = list(probed.sent)
    _check_algorithms(server, sent, kb)
    _check_chain(server, sent, inputs, kb)
    versions = _versions(server, facts, kb, policy)
    chosen_suites: list[int] = []
    base = _options_so_far(kb, [*items, *known])
    for version in versions:
        items.append(_req(Need.FEATURE, f"tls{version.replace('.', '_')}",
                          f"{name}: accepts TLS {', '.join(facts.versions)}; TLS {version} chosen"
                          + ("" if len(versions) == 1 else " (balanced: both)")))
    client_auth = _client_auth(server, facts, inputs, notes)
    handshakes: list[handshake_model.Handshake] = []
    for version in versions:
        picked, groups = _pick(name, facts, kb, policy, inputs.profile.board, version, base,
                               sent[0] if sent else None)
        for suite, why in picked:
            items.append(_req(Need.SUITE, suite.id, f"{name}: {why}", weakens=_weakening(suite)))
            chosen_suites.append(suite.id)
        items += groups
        base = _options_so_far(kb, [*items, *known])
        chosen_group = next((str(g.value) for g in groups if g.need is Need.GROUP), None)
        handshakes += [_handshake(version, suite, chosen_group, facts, sent, inputs, kb, client_auth)
                       for suite, _ in picked]
    items += _extensions(server, facts, kb, versions, chosen_suites, policy)
    items += _sizes(server, facts, inputs, kb, versions, notes, warnings, handshakes)
    return chosen_suites, handshakes


def _client_auth(server: Server, facts: ServerFacts, inputs: Inputs, notes: list[str]) -> bool:
    """Whether the server asks for a client certificate; stop when it requires one the
    profile does not name. A server that only asks gets an empty Certificate."""
    request = facts.client_auth
    if request is None:
        return False
    if inputs.client:
        return True
    if request.required is False:
        notes.append(f"{server.name}: the server asks for a client certificate but completes the "
                     "handshake without one (it was tried); the device sends none")
        return True
    what = ("requires a client certificate (it refused a handshake without one)" if request.required
            else "asks for a client certificate (whether it also accepts none could not be told)")
    raise ResolveConflict(
        f"the server {what} and the profile names none",
        where=server.name,
        hint="add [client] cert = ... and key = ... to the profile",
    )


def _check_algorithms(server: Server, sent: Sequence[CertFacts], kb: KnowledgeBase) -> None:
    """Stop, naming the algorithm, when the server's chain uses a key, curve or signature no
    configuration of this line implements (a root the server also sends is skipped by mbedTLS
    when it cannot be parsed, so only the certificates it must parse count)."""
    for index, cert in enumerate(sent):
        if cert.self_issued and index > 0:
            continue
        verdict = verdicts.certificate_verdict(cert, kb, Role.PRESENTED)
        for problem in verdict.problems:
            if problem.severity is Severity.ERROR and problem.code in _UNSUPPORTED:
                raise ResolveConflict(
                    problem.message, where=f"{server.name} chain[{index}]",
                    hint=f"ask the server's operator for a certificate the device can verify: {problem.fix}",
                )


_UNSUPPORTED = ("unsupported-key", "unsupported-signature", "unsupported-curve")


def _handshake(version: str, suite: Suite, group: str | None, facts: ServerFacts,
               sent: Sequence[CertFacts], inputs: Inputs, kb: KnowledgeBase,
               client_auth: bool) -> handshake_model.Handshake:
    """The model of the handshake with this suite (and the server's DH group, if DHE)."""
    bits = next((int(g["bits"]) for g in kb.x509.get("groups", ()) if g["name"] == group), None)
    prime = next((f.dh_prime_bits for f in facts.key_exchanges
                  if f.key_exchange == suite.key_exchange and f.dh_prime_bits), None)
    return handshake_model.model(version, suite.key_exchange, group, bits, prime, sent,
                                 [c.facts for c in inputs.client], client_auth, suite.name)


def _device_key(inputs: Inputs, kb: KnowledgeBase) -> list[Requirement]:
    """What loading the device's private key needs (its type, and what decrypts it); a key
    that is not the certificate's is an error naming both files."""
    key = inputs.client_key
    if key is None or not inputs.client:
        return []
    cert = inputs.client[0]
    if not verdicts.matches(cert.facts, key):
        raise ResolveConflict(
            f"is not the private key of {cert.where} ('{cert.facts.display_name}')", where=key.source,
            hint="[client].key must hold the private half of [client].cert's public key")
    needs, problems = verdicts.key_verdict(key, kb)
    for problem in problems:
        if problem.severity is Severity.ERROR:
            raise ResolveConflict(problem.message, where=key.source, hint=problem.fix)
    found = []
    for need in needs:
        if need.option == VALUE_OPTIONS[Need.MPI_BYTES] and need.value is not None:
            found.append(_req(Need.MPI_BYTES, int(need.value), need.reason))
        elif need.value is None:
            found.append(_req(Need.OPTION, (need.option, None), need.reason,
                              weakens=need.reason if need.weakens else None))
    return found


def _adding(kb: KnowledgeBase, items: Sequence[Requirement], more: Sequence[Requirement]) -> list[Requirement]:
    """Those of `more` that need something `items` do not already want (so a via line is
    written only where the reason adds an option; options the closure picked only to calm an
    #error do not count, the final set may do without them)."""
    outcome = kb.evaluate(_options_so_far(kb, items))

    def want(r: Requirement) -> str | None:
        if r.need is Need.OPTION and r.value[1] is None:  # type: ignore[index]
            return f"defined({r.value[0]})"  # type: ignore[index]
        return _safe_want(r, kb)

    return [r for r in more if (w := want(r)) is None or not outcome.holds(w)]


def _signatures(name: str, handshakes: Sequence[handshake_model.Handshake]) -> list[Requirement]:
    """What verifying and making each signature of the handshakes needs: the padding or
    ECDSA, the hash the scheme fixes, the signing key's curve."""
    found: list[Requirement] = []
    for handshake in handshakes:
        if handshake.prf:
            found.append(_req(Need.HASH, handshake.prf, f"{name}: TLS 1.2's PRF runs on {handshake.prf}"))
        for sig in handshake.signatures:
            what = f"{name}: {sig.what}"
            verb = "sign" if sig.makes else "verify"
            found.append(_req(Need.FEATURE, f"{verb}_{sig.scheme}", what))
            if sig.hash and sig.hash != "SHA-1":
                found.append(_req(Need.HASH, sig.hash, what))
            if sig.curve:
                found.append(_req(Need.GROUP, sig.curve, what))
    return found


# Verify flags a device without a wall clock never raises (it does not check dates).
_DATE_FLAGS = ("MBEDTLS_X509_BADCERT_EXPIRED", "MBEDTLS_X509_BADCERT_FUTURE")
# What the default verification profile raises for a signature hash it refuses (SHA-1).
_BAD_MD = "MBEDTLS_X509_BADCERT_BAD_MD"


def _profile_refuses(cert: CertFacts, kb: KnowledgeBase) -> bool:
    allowed = kb.x509["default_profile"]["hashes"]
    return cert.signature.hash is not None and cert.signature.hash not in allowed


def _check_chain(server: Server, sent: Sequence[CertFacts], inputs: Inputs, kb: KnowledgeBase) -> None:
    """Stop when the server's chain would not verify against the profile's trust anchors:
    a header cannot fix that, and one that 'works' would have to turn verification off."""
    if not sent or not inputs.anchors:
        return
    host = server.sni or server.host
    report = chain.diagnose(sent, [a.facts for a in inputs.anchors], host, inputs.at, kb)
    no_clock = inputs.profile.board.time != "wall-clock"
    ignored = sum(f.bit for f in kb.verify_flags if f.name in _DATE_FLAGS) if no_clock else 0
    refused = [c for c in sent if not c.self_issued and _profile_refuses(c, kb)]
    if inputs.profile.policy.allow_sha1 and refused and all(c.signature.hash == "SHA-1" for c in refused):
        ignored |= sum(f.bit for f in kb.verify_flags if f.name == _BAD_MD)  # see _certificates
    flags = report.flags & ~ignored
    if not report.verified or not flags:
        return
    date_codes = ("expired", "not-yet-valid") if no_clock else ()
    errors = [f for f in report.findings if f.severity.value == "error" and f.code not in date_codes]
    first = errors[0] if errors else None
    names = ", ".join(n.removeprefix("MBEDTLS_X509_") for n in report.flag_names)
    raise ResolveConflict(
        f"the server's chain does not verify against the trust anchors (flags 0x{flags:02X}: {names})"
        + (f": {first.message}" if first else ""),
        where=server.name,
        hint=first.fix if first else "configgen inspect the chain with --ca to see why",
    )


def _versions(server: Server, facts: ServerFacts, kb: KnowledgeBase, policy: Policy) -> list[str]:
    line_can = ("1.2", "1.3") if kb.line == "3.6" else ("1.2",)
    possible = [v for v in ("1.2", "1.3") if v in facts.versions and v in policy.tls and v in line_can]
    if not possible:
        offered = ", ".join(facts.versions) or "no version configgen could negotiate"
        raise ResolveConflict(
            f"the server accepts TLS {offered}; the policy allows {', '.join(policy.tls)} "
            f"and mbedTLS {kb.line} speaks {', '.join(line_can)}",
            where=server.name,
            hint="use mbedTLS 3.6 for a TLS 1.3-only server" if "1.3" in facts.versions else None,
        )
    if policy.margin is Margin.BALANCED:
        return possible
    return possible[:1]  # TLS 1.2 first: smaller (no PSA crypto) when the server allows it


def _options_so_far(kb: KnowledgeBase, items: Sequence[Requirement]) -> dict[str, str | None]:
    """What the requirements so far need, without the options the closure picked only to
    calm an #error (such as "some curve"): those must not make one candidate look free."""
    wants = [w for r in items if (w := _safe_want(r, kb)) is not None]
    explained: dict[str, tuple[str, str]] = {}
    try:
        options = closure.enable(kb, {}, wants, explain=explained)
    except ResolveConflict:
        return {}
    return {k: v for k, v in options.items() if explained.get(k, ("want",))[0] == "want"}


def _safe_want(r: Requirement, kb: KnowledgeBase) -> str | None:
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


def _weakening(suite: Suite) -> str | None:
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
                want = _safe_want(_req(Need.GROUP, group, ""), kb)
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


def _pick(name: str, facts: ServerFacts, kb: KnowledgeBase, policy: Policy, board: Board, version: str,
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
    groups = [_req(Need.GROUP, c.group, f"{name}: {label} on {c.group} (the server accepts {', '.join(offered)})")
              for c in chosen]
    if first.group is None:
        groups += _dhe(name, facts, picked)
    return picked, groups


def _dhe(name: str, facts: ServerFacts, picked: Sequence[tuple[Suite, str]]) -> list[Requirement]:
    found = []
    for fact in facts.key_exchanges:
        if fact.dh_prime_bits and any(s.key_exchange == fact.key_exchange for s, _ in picked):
            found.append(_req(Need.MPI_BYTES, (fact.dh_prime_bits + 7) // 8,
                              f"{name}: DHE prime of {fact.dh_prime_bits} bits",
                              derivation=f"DHE-{fact.dh_prime_bits}: {fact.dh_prime_bits} bits = {(fact.dh_prime_bits + 7) // 8} bytes"))
    return found


def _extensions(server: Server, facts: ServerFacts, kb: KnowledgeBase, versions: Sequence[str],
                suites: Sequence[int], policy: Policy) -> list[Requirement]:
    ext = facts.extensions
    name = server.name
    blamed = set(facts.intolerance.blamed)
    found = []
    if "1.2" in versions and ext.extended_master_secret and "extended_master_secret" not in blamed:
        found.append(_req(Need.FEATURE, "ems", f"{name}: supports extended master secret (RFC 7627)"))
    if ext.sni_required or ext.sni_changes_chain or policy.margin is Margin.BALANCED or server.sni:
        if "server_name" in blamed:
            raise ResolveConflict("the server needs SNI but chokes on the server_name extension", where=name)
        why = ("refuses the handshake without SNI" if ext.sni_required else
               "sends another chain without SNI" if ext.sni_changes_chain else
               f"[server].sni = {server.sni!r}" if server.sni else "balanced: send SNI")
        found.append(_req(Need.FEATURE, "sni", f"{name}: {why}"))
    if server.alpn:
        found.append(_req(Need.FEATURE, "alpn", f"{name}: ALPN {', '.join(server.alpn)}"
                          + (f" (the server chose {ext.alpn})" if ext.alpn else "")))
    cbc = any("cbc" in suite.flags for s in suites if (suite := kb.suite(s)) is not None)
    if cbc and ext.encrypt_then_mac and "encrypt_then_mac" not in blamed:
        found.append(_req(Need.FEATURE, "etm", f"{name}: supports encrypt-then-MAC for its CBC suite"))
    return found


def _intolerance(server: Server, facts: ServerFacts) -> list[Forbid]:
    return [
        Forbid(_EXTENSION_OPTIONS[ext], f"{server.name}: the server chokes on the {ext} extension")
        for ext in facts.intolerance.blamed
        if ext in _EXTENSION_OPTIONS
    ]


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def _sizes(server: Server, facts: ServerFacts, inputs: Inputs, kb: KnowledgeBase, versions: Sequence[str],
           notes: list[str], warnings: list[str], handshakes: Sequence[handshake_model.Handshake]) -> list[Requirement]:
    name = server.name
    board = inputs.profile.board
    sizes = facts.sizes
    handshake = 0
    how = "no handshake sizes recorded: the largest TLS record"
    if sizes is not None:
        message = sizes.largest_message
        if message is not None and message.size > RECORD_MAX:
            raise ResolveConflict(
                f"the server's {message.message} message is {message.size:,} bytes; mbedTLS holds a "
                f"whole handshake message in its input buffer, and no configuration of mbedTLS "
                f"{kb.line} allows more than {RECORD_MAX:,} bytes (MBEDTLS_SSL_IN_CONTENT_LEN): the "
                "handshake would fail (-0x7100 on 3.6, -0x7080 on 2.28)",
                where=name,
                hint="ask the server's operator for a shorter chain: fewer or smaller certificates "
                "(ECDSA instead of large RSA keys), without the root and cross-signatures",
            )
        release = _release(inputs, kb)
        lacking = release.lacks(releases.HANDSHAKE_REASSEMBLY)
        if lacking and message is not None and message.records > 1:
            raise ResolveConflict(
                f"the server splits its {message.message} message ({message.size} bytes) over "
                f"{message.records} records, which mbedTLS {release.release} cannot reassemble (-0x7080)",
                where=name,
                hint=lacking.fix,
            )
        candidates = [(sizes.largest_record, "largest handshake record")]
        if message is not None:
            candidates.append((message.size, f"{message.message} message"))
        if "1.3" in versions and sizes.tls13_largest_record:
            candidates.append((sizes.tls13_largest_record, "largest TLS 1.3 record"))
        handshake, what = max(candidates)
        how = f"{what} {handshake:,} bytes"
    app = server.app_record_max or RECORD_MAX
    app_how = (f"[server].app_record_max = {server.app_record_max}" if server.app_record_max
               else "application records up to 16,384 bytes (TLS maximum)")
    out, out_how = _out_size(handshakes, inputs.profile.policy.margin)
    found: list[Requirement] = []
    mfl = None
    budget = board.heap_kib * 1024
    if handshake and app > handshake and app + out + _HANDSHAKE_WORKING_SET > budget:
        honoured = [s for s in facts.extensions.max_fragment_lengths if s in _MFL_SIZES]
        fitting = [s for s in honoured if _release(inputs, kb).has(releases.HANDSHAKE_REASSEMBLY) or s >= handshake]
        if fitting:
            mfl = min(fitting)
            found.append(_req(Need.FEATURE, "max_fragment_length",
                              f"{name}: honours max_fragment_length {mfl}; board {board.name} has {board.heap_kib} KiB of heap"))
            notes.append(f"{name}: call mbedtls_ssl_conf_max_frag_len(&conf, MBEDTLS_SSL_MAX_FRAG_LEN_{mfl}) "
                         "before mbedtls_ssl_setup(), or the server sends 16 KiB records")
            app, app_how = mfl, f"max_fragment_length {mfl}"
            out = max(out, mfl)
    margin = inputs.profile.policy.margin
    size = _buffer(max(handshake, app), margin)
    warning = _heap_warning(server, inputs.profile, size, out, _buffer(handshake, margin))
    if warning:
        warnings.append(warning)
    found.append(_req(Need.IN_CONTENT, size, f"{name}: {how}; {app_how}",
                      derivation=f"max({handshake:,}, {app:,}) bytes, margin \"{margin.value}\""))
    found.append(_req(Need.OUT_CONTENT, out, f"{name}: the device's own handshake messages",
                      derivation=f"{out:,} bytes: {out_how}"))
    return found


def _buffer(need: int, margin: Margin) -> int:
    """A record buffer's size for `need` bytes: exact with margin "minimal", a quarter more
    with "balanced"; never above a full TLS record."""
    size = _round_up(need, 256) if margin is Margin.MINIMAL else _round_up(need * 5 // 4, 1024)
    return min(size, RECORD_MAX)


def _heap_warning(server: Server, profile: Profile, size: int, out: int, handshake_only: int) -> str | None:
    """Why the record buffers (as the header will set them, overrides included) and a
    handshake's working memory may not fit the board's heap, and what to do; None when they fit."""
    board = profile.board
    buffers = (VALUE_OPTIONS[Need.IN_CONTENT], VALUE_OPTIONS[Need.OUT_CONTENT])
    overridden = {o.name: int(o.value) for o in profile.enable
                  if o.name in buffers and o.value is not None and o.value.isascii() and o.value.isdigit()}
    size, out = overridden.get(buffers[0], size), overridden.get(buffers[1], out)
    total = size + out
    if total + _HANDSHAKE_WORKING_SET <= board.heap_kib * 1024:
        return None
    if overridden:
        what = f"lower {', '.join(overridden)} in [overrides.enable], or give TLS more heap"
    elif server.app_record_max is None and handshake_only < size:
        what = (f"set [server].app_record_max if its application messages are smaller (the handshake "
                f"needs {handshake_only:,} bytes), or give TLS more heap")
    else:
        what = "give TLS more heap"
    return (f"{server.name}: board {board.name} has {board.heap_kib} KiB of heap; the record buffers take "
            f"{total:,} bytes (input {size:,}, output {out:,}) and a handshake about "
            f"{_HANDSHAKE_WORKING_SET // 1024} KiB more, so mbedtls_ssl_setup() or the handshake may "
            f"fail with MBEDTLS_ERR_SSL_ALLOC_FAILED (-0x7F00): {what}")


def _out_size(handshakes: Sequence[handshake_model.Handshake], margin: Margin) -> tuple[int, str]:
    """The outgoing buffer: the largest message the device sends in any handshake it may run
    (an output buffer too small for a DHE ClientKeyExchange is also a known defect,
    releases.toml dhm-client-key-exchange-overflow); "balanced" keeps 2 KiB for application writes."""
    largest = max((h.largest_sent for h in handshakes), key=lambda m: m.size,
                  default=handshake_model.Message("ClientHello", handshake_model.CLIENT_HELLO_MAX,
                                                  "the ClientHello"))
    floor = 2048 if margin is Margin.BALANCED else 0
    size = _round_up(max(largest.size, floor), 256)
    how = (f"the {largest.name}, {largest.size:,} bytes ({largest.derivation})"
           if largest.name != "ClientHello" else "the ClientHello")
    return size, how + (", at least 2,048 (balanced)" if largest.size < floor else "")


# --- certificates ----------------------------------------------------------------------------


def _critical_extensions(cert: Certificate, kb: KnowledgeBase, policy: Policy, notes: list[str]) -> list[Requirement]:
    """Critical extensions mbedTLS cannot process: the 2.28 option, the 3.6 callback (for
    certificates the application parses itself), or a stop. Only with the policy's consent."""
    role = Role.PRESENTED if cert.role == "server" else Role.ANCHOR
    verdict = verdicts.certificate_verdict(cert.facts, kb, role)
    problems = [p for p in verdict.problems if p.code == "unsupported-critical-extension"]
    if not problems:
        return []
    problem = problems[0]
    where = cert.where
    if problem.severity is Severity.ERROR:
        raise ResolveConflict(problem.message, where=where, hint=problem.fix)
    if not policy.allow_unsupported_critical_extensions:
        raise ResolveConflict(
            problem.message, where=where,
            hint="if you accept that its constraint is not enforced, set "
            "[policy].allow_unsupported_critical_extensions = true (see configgen inspect)",
        )
    needs = [n for n in verdict.needs if n.weakens and n.option == kb.x509.get("critical_extension_option")]
    if needs:
        return [_req(Need.FEATURE, "critical_extensions", f"{where}: {problem.message}",
                     weakens="unsupported critical extensions are skipped, in the server's chain "
                     "too: allowed by [policy].allow_unsupported_critical_extensions = true")]
    notes.append(f"{where}: parse it with {kb.x509.get('extension_callback')}() and the callback "
                 f"'configgen inspect {where} --mbedtls {kb.line}' prints ({problem.message})")
    return []


def _certificates(inputs: Inputs, kb: KnowledgeBase, policy: Policy, notes: list[str]) -> list[Requirement]:
    found: list[Requirement] = []
    mpi = 0
    mpi_via = ""
    sha1_note = (f"no option of mbedTLS {kb.line} makes its default verification profile accept "
                 "SHA-1 signatures ([policy].allow_sha1 only compiles SHA-1 in): call "
                 "mbedtls_ssl_conf_cert_profile(&conf, &profile) " + SHA1_PROFILE_NOTE + " "
                 "(a copy of mbedtls_x509_crt_profile_default with "
                 "MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1) added to allowed_mds)")
    asked = any(s.facts.client_auth is not None for s in inputs.servers)
    everything = list(inputs.anchors) + [
        Certificate(cert, f"{s.server.name} chain[{i}]", "server")
        for s in inputs.servers
        for i, cert in enumerate(s.parsed)
    ] + list(inputs.client)
    for s in inputs.servers:  # roots the server sends are parsed too
        for i, sent in enumerate(s.sent):
            if sent.subject == sent.issuer:
                found += _critical_extensions(Certificate(sent, f"{s.server.name} chain[{i}]", "server"), kb, policy, notes)
    for cert in everything:
        found += _critical_extensions(cert, kb, policy, notes)
        facts = cert.facts
        subject = facts.common_name or facts.subject
        via = f"{cert.where}: \"{subject}\""
        sig = facts.signature
        weakens = None
        if sig.hash == "SHA-1":
            if cert.role != "anchor" and not policy.allow_sha1:
                raise ResolveConflict(
                    f"\"{subject}\" is signed {sig.name}; mbedTLS's default verification profile "
                    "rejects SHA-1 signatures, and no option of any mbedTLS line changes that",
                    where=cert.where,
                    hint="replace the certificate; or, if you accept SHA-1, set [policy].allow_sha1 = "
                    "true and pass a profile that allows it with mbedtls_ssl_conf_cert_profile() in code",
                )
            if cert.role != "anchor" and sha1_note not in notes:
                notes.append(sha1_note)
            weakens = ("SHA-1 parsing: the trust anchor is self-signed with SHA-1 (its own "
                       "signature is never checked)" if cert.role == "anchor" else
                       "SHA-1 signatures: allowed by [policy].allow_sha1 = true")
        found.append(_req(Need.SIGNATURE, sig.oid, f"{via} is signed {sig.name}", weakens=weakens))
        key = facts.public_key
        found.append(_req(Need.PUBLIC_KEY, key.oid, f"{via} has {_describe_key(key)} key"))
        if key.curve:
            found.append(_req(Need.GROUP, key.curve, f"{via} has a {key.curve} key"))
        if key.type is KeyType.RSA and key.bits and (key.bits + 7) // 8 > mpi:
            mpi, mpi_via = (key.bits + 7) // 8, f"{via} has an RSA-{key.bits} key"
        if cert.role == "client" and cert is inputs.client[0]:
            if not asked and key.type is KeyType.EC:
                found.append(_req(Need.FEATURE, "sign_ecdsa", f"{via}: the device signs with its EC key"))
            elif not asked and key.type is KeyType.RSA:
                found.append(_req(Need.FEATURE, "sign_rsa_pkcs1v15", f"{via}: the device signs with its RSA key"))
            found.append(_req(Need.FEATURE, "key_parse", f"{via}: the device parses its private key"))
    if mpi:
        found.append(_req(Need.MPI_BYTES, mpi, mpi_via, derivation=f"{mpi * 8} bits = {mpi} bytes"))
    return found


def _describe_key(key: PublicKeyFacts) -> str:
    if key.type is KeyType.RSA:
        return f"an RSA-{key.bits}"
    if key.curve:
        return f"an EC {key.curve}"
    return f"a {key.type.value}"
