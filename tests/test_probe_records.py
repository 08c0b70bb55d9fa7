"""Records, messages and ClientHello bytes, without a network.

The parser must turn any bytes into facts or a sentence, never a traceback; hypothesis feeds
it arbitrary and mutated server flights. ClientHello encoding is checked against tlslite-ng's
independent parser.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from probe_servers import (
    SERVER_HELLO_DONE,
    certificate,
    certificate_request,
    flight,
    record,
    server_hello,
    ske_dhe,
    ske_ecdhe,
)

from configgen.model.facts import Status
from configgen.probe.fold import fold
from configgen.probe.hello import Hello, encode
from configgen.probe.messages import (
    MalformedInput,
    flight_state,
    parse_certificate_chain,
    parse_certificate_request,
    parse_server_hello,
    parse_server_key_exchange,
)
from configgen.probe.observation import Job, Observation, classify, read_reply
from configgen.probe.plan import Candidate, Target, chain_choice, chains, opening
from configgen.probe.records import MalformedInput as RecordsMalformed
from configgen.probe.records import FlightParser, parse_flight, split_records
from configgen.probe.tls13 import KEY_SHARES

GOOD = flight(
    server_hello(0xC02F, extensions=((23, b""), (0xFF01, b"\x00"))),
    certificate((b"A" * 1500, b"B" * 900)),
    ske_ecdhe(23),
    certificate_request(names=(b"0\x0b1\t0\x07\x06\x03U\x04\x03\x0c\x00",)),
    SERVER_HELLO_DONE,
    record_size=1000,
)
GOOD13 = record(22, server_hello(0x1301, 0x0304, ((43, b"\x03\x04"), (
    51, b"\x00\x1d\x00\x20" + KEY_SHARES[29])))) + b"".join(
    record(23, bytes(range(n, n + 40))) for n in range(4))
TARGET = Target("h", 1, "h", (), "3.6", (Candidate(0xC02F, "TLS-ECDHE-RSA-X", "ECDHE_RSA"),),
                (Candidate(0x1301, "TLS1-3-AES-128-GCM-SHA256", "TLS1_3"),))


def test_a_good_flight_reassembles_across_records():
    parsed = parse_flight(GOOD)
    assert parsed.error is None and parsed.trailing == 0
    assert [m.msg_type for m in parsed.messages] == [2, 11, 12, 13, 14]
    assert len(parsed.records) == 3
    cert = parsed.messages[1]
    assert cert.records == 3 and cert.size == 4 + 3 + 3 + 1500 + 3 + 900
    assert parse_certificate_chain(cert.body) == (b"A" * 1500, b"B" * 900)
    exchange = parse_server_key_exchange(parsed.messages[2].body, "ECDHE_RSA", 0x0303)
    assert (exchange.curve, exchange.signature_scheme) == (23, 0x0804)
    request = parse_certificate_request(parsed.messages[3].body)
    assert request.certificate_types == (1, 64) and request.signature_schemes == (0x0403,)
    assert flight_state(FlightParser(GOOD)) == "done"
    assert flight_state(FlightParser(GOOD[:-3])) == "more"


def test_dhe_prime_size():
    body = parse_flight(flight(ske_dhe(3072))).messages[0].body
    assert parse_server_key_exchange(body, "DHE_RSA", 0x0303).dh_prime_bits == 3072


def test_bad_record_headers_are_named():
    with pytest.raises(RecordsMalformed, match="not a TLS record"):
        split_records(b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(RecordsMalformed, match="exceeds the TLS limit"):
        split_records(bytes.fromhex("16 0303 ffff"))
    assert MalformedInput is RecordsMalformed


def _observation(received: bytes, key: str = "tls12") -> Observation:
    versions = ("1.3",) if key == "tls13" else ("1.2",)
    job = Job(key, "q", Hello(versions, (0xC02F, 0x1301), groups=(23, 29), key_shares=(29,)))
    status, detail = classify(received, Status.CLOSED, "closed")
    return Observation(job, status, received, detail)


def _exercise(data: bytes) -> None:
    """Everything that reads server bytes, fed `data`: only MalformedInput may come out."""
    parsed = parse_flight(data)
    assert parsed.error is None or isinstance(parsed.error, str)
    flight_state(FlightParser(data), 4)
    read_reply(data)
    for message in parsed.messages:
        for parse in (parse_server_hello, parse_certificate_chain, parse_certificate_request):
            try:
                parse(message.body)
            except MalformedInput:
                pass
        for kex in ("ECDHE_RSA", "DHE_RSA", "DHE_PSK", "PSK", "RSA"):
            try:
                parse_server_key_exchange(message.body, kex, 0x0303)
            except MalformedInput:
                pass
    observations = [_observation(data, key) for key in ("tls12", "tls13", "no-sni", "etm")]
    by_key = {o.job.key: o for o in observations}
    for chain in chains(TARGET, frozenset(), by_key):
        chain_choice(chain, observations[0], TARGET.key_exchange_of())
    fold(TARGET, observations, (), len(observations))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data):
    _exercise(data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_server_flights_never_raise(data):
    good = bytearray(data.draw(st.sampled_from([GOOD, GOOD13])))
    for _ in range(data.draw(st.integers(1, 8))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, len(good)))
        if kind == "flip" and pos < len(good):
            good[pos] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del good[pos:]
        elif kind == "insert":
            good[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif pos < len(good):
            del good[pos:pos + data.draw(st.integers(1, 8))]
    _exercise(bytes(good))


# ClientHello encoding, cross-checked with tlslite-ng -----------------------------------------

tlslite = pytest.importorskip("tlslite")


def _parse_with_tlslite(data: bytes):
    from tlslite.messages import ClientHello
    from tlslite.utils.codec import Parser

    assert data[0] == 22 and int.from_bytes(data[3:5], "big") == len(data) - 5
    assert data[5] == 1
    return ClientHello().parse(Parser(bytearray(data[6:])))


def test_client_hello_offers_any_suite_id_and_every_extension():
    hello = Hello(
        versions=("1.3", "1.2"),
        suites=(0xC0AE, 0xC052, 0xC07C, 0x00A8, 0x1305, 0xFEFE),  # CCM_8, ARIA, CAMELLIA, PSK
        groups=(29, 23, 256),
        key_shares=(29, 23),
        sni="broker.example.com",
        alpn=("mqtt", "x-amzn-mqtt-ca"),
        flags=frozenset({"encrypt_then_mac", "extended_master_secret", "session_ticket",
                         "status_request", "renegotiation_info", "ec_point_formats",
                         "psk_key_exchange_modes"}),
        max_fragment_length=1024,
        record_size_limit=16385,
        scsv=True,
    )
    parsed = _parse_with_tlslite(encode(hello))
    assert list(parsed.cipher_suites) == list(hello.suites) + [0x00FF]
    assert parsed.server_name == bytearray(b"broker.example.com")
    types = [e.extType for e in parsed.extensions]
    assert types == [0, 11, 10, 13, 5, 16, 1, 22, 23, 28, 35, 43, 45, 51, 0xFF01]
    shares = parsed.getExtension(51).client_shares
    assert [(s.group, bytes(s.key_exchange)) for s in shares] == [
        (29, KEY_SHARES[29]), (23, KEY_SHARES[23])]
    assert list(parsed.getExtension(43).versions) == [(3, 4), (3, 3)]
    assert [bytes(p) for p in parsed.getExtension(16).protocol_names] == [b"mqtt", b"x-amzn-mqtt-ca"]
    assert parsed.client_version == (3, 3)


def test_every_opening_hello_parses_and_is_deterministic():
    for job in opening(TARGET):
        data = encode(job.hello)
        assert data == encode(job.hello)
        _parse_with_tlslite(data)


def test_without_removes_exactly_one_extension():
    hello = Hello(("1.2",), (1,), groups=(23,), sni="x", flags=frozenset({"session_ticket"}))
    for name in hello.extension_names():
        assert hello.without(name).extension_names() == tuple(
            n for n in hello.extension_names() if n != name)


def test_an_undecryptable_tls13_flight_gives_no_hidden_facts():
    facts = fold(TARGET, [_observation(GOOD13, "tls13")], (), 1)
    assert facts.versions == ("1.3",)
    assert facts.certificate_chain == () and facts.client_auth is None
    assert facts.sizes is None  # nothing readable: not determined
