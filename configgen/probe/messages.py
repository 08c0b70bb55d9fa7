"""The server's handshake messages, parsed into plain values (pure, bounds-checked).

Each parser takes a message body and returns a frozen dataclass, or raises MalformedInput
(a ProbeError) through `Reader`; nothing else can escape for any input.
"""

from __future__ import annotations

from dataclasses import dataclass

from configgen.probe.records import (
    APPLICATION_DATA,
    SERVER_HELLO,
    SERVER_HELLO_DONE,
    FlightParser,
    MalformedInput,
    Reader,
)

HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51


@dataclass(frozen=True)
class ServerHello:
    version: int  # negotiated: supported_versions when present, else legacy_version
    suite: int
    extensions: tuple[tuple[int, bytes], ...]  # in the order sent
    retry: bool  # a TLS 1.3 HelloRetryRequest
    group: int | None  # TLS 1.3 key_share group (selected_group in a HelloRetryRequest)

    def extension(self, ext_type: int) -> bytes | None:
        return next((data for kind, data in self.extensions if kind == ext_type), None)


@dataclass(frozen=True)
class KeyExchange:
    """ServerKeyExchange parameters: an ECDHE named curve or a DHE prime."""

    curve: int | None
    dh_prime_bits: int | None
    signature_scheme: int | None  # None for anonymous or PSK-only exchanges


@dataclass(frozen=True)
class CertificateRequest:
    certificate_types: tuple[int, ...]
    signature_schemes: tuple[int, ...]
    authorities: tuple[bytes, ...]  # DER-encoded distinguished names


def parse_server_hello(body: bytes) -> ServerHello:
    reader = Reader(body, "ServerHello")
    legacy_version = reader.uint(2)
    random = reader.take(32)
    reader.vector(1)  # session id
    suite = reader.uint(2)
    reader.uint(1)  # compression
    extensions: list[tuple[int, bytes]] = []
    if reader.remaining():
        block = reader.sub(2, "ServerHello extensions")
        while block.remaining():
            extensions.append((block.uint(2), block.vector(2)))
    reader.end()
    hello = ServerHello(legacy_version, suite, tuple(extensions), random == HRR_RANDOM, None)
    versions = hello.extension(EXT_SUPPORTED_VERSIONS)
    if versions is None:
        return hello
    version = Reader(versions, "supported_versions").uint(2)
    share = hello.extension(EXT_KEY_SHARE)
    group = Reader(share, "key_share").uint(2) if share is not None else None
    return ServerHello(version, suite, hello.extensions, hello.retry, group)


def parse_certificate_chain(body: bytes) -> tuple[bytes, ...]:
    """The DER certificates of a TLS 1.2 Certificate message, as sent."""
    chain = Reader(body, "Certificate").sub(3, "certificate list")
    certificates = []
    while chain.remaining():
        certificates.append(chain.vector(3))
    return tuple(certificates)


def parse_server_key_exchange(body: bytes, key_exchange: str, version: int) -> KeyExchange:
    """ServerKeyExchange of a TLS 1.2 (or older) suite whose key exchange is `key_exchange`.

    `key_exchange` is the mbedTLS name ("ECDHE_RSA", "DHE_PSK", ...).
    """
    reader = Reader(body, "ServerKeyExchange")
    if key_exchange.endswith("PSK"):
        reader.vector(2)  # identity hint
    curve = prime_bits = None
    if key_exchange.startswith("ECDHE"):
        if reader.uint(1) != 3:
            raise MalformedInput("ServerKeyExchange uses an explicit curve, not a named one")
        curve = reader.uint(2)
        reader.vector(1)  # public point
    elif key_exchange.startswith("DHE"):
        prime = reader.vector(2).lstrip(b"\0")
        reader.vector(2)  # generator
        reader.vector(2)  # public value
        prime_bits = len(prime) * 8 - (8 - prime[0].bit_length()) if prime else 0
    else:
        return KeyExchange(None, None, None)  # PSK hint only, or a scheme we do not read
    scheme = None
    if not key_exchange.endswith("PSK"):
        if reader.remaining() and version >= 0x0303:
            scheme = reader.uint(2)
        if reader.remaining():
            reader.vector(2)  # signature
    reader.end()
    return KeyExchange(curve, prime_bits, scheme)


def parse_certificate_request(body: bytes) -> CertificateRequest:
    """A TLS 1.2 CertificateRequest (TLS 1.3 sends it encrypted)."""
    reader = Reader(body, "CertificateRequest")
    types = tuple(reader.vector(1))
    schemes_reader = reader.sub(2, "CertificateRequest signature algorithms")
    schemes = []
    while schemes_reader.remaining():
        schemes.append(schemes_reader.uint(2))
    names_reader = reader.sub(2, "CertificateRequest authorities")
    names = []
    while names_reader.remaining():
        names.append(names_reader.vector(2))
    reader.end()
    return CertificateRequest(types, tuple(schemes), tuple(names))


def flight_state(flight: FlightParser, encrypted_records: int = 0) -> str:
    """Has the server said all it will say before the client must speak again?

    "done" after an alert, ServerHelloDone (TLS 1.2), a HelloRetryRequest, a TLS 1.3
    ServerHello followed by `encrypted_records` encrypted records, or bytes that cannot be
    TLS (reading on is pointless); "tail" after a TLS 1.3 ServerHello still short of those
    records (the rest may never come: wait briefly); "more" otherwise. Constant time: the
    parser keeps what it needs as the bytes arrive.
    """
    if flight.error or flight.alert or flight.message(SERVER_HELLO_DONE) is not None:
        return "done"
    message = flight.message(SERVER_HELLO)
    if message is None:
        return "more"
    try:
        hello = parse_server_hello(message.body)
    except MalformedInput:
        return "done"
    if hello.retry:
        return "done"
    if hello.version != 0x0304:
        return "more"
    return "done" if flight.count(APPLICATION_DATA) >= encrypted_records else "tail"
