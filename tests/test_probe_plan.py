"""plan, fold and the runner without a network: a model server answers each ClientHello."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from probe_servers import (
    SERVER_HELLO_DONE,
    certificate,
    flight,
    record,
    server_hello,
    ske_ecdhe,
)

from configgen.errors import ProbeError
from configgen.probe import Target, Timeouts, probe
from configgen.model.facts import Status
from configgen.probe.hello import Hello
from configgen.probe.messages import HRR_RANDOM
from configgen.probe.observation import Job, Observation, classify
from configgen.probe.plan import (
    Candidate,
    Chain,
    _partition,
    blame,
    chain_job,
    intolerance_jobs,
    opening,
)

TLS12 = (
    Candidate(0x009C, "TLS-RSA-WITH-AES-128-GCM-SHA256", "RSA"),
    Candidate(0xC02F, "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", "ECDHE_RSA"),
    Candidate(0xC030, "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384", "ECDHE_RSA"),
    Candidate(0xC013, "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA", "ECDHE_RSA"),
    Candidate(0xC0AE, "TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8", "ECDHE_ECDSA"),
    Candidate(0xC051, "TLS-RSA-WITH-ARIA-256-GCM-SHA384", "RSA"),
    Candidate(0x0041, "TLS-RSA-WITH-CAMELLIA-128-CBC-SHA", "RSA"),
)
TLS13 = (
    Candidate(0x1301, "TLS1-3-AES-128-GCM-SHA256", "TLS1_3"),
    Candidate(0x1302, "TLS1-3-AES-256-GCM-SHA384", "TLS1_3"),
    Candidate(0x1305, "TLS1-3-AES-128-CCM-8-SHA256", "TLS1_3"),
)
CHAIN = (b"leaf certificate", b"intermediate")


@dataclass(frozen=True)
class ModelServer:
    """Answers ClientHellos like a TLS server configured with these lists (in its order)."""

    tls12: tuple[int, ...]
    curves: tuple[int, ...] = (29, 23)
    tls13: tuple[int, ...] = ()
    groups13: tuple[int, ...] = (23, 24)
    server_order: bool = True
    chokes_on: frozenset[str] = frozenset()

    def _pick(self, offered, mine):
        common = [x for x in (mine if self.server_order else offered) if x in offered and x in mine]
        return common[0] if common else None

    def answer(self, hello: Hello) -> bytes:
        if self.chokes_on & set(hello.extension_names()):
            return b""
        if "1.3" in hello.versions and self.tls13:
            suite = self._pick(hello.suites, self.tls13)
            group = self._pick(hello.groups, self.groups13)
            if suite is None or group is None:
                return record(21, b"\x02\x28")
            versions = (43, b"\x03\x04")
            if group in hello.key_shares:
                share = group.to_bytes(2, "big") + b"\x00\x01\x00"
                return record(22, server_hello(suite, 0x0304, (versions, (51, share))))
            share = group.to_bytes(2, "big")
            return record(22, server_hello(suite, 0x0304, (versions, (51, share)), HRR_RANDOM))
        if hello.versions[-1] > "1.2" or hello.versions[0] < "1.2":
            return record(21, b"\x02\x46")
        kex = {c.id: c.key_exchange for c in TLS12}
        usable = [s for s in self.tls12
                  if not kex[s].startswith("ECDHE") or set(hello.groups) & set(self.curves)]
        suite = self._pick(hello.suites, tuple(usable))
        if suite is None:
            return record(21, b"\x02\x28")
        messages = [server_hello(suite, extensions=((23, b""),)), certificate(CHAIN)]
        if kex[suite].startswith("ECDHE"):
            messages.append(ske_ecdhe(self._pick(hello.groups, self.curves)))
        return flight(*messages, SERVER_HELLO_DONE)

    def run(self, job: Job) -> Observation:
        received = self.answer(job.hello)
        ended = Status.TIMEOUT if not received else Status.CLOSED
        status, detail = classify(received, ended, "no answer within 1 s")
        return Observation(job, status, received, detail)


def target(partitions: int = 4) -> Target:
    return Target("server.example", 443, "server.example", (), "3.6", TLS12, TLS13, partitions)


def run(server: ModelServer, partitions: int = 4):
    return probe(target(partitions), Timeouts(1, 1), 10, run_job=server.run)


def test_server_order_is_learnt_with_k_plus_one_connections_per_chain():
    server = ModelServer(tls12=(0xC030, 0x0041, 0xC02F), tls13=(0x1302, 0x1301))
    facts = run(server)
    assert [s.id for s in facts.tls12_suites] == [0xC030, 0x0041, 0xC02F]
    assert facts.server_preference is True
    assert [s.id for s in facts.tls13_suites] == [0x1302, 0x1301]
    assert facts.tls12_curves == ("x25519", "secp256r1")
    assert facts.tls13_groups == ("secp256r1", "secp384r1")
    assert facts.tls13_retry is True
    assert facts.certificate_chain == CHAIN
    assert facts.key_exchanges[0].curve == "x25519"
    assert facts.extensions.extended_master_secret is True
    assert facts.extensions.session_ticket is False


def test_client_order_server_in_parallel_chains():
    server = ModelServer(tls12=(0xC030, 0x0041, 0xC02F, 0x009C), server_order=False)
    facts = run(server, partitions=3)
    assert facts.server_preference is False
    assert [s.id for s in facts.tls12_suites] == [0x009C, 0xC02F, 0xC030, 0x0041]  # our order


def test_connection_count_is_small():
    accepted = (0xC030, 0x0041, 0xC02F)
    facts = run(ModelServer(tls12=accepted), partitions=1)
    # opening 7, suites k+1 - 1 (seeded), curves 2+1, MFL 4, ETM 1, TLS 1.3 absent
    assert facts.connections == 7 + len(accepted) + 3 + 4 + 1


def test_intolerance_is_blamed_on_the_extensions_that_alone_choke():
    server = ModelServer(tls12=(0xC02F,), chokes_on=frozenset({"encrypt_then_mac", "session_ticket"}))
    facts = run(server)
    assert facts.intolerance.blamed == ("encrypt_then_mac", "session_ticket")
    assert facts.intolerance.default_hello is Status.TIMEOUT
    assert [s.id for s in facts.tls12_suites] == [0xC02F]


def test_a_server_that_refuses_everything_is_an_error():
    with pytest.raises(ProbeError) as error:
        run(ModelServer(tls12=()))
    assert str(error.value).startswith("server.example:443: refused every ClientHello")


def test_opening_asks_each_version_once_plus_preference_and_sni():
    keys = [job.key for job in opening(target())]
    assert keys == ["tls12", "tls12-reversed", "tls11", "tls10", "tls13", "no-sni", "default"]


def test_chain_job_offers_what_is_left():
    chain = Chain("c", "q", "suites", Hello(("1.2",), (1, 2, 3)), (1, 2, 3))
    assert chain_job(chain, (2,), 1).hello.suites == (1, 3)
    assert chain_job(chain, (1, 2, 3), 3) is None


def test_partition_keeps_order_and_covers_everything():
    items = tuple(range(10))
    parts = _partition(items, 4)
    assert sum(parts, ()) == items and len(parts) == 4
    assert _partition((1,), 4) == [(1,)]


def test_intolerance_jobs_add_each_optional_extension_alone():
    default = Hello(("1.2",), (1,), groups=(29,), sni="x", flags=frozenset({"session_ticket"}))
    jobs = {job.key: job.hello.extension_names() for job in intolerance_jobs(default)}
    assert jobs == {
        "intolerance/bare": ("supported_groups", "signature_algorithms"),
        "intolerance/+server_name": ("server_name", "supported_groups", "signature_algorithms"),
        "intolerance/+session_ticket": ("supported_groups", "signature_algorithms",
                                        "session_ticket"),
    }


def test_blame_is_none_when_even_the_bare_hello_fails():
    bare = Job("intolerance/bare", "intolerance", Hello(("1.2",), (1,)))
    assert blame((Observation(bare, Status.TIMEOUT, b"", "no answer"),)) is None


@dataclass(frozen=True)
class Stubborn(ModelServer):
    """Always picks the same suite, offered or not (a broken server)."""

    def answer(self, hello: Hello) -> bytes:
        if "1.3" in hello.versions:
            return record(21, b"\x02\x46")
        return flight(server_hello(0xC030), certificate(CHAIN), SERVER_HELLO_DONE)


def test_a_server_choosing_what_was_not_offered_ends_the_chain():
    facts = run(Stubborn(tls12=()), partitions=1)
    assert [s.id for s in facts.tls12_suites] == [0xC030]
    assert facts.connections < 20
