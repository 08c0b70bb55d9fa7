"""What to ask a server, and what to ask next given what it said (pure).

A probe runs in three steps, each a set of independent connections:

1. **Opening** (`opening`): one ClientHello per version (TLS 1.2 twice, with the suites and
   curves in reverse order, to learn whose preference rules), one without SNI, and the
   ClientHello the target mbedTLS line sends by default.
2. **Intolerance** (`intolerance_jobs`, only when that default hello went unanswered): a
   bare hello, and the bare hello plus each optional extension, to see which one the server
   chokes on. The opening is then asked again without the extensions blamed (`blame`).
3. **Chains** (`chains`), all side by side: offer-and-remove. A chain offers its remaining
   items (suites or groups); the server's choice is removed and the rest offered again until
   it refuses, so k accepted items take k+1 connections and the order of choices is the
   server's preference. When the server follows the client's order the preference says
   nothing, so the items are dealt into `Target.partitions` chains (suites) or asked one by
   one (curves, TLS 1.3 suites and groups), which keeps the longest chain short. Single
   questions (each max_fragment_length size, encrypt-then-MAC, the ALPN protocols the
   device will ask for, kept out of every other hello because a server may refuse them) are
   chains of one step.

Every hello is one the device could send: max_fragment_length is asked without
record_size_limit, as mbedTLS asks it in TLS 1.2, and the curve of an EC server
certificate stays in every TLS 1.2 curve offer (`Chain.pinned`), as a device verifying that
certificate must offer it.

`chain_job` and `chain_choice` drive a chain; the runner only schedules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from configgen.probe.defaults import default_hello
from configgen.model.facts import Status
from configgen.model.endpoint import endpoint
from configgen.probe.hello import Hello
from configgen.probe.messages import parse_certificate_chain, parse_server_key_exchange
from configgen.probe.names import GROUP_CODES, MFL_SIZES, TLS12_CURVES, TLS13_GROUPS
from configgen.probe.observation import Job, Observation, read_reply
from configgen.probe.records import CERTIFICATE, SERVER_KEY_EXCHANGE, MalformedInput
from configgen.probe.tls13 import KEY_SHARES

# Extensions the probe sends to learn the server's answer to each.
PROBE_FLAGS = frozenset(
    {
        "ec_point_formats",
        "status_request",
        "encrypt_then_mac",
        "extended_master_secret",
        "session_ticket",
        "renegotiation_info",
    }
)
# Extensions without which a ClientHello still negotiates: the intolerance suspects.
OPTIONAL_EXTENSIONS: tuple[str, ...] = (
    "server_name",
    "status_request",
    "application_layer_protocol_negotiation",
    "max_fragment_length",
    "encrypt_then_mac",
    "extended_master_secret",
    "record_size_limit",
    "session_ticket",
    "psk_key_exchange_modes",
    "renegotiation_info",
)
RECORD_SIZE_LIMIT = 16385  # the largest legal value: asks whether the server answers at all


@dataclass(frozen=True)
class Candidate:
    """A ciphersuite the target mbedTLS line implements (from the knowledge base)."""

    id: int
    name: str  # "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384"
    key_exchange: str  # "ECDHE_RSA", "PSK", "TLS1_3", ...


TLS13_STANDARD: tuple[Candidate, ...] = tuple(
    Candidate(code, f"TLS1-3-{name}", "TLS1_3")
    for code, name in ((0x1301, "AES-128-GCM-SHA256"), (0x1302, "AES-256-GCM-SHA384"),
                       (0x1303, "CHACHA20-POLY1305-SHA256"), (0x1304, "AES-128-CCM-SHA256"),
                       (0x1305, "AES-128-CCM-8-SHA256"))
)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    sni: str | None
    alpn: tuple[str, ...]
    line: str  # the mbedTLS line: "2.28" or "3.6"
    tls12: tuple[Candidate, ...]
    tls13: tuple[Candidate, ...]
    partitions: int = 16  # chains over the TLS 1.2 suites of a server in the client's order

    @property
    def where(self) -> str:
        return endpoint(self.host, self.port)

    @property
    def tls13_offer(self) -> tuple[Candidate, ...]:
        """TLS 1.3 suites to offer: the line's own, or RFC 8446's when it has none (2.28),
        so the server's versions are known whatever the line."""
        return self.tls13 or TLS13_STANDARD

    def key_exchange_of(self) -> Mapping[int, str]:
        return {c.id: c.key_exchange for c in self.tls12 + self.tls13_offer}


@dataclass(frozen=True)
class Chain:
    key: str
    question: str
    kind: str  # "once" | "suites" | "curves" | "groups13"
    base: Hello
    items: tuple[int, ...] = ()
    seed: tuple[int, ...] = ()  # choices already known from the opening
    encrypted_records: int = 0
    pinned: tuple[int, ...] = ()  # offered in every step though found: the device must send them


def _ids(candidates: tuple[Candidate, ...]) -> tuple[int, ...]:
    return tuple(c.id for c in candidates)


def tls12_hello(target: Target, flags: frozenset[str]) -> Hello:
    """The probe's TLS 1.2 hello: every candidate, every curve, every extension allowed."""
    return Hello(
        versions=("1.2",),
        suites=_ids(target.tls12),
        groups=TLS12_CURVES + (256, 257, 258, 259, 260),
        sni=target.sni if "server_name" in flags else None,
        flags=PROBE_FLAGS & flags,
        record_size_limit=RECORD_SIZE_LIMIT if "record_size_limit" in flags else None,
    )


def tls13_hello(target: Target, flags: frozenset[str]) -> Hello:
    return Hello(
        versions=("1.3",),
        suites=_ids(target.tls13_offer),
        groups=TLS13_GROUPS,
        key_shares=(29,),
        sni=target.sni if "server_name" in flags else None,
        flags=frozenset({"psk_key_exchange_modes"}) & flags,
        record_size_limit=RECORD_SIZE_LIMIT if "record_size_limit" in flags else None,
    )


ALL_FLAGS = frozenset(OPTIONAL_EXTENSIONS) | PROBE_FLAGS


def opening(target: Target, flags: frozenset[str] = ALL_FLAGS, with_default: bool = True
            ) -> tuple[Job, ...]:
    """The first, independent connections."""
    tls12 = tls12_hello(target, flags)
    jobs = [
        Job("tls12", "TLS 1.2", tls12),
        Job("tls12-reversed", "suite preference",
            replace(tls12, suites=tls12.suites[::-1], groups=tls12.groups[::-1])),
        Job("tls11", "TLS 1.1", replace(tls12, versions=("1.1",))),
        Job("tls10", "TLS 1.0", replace(tls12, versions=("1.0",))),
    ]
    jobs.append(Job("tls13", "TLS 1.3", tls13_hello(target, flags), encrypted_records=4))
    if target.sni and "server_name" in flags:
        jobs.append(Job("no-sni", "SNI", replace(tls12, sni=None)))
    if with_default:
        jobs.append(Job("default", "default ClientHello", default_hello(
            target.line, _ids(target.tls12), _ids(target.tls13), target.sni)))
    return tuple(jobs)


def intolerant(observation: Observation) -> bool:
    """The server went silent, reset or closed instead of answering or refusing with an alert
    (a server that sent its ServerHello took the ClientHello, whatever it did next)."""
    return (observation.status in (Status.TIMEOUT, Status.RESET, Status.CLOSED)
            and read_reply(observation.received).hello is None)


def intolerance_jobs(default: Hello) -> tuple[Job, ...]:
    """The default hello stripped of every optional extension, and plus each one alone."""
    present = [e for e in default.extension_names() if e in OPTIONAL_EXTENSIONS]
    bare = default
    for extension in present:
        bare = bare.without(extension)
    jobs = [Job("intolerance/bare", "intolerance", bare)]
    for extension in present:
        alone = default
        for other in present:
            if other != extension:
                alone = alone.without(other)
        jobs.append(Job(f"intolerance/+{extension}", "intolerance", alone))
    return tuple(jobs)


def blame(observations: tuple[Observation, ...]) -> tuple[str, ...] | None:
    """Extensions that alone make the bare hello go unanswered; None when even bare fails."""
    by_key = {o.job.key: o for o in observations}
    bare = by_key.get("intolerance/bare")
    if bare is None or bare.status is not Status.ANSWERED:
        return None
    return tuple(
        key.split("+", 1)[1]
        for key, o in sorted(by_key.items())
        if key.startswith("intolerance/+") and intolerant(o)
    )


def _partition(items: tuple[int, ...], parts: int) -> list[tuple[int, ...]]:
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        out.append(items[start:end])
        start = end
    return [p for p in out if p]


def _deal(items: tuple[int, ...], parts: int) -> list[tuple[int, ...]]:
    """Items dealt round-robin into `parts` hands: neighbours (accepted suites cluster by
    code point) land in different chains, so no chain runs much longer than the others."""
    parts = max(1, min(parts, len(items)))
    return [items[index::parts] for index in range(parts)]


def _suite(observation: Observation | None) -> int | None:
    if observation is None or observation.status is not Status.ANSWERED:
        return None
    hello = read_reply(observation.received).hello
    return None if hello is None else hello.suite


def ecdhe_curve(observation: Observation | None, kex: Mapping[int, str]) -> int | None:
    """The named curve of an answered TLS 1.2 ECDHE ServerKeyExchange, if any."""
    if observation is None or observation.status is not Status.ANSWERED:
        return None
    reply = read_reply(observation.received)
    message = reply.flight.message(SERVER_KEY_EXCHANGE)
    if reply.hello is None or message is None or \
            not kex.get(reply.hello.suite, "").startswith("ECDHE"):
        return None
    try:
        return parse_server_key_exchange(message.body, kex[reply.hello.suite],
                                         reply.hello.version).curve
    except MalformedInput:
        return None


def server_orders(opening_obs: Mapping[str, Observation]) -> bool:
    """Did the server pick the same suite when offered the suites in reverse order?"""
    first = _suite(opening_obs.get("tls12"))
    return first is not None and first == _suite(opening_obs.get("tls12-reversed"))


def server_orders_curves(opening_obs: Mapping[str, Observation], kex: Mapping[int, str]) -> bool:
    """Did the server pick the same curve when offered the curves in reverse order? (When a
    suite without ECDHE was chosen, its suite order stands for its curve order.)"""
    first = ecdhe_curve(opening_obs.get("tls12"), kex)
    again = ecdhe_curve(opening_obs.get("tls12-reversed"), kex)
    if first is None or again is None:
        return server_orders(opening_obs)
    return first == again


def opening_curves(opening_obs: Mapping[str, Observation], kex: Mapping[int, str]
                   ) -> tuple[int, ...]:
    """The curves chosen in the opening, forwards and reversed (ECDHE suites only)."""
    picks = (ecdhe_curve(opening_obs.get(k), kex) for k in ("tls12", "tls12-reversed"))
    return tuple(c for c in picks if c in TLS12_CURVES)


def unasked_curves(opening_obs: Mapping[str, Observation], kex: Mapping[int, str]
                   ) -> tuple[int, ...]:
    """For a server in the client's order, the curves the opening leaves open: it chose the
    first it accepts of TLS12_CURVES forwards and the last reversed, so those outside that
    span are refused and only the ones strictly inside need asking."""
    picks = opening_curves(opening_obs, kex)
    if len(picks) < 2:
        return TLS12_CURVES
    low, high = sorted(TLS12_CURVES.index(c) for c in picks)
    return TLS12_CURVES[low + 1:high]


def certificate_curve(observation: Observation | None) -> int | None:
    """The named curve of the leaf's EC key in a TLS 1.2 Certificate message, if any: a
    device that verifies it must offer that curve in every TLS 1.2 ClientHello."""
    if observation is None:
        return None
    message = read_reply(observation.received).flight.message(CERTIFICATE)
    try:
        chain = parse_certificate_chain(message.body) if message is not None else ()
        key = x509.load_der_x509_certificate(chain[0]).public_key() if chain else None
    except (MalformedInput, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return None
    return GROUP_CODES.get(key.curve.name)


def chains(target: Target, flags: frozenset[str], opening_obs: Mapping[str, Observation]
           ) -> tuple[Chain, ...]:
    """The offer-and-remove chains and single questions that follow the opening.

    A server that follows the client's order is asked about each curve (and each TLS 1.3
    suite and group) alone, all at once; one that imposes its own order is asked along one
    chain, which learns that order. Every chain runs alongside the others.
    """
    out: list[Chain] = []
    kex = target.key_exchange_of()
    ordered = server_orders(opening_obs)
    tls12 = opening_obs.get("tls12")
    first = _suite(tls12)
    if first is not None:
        base = tls12_hello(target, flags)
        ids = _ids(target.tls12)
        for n, items in enumerate(_deal(ids, 1 if ordered else target.partitions)):
            seed = (first,) if first in items else ()
            out.append(Chain(f"tls12-suites/{n:02d}", "TLS 1.2 suites", "suites", base, items,
                             seed))
        ecdhe = tuple(c.id for c in target.tls12 if c.key_exchange in ("ECDHE_RSA", "ECDHE_ECDSA"))
        if ecdhe:
            curve_base = replace(base, suites=ecdhe)
            pinned = certificate_curve(tls12)
            pin = (pinned,) if pinned in TLS12_CURVES else ()
            if server_orders_curves(opening_obs, kex):
                curve_chains = [TLS12_CURVES]
            else:
                curve_chains = [(c,) for c in unasked_curves(opening_obs, kex)]
            for n, items in enumerate(curve_chains):
                out.append(Chain(f"tls12-curves/{n:02d}", "TLS 1.2 curves", "curves", curve_base,
                                 items, pinned=pin))
        for size in sorted(MFL_SIZES):
            # As mbedTLS asks it: its TLS 1.2 hello carries no record_size_limit, which a
            # server (GnuTLS) lets override max_fragment_length (RFC 8449 §5).
            out.append(Chain(f"mfl-{size:04d}", "max_fragment_length", "once",
                             replace(base, max_fragment_length=size, record_size_limit=None)))
        cbc = tuple(c.id for c in target.tls12 if "-CBC-" in c.name)
        if cbc and "encrypt_then_mac" in flags:
            out.append(Chain("etm", "encrypt_then_mac", "once", replace(base, suites=cbc)))
    tls13 = opening_obs.get("tls13")
    hello = read_reply(tls13.received).hello if tls13 is not None else None
    answered13 = tls13 is not None and tls13.status is Status.ANSWERED
    speaks13 = answered13 and hello is not None and hello.version == 0x0304
    base13 = tls13_hello(target, flags)
    if speaks13 and hello is not None and hello.retry and hello.group in KEY_SHARES:
        # Share what the server asked for, to read its encrypted flight (chain, sizes).
        base13 = replace(base13, key_shares=(hello.group,))
        out.append(Chain("tls13-flight", "TLS 1.3 flight", "once", base13, encrypted_records=4))
    if target.alpn and first is not None:
        alpn = replace(tls12_hello(target, flags), alpn=target.alpn)
        out.append(Chain("alpn", "ALPN", "once", alpn))
    elif target.alpn and speaks13:
        out.append(Chain("alpn", "ALPN", "once", replace(base13, alpn=target.alpn),
                         encrypted_records=1))
    if speaks13 and hello is not None:
        # The TLS 1.2 suite order stands for the TLS 1.3 one (OpenSSL and GnuTLS set both at
        # once); without TLS 1.2, one chain learns it.
        suites13 = _ids(target.tls13_offer)
        parts = len(suites13) if first is not None and not ordered else 1
        for n, items in enumerate(_partition(suites13, parts)):
            seed = (hello.suite,) if hello.suite in items else ()
            out.append(Chain(f"tls13-suites/{n:02d}", "TLS 1.3 suites", "suites", base13, items,
                             seed))
        # Each group alone (with its key share, when the probe has one): which groups the
        # server takes; the order of a key-share choice is the client's anyway.
        for n, items in enumerate(_partition(TLS13_GROUPS, len(TLS13_GROUPS))):
            seed = (hello.group,) if hello.group in items else ()
            out.append(Chain(f"tls13-groups/{n:02d}", "TLS 1.3 groups", "groups13", base13,
                             items, seed))
    return tuple(out)


def chain_job(chain: Chain, found: tuple[int, ...], step: int) -> Job | None:
    """The next connection of a chain given the items found so far, or None when done."""
    key = f"{chain.key}/{step:03d}"
    if chain.kind == "once":
        return Job(chain.key, chain.question, chain.base, chain.encrypted_records) if step == 0 \
            else None
    remaining = tuple(i for i in chain.items if i not in found)
    if not remaining:
        return None
    if chain.kind == "suites":
        hello = replace(chain.base, suites=remaining)
    elif chain.kind == "curves":
        hello = replace(chain.base,
                        groups=remaining + tuple(p for p in chain.pinned if p not in remaining))
    else:
        shares = tuple(g for g in remaining if g in KEY_SHARES)[:1]
        hello = replace(chain.base, groups=remaining, key_shares=shares)
    return Job(key, chain.question, hello, chain.encrypted_records)


def chain_choice(chain: Chain, observation: Observation, kex: Mapping[int, str],
                 found: tuple[int, ...] = ()) -> int | None:
    """The item the server chose in a chain step, among those not `found` yet; None ends
    the chain (a refusal, or the choice of an item offered only because it is pinned)."""
    if chain.kind == "once" or observation.status is not Status.ANSWERED:
        return None
    hello = read_reply(observation.received).hello
    if hello is None:
        return None
    choice: int | None
    if chain.kind == "suites":
        choice = hello.suite
    elif chain.kind == "groups13":
        choice = hello.group
    else:
        choice = ecdhe_curve(observation, kex)
    remaining = [i for i in chain.items if i not in found]
    return choice if choice in remaining and choice in _offered(chain, observation) else None


def _offered(chain: Chain, observation: Observation) -> tuple[int, ...]:
    hello = observation.job.hello
    return hello.suites if chain.kind == "suites" else hello.groups


def candidates(suites: Iterable[Any], psk: bool = False
               ) -> tuple[tuple[Candidate, ...], tuple[Candidate, ...]]:
    """TLS 1.2 and TLS 1.3 candidates from knowledge-base suites (id, name, key_exchange).

    PSK key exchanges are left out unless the device has a pre-shared key.
    """
    tls12: list[Candidate] = []
    tls13: list[Candidate] = []
    for suite in suites:
        candidate = Candidate(suite.id, suite.name, suite.key_exchange)
        if suite.key_exchange == "TLS1_3":
            tls13.append(candidate)
        elif psk or "PSK" not in suite.key_exchange:
            tls12.append(candidate)
    return tuple(tls12), tuple(tls13)


def target_for(host: str, port: int, sni: str | None, alpn: tuple[str, ...], line: str,
               suites: Iterable[Any], psk: bool = False) -> Target:
    """What to probe: SNI is the host name unless told otherwise (never an IP address, and
    an empty name means none), the candidates are the line's suites."""
    if sni is None:
        sni = None if is_ip(host) else host
    tls12, tls13 = candidates(suites, psk)
    return Target(host, port, sni or None, tuple(alpn), line, tls12, tls13)


def is_ip(host: str) -> bool:
    """Whether `host` is an IP address (then it is no server name to send)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
