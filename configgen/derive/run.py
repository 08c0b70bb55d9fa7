"""derive(): the requirements of a project on one mbedTLS line, part by part (the board, each
server, the certificates, the device's own key, the overrides)."""

from __future__ import annotations

from typing import Sequence

from configgen import handshake_model
from configgen.model.certificates import CertFacts
from configgen.errors import ResolveConflict
from configgen.kb.model import KnowledgeBase, Suite
from configgen.model.facts import ServerFacts
from configgen.model.inputs import ProbedServer
from configgen.model.profile import Board, Margin, Policy, Server
from configgen.model.requirements import Forbid, Need, Requirement, Requirements
from configgen.resolve import VALUE_OPTIONS
from configgen import verdicts
from configgen.model.verdicts import Severity
from configgen.derive.certificates import certificate_needs, check_algorithms, check_chain
from configgen.derive.extensions import extension_needs, intolerance_forbids
from configgen.derive.inputs import Inputs, release_facts, requirement
from configgen.derive.sizes import buffer_sizes
from configgen.derive.suites import options_so_far, pick_suites, safe_want, weakening


def derive(inputs: Inputs, kb: KnowledgeBase) -> Requirements:
    """The requirements of a project on one mbedTLS line."""
    profile = inputs.profile
    policy = profile.policy
    where = profile.path.name
    items: list[Requirement] = [
        requirement(Need.FEATURE, "client", "every device: a TLS client"),
        requirement(Need.FEATURE, "rng", "every device: the handshake needs random numbers"),
        requirement(Need.FEATURE, "verify", "every device: the server's certificate is verified"),
    ]
    items += _board(profile.board)
    forbid: list[Forbid] = []
    notes: list[str] = list(inputs.notes)
    warnings: list[str] = []
    suites: list[int] = []
    signatures: list[Requirement] = []
    certificate_notes: list[str] = []
    certificates = certificate_needs(inputs, kb, policy, certificate_notes)  # known before suites are weighed
    for probed in inputs.servers:
        server, facts = probed.server, probed.facts
        found, handshakes = _server(probed, inputs, kb, policy, items, notes, warnings, certificates)
        suites += [s for s in found if s not in suites]
        signatures += _signatures(server.name, handshakes)
        forbid += intolerance_forbids(server, facts)
    items += certificates
    notes += certificate_notes
    items += _adding(kb, items, signatures + _device_key(inputs, kb))
    items += _ecc_memory(items, policy)
    if inputs.pem:
        items.append(requirement(Need.FEATURE, "pem", f"{where}: [trust].format = \"pem\""))
    items += [requirement(Need.OPTION, (o.name, o.value), f"{where}: [overrides.enable] {o.reason}")
              for o in profile.enable]
    forbid += [Forbid(o.name, f"{where}: [overrides.disable] {o.reason}") for o in profile.disable]
    notes += release_facts(inputs, kb).notes
    return Requirements(tuple(items), tuple(forbid), tuple(suites), tuple(notes), tuple(warnings))


def _ecc_memory(items: Sequence[Requirement], policy: Policy) -> list[Requirement]:
    """With margin "minimal", elliptic-curve arithmetic keeps its working memory small, as
    mbedTLS's own low-RAM config (configs/config-suite-b.h) does: slower, a few KiB less heap."""
    if policy.margin is not Margin.MINIMAL or not any(r.need is Need.GROUP for r in items):
        return []
    via = "[policy].margin = \"minimal\": ECC working memory kept small, as configs/config-suite-b.h"
    return [
        requirement(Need.OPTION, ("MBEDTLS_ECP_WINDOW_SIZE", "2"), via,
                    derivation="2: smaller precomputed tables (mbedTLS default 4), slower point multiplication"),
        requirement(Need.OPTION, ("MBEDTLS_ECP_FIXED_POINT_OPTIM", "0"), via,
                    derivation="0: no fixed-point speed-up tables"),
    ]


def _board(board: Board) -> list[Requirement]:
    via = f"board {board.name} ({board.source})"
    found = []
    if board.entropy == "hardware":
        found.append(requirement(Need.FEATURE, "entropy_hardware", f"{via}: entropy = \"hardware\""))
    if board.time == "wall-clock":
        found.append(requirement(Need.FEATURE, "time_date", f"{via}: time = \"wall-clock\""))
    elif board.time == "uptime":
        found.append(requirement(Need.FEATURE, "time", f"{via}: time = \"uptime\""))
    if board.network == "bsd-sockets":
        found.append(requirement(Need.FEATURE, "net", f"{via}: network = \"bsd-sockets\""))
    found += [requirement(Need.OPTION, (name, None), f"{via}: {reason}") for name, reason in board.platform_enable]
    return found


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
    check_algorithms(server, sent, kb)
    check_chain(server, sent, inputs, kb)
    versions = _versions(server, facts, kb, policy)
    chosen_suites: list[int] = []
    base = options_so_far(kb, [*items, *known])
    for version in versions:
        items.append(requirement(Need.FEATURE, f"tls{version.replace('.', '_')}",
                                 f"{name}: accepts TLS {', '.join(facts.versions)}; TLS {version} chosen"
                                 + ("" if len(versions) == 1 else " (balanced: both)")))
    client_auth = _client_auth(server, facts, inputs, notes)
    handshakes: list[handshake_model.Handshake] = []
    for index, version in enumerate(versions):
        if index:  # what the suites chosen for the version before need
            base = options_so_far(kb, [*items, *known])
        picked, groups = pick_suites(name, facts, kb, policy, inputs.profile.board, version, base,
                                     sent[0] if sent else None)
        for suite, why in picked:
            items.append(requirement(Need.SUITE, suite.id, f"{name}: {why}", weakens=weakening(suite)))
            chosen_suites.append(suite.id)
        items += groups
        chosen_group = next((str(g.value) for g in groups if g.need is Need.GROUP), None)
        handshakes += [_handshake(version, suite, chosen_group, facts, sent, inputs, kb, client_auth)
                       for suite, _ in picked]
    items += extension_needs(server, facts, kb, versions, chosen_suites, policy)
    items += buffer_sizes(server, facts, inputs, kb, versions, notes, warnings, handshakes)
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
            found.append(requirement(Need.MPI_BYTES, int(need.value), need.reason))
        elif need.value is None:
            found.append(requirement(Need.OPTION, (need.option, None), need.reason,
                                     weakens=need.reason if need.weakens else None))
    return found


def _adding(kb: KnowledgeBase, items: Sequence[Requirement], more: Sequence[Requirement]) -> list[Requirement]:
    """Those of `more` that need something `items` do not already want (so a via line is
    written only where the reason adds an option; options the closure picked only to calm an
    #error do not count, the final set may do without them)."""
    outcome = kb.evaluate(options_so_far(kb, items))

    def want(r: Requirement) -> str | None:
        if r.need is Need.OPTION and r.value[1] is None:  # type: ignore[index]
            return f"defined({r.value[0]})"  # type: ignore[index]
        return safe_want(r, kb)

    return [r for r in more if (w := want(r)) is None or not outcome.holds(w)]


def _signatures(name: str, handshakes: Sequence[handshake_model.Handshake]) -> list[Requirement]:
    """What verifying and making each signature of the handshakes needs: the padding or
    ECDSA, the hash the scheme fixes, the signing key's curve."""
    found: list[Requirement] = []
    for handshake in handshakes:
        if handshake.prf:
            found.append(requirement(Need.HASH, handshake.prf, f"{name}: TLS 1.2's PRF runs on {handshake.prf}"))
        for sig in handshake.signatures:
            what = f"{name}: {sig.what}"
            verb = "sign" if sig.makes else "verify"
            found.append(requirement(Need.FEATURE, f"{verb}_{sig.scheme}", what))
            if sig.hash and sig.hash != "SHA-1":
                found.append(requirement(Need.HASH, sig.hash, what))
            if sig.curve:
                found.append(requirement(Need.GROUP, sig.curve, what))
    return found


def _versions(server: Server, facts: ServerFacts, kb: KnowledgeBase, policy: Policy) -> list[str]:
    line_can = ("1.2", "1.3") if any(s.min_tls == "1.3" for s in kb.suites) else ("1.2",)  # 2.28 has no TLS 1.3 suites
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
