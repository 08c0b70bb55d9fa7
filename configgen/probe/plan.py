"""What to ask a server, and what to ask next given what it said (pure).

A probe runs in three steps, each a set of independent connections:

1. **Opening** (`opening`): one ClientHello per version (TLS 1.2 twice, with the suites in
   reverse order, to learn whose preference rules), one without SNI, and the ClientHello the
   target mbedTLS line sends by default.
2. **Intolerance** (`intolerance_jobs`, only when that default hello went unanswered): a
   bare hello, and the bare hello plus each optional extension, to see which one the server
   chokes on. The opening is then asked again without the extensions blamed (`blame`).
3. **Chains** (`chains`): offer-and-remove. A chain offers its remaining items (suites or
   groups); the server's choice is removed and the rest offered again until it refuses, so k
   accepted items take k+1 connections and the order of choices is the server's preference.
   When the server follows the client's order the preference says nothing, so the items are
   split into `Target.partitions` chains that run side by side. Single questions (each
   max_fragment_length size, encrypt-then-MAC, the ALPN protocols the device will ask for,
   kept out of every other hello because a server may refuse them) are chains of one step.

`chain_job` and `chain_choice` drive a chain; the runner only schedules.
"""

from __future__ import annotations

import ipaddress

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from configgen.probe.defaults import default_hello
from configgen.probe.facts import Status
from configgen.probe.hello import Hello
from configgen.probe.messages import parse_server_key_exchange
from configgen.probe.names import MFL_SIZES, TLS12_CURVES, TLS13_GROUPS
from configgen.probe.observation import Job, Observation, read_reply
from configgen.probe.records import SERVER_KEY_EXCHANGE, MalformedInput
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
    partitions: int = 4

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

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
        Job("tls12-reversed", "suite preference", replace(tls12, suites=tls12.suites[::-1])),
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


def _suite(observation: Observation | None) -> int | None:
    if observation is None or observation.status is not Status.ANSWERED:
        return None
    hello = read_reply(observation.received).hello
    return None if hello is None else hello.suite


def server_orders(opening_obs: Mapping[str, Observation]) -> bool:
    """Did the server pick the same suite when offered the suites in reverse order?"""
    first = _suite(opening_obs.get("tls12"))
    return first is not None and first == _suite(opening_obs.get("tls12-reversed"))


def chains(target: Target, flags: frozenset[str], opening_obs: Mapping[str, Observation]
           ) -> tuple[Chain, ...]:
    """The offer-and-remove chains and single questions that follow the opening."""
    out: list[Chain] = []
    parts = 1 if server_orders(opening_obs) else target.partitions
    tls12 = opening_obs.get("tls12")
    first = _suite(tls12)
    if first is not None:
        base = tls12_hello(target, flags)
        ids = _ids(target.tls12)
        for n, items in enumerate(_partition(ids, parts)):
            seed = (first,) if first in items else ()
            out.append(Chain(f"tls12-suites/{n}", "TLS 1.2 suites", "suites", base, items, seed))
        ecdhe = tuple(c.id for c in target.tls12 if c.key_exchange in ("ECDHE_RSA", "ECDHE_ECDSA"))
        if ecdhe:
            curve_base = replace(base, suites=ecdhe)
            for n, items in enumerate(_partition(TLS12_CURVES, max(1, parts // 2))):
                out.append(Chain(f"tls12-curves/{n}", "TLS 1.2 curves", "curves", curve_base, items))
        for size in sorted(MFL_SIZES):
            out.append(Chain(f"mfl-{size:04d}", "max_fragment_length", "once",
                             replace(base, max_fragment_length=size)))
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
        out.append(Chain("tls13-suites", "TLS 1.3 suites", "suites", base13,
                         _ids(target.tls13_offer), (hello.suite,)))
        group_seed = (hello.group,) if hello.group is not None else ()
        out.append(Chain("tls13-groups", "TLS 1.3 groups", "groups13", base13,
                         TLS13_GROUPS, group_seed))
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
        hello = replace(chain.base, groups=remaining)
    else:
        shares = tuple(g for g in remaining if g in KEY_SHARES)[:1]
        hello = replace(chain.base, groups=remaining, key_shares=shares)
    return Job(key, chain.question, hello, chain.encrypted_records)


def chain_choice(chain: Chain, observation: Observation, kex: Mapping[int, str]) -> int | None:
    """The item the server chose in a chain step; None ends the chain."""
    if chain.kind == "once" or observation.status is not Status.ANSWERED:
        return None
    reply = read_reply(observation.received)
    hello = reply.hello
    if hello is None:
        return None
    offered = observation.job.hello
    if chain.kind == "suites":
        return hello.suite if hello.suite in offered.suites else None
    if chain.kind == "groups13":
        return hello.group if hello.group in offered.groups else None
    message = reply.flight.message(SERVER_KEY_EXCHANGE)
    if message is None or hello.suite not in kex:
        return None
    try:
        curve = parse_server_key_exchange(message.body, kex[hello.suite], hello.version).curve
    except MalformedInput:
        return None
    return curve if curve in offered.groups else None


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
