"""Read the encrypted half of a TLS 1.3 server flight (pure).

The probe's key shares come from fixed private keys (KEY_PAIRS), so the handshake traffic
secret of a connection follows from its ClientHello and the server's ServerHello alone
(RFC 8446 §7.1). Decrypting the records after ServerHello gives EncryptedExtensions,
CertificateRequest and Certificate: the chain as sent, its size, and what TLS 1.3 hides.
Nothing here can finish a handshake, and nothing needs to.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from configgen.probe.records import (
    APPLICATION_DATA,
    HANDSHAKE,
    SERVER_HELLO,
    Flight,
    HandshakeMessage,
    MalformedInput,
    Reader,
)

_X25519 = x25519.X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
_X448 = x448.X448PrivateKey.from_private_bytes(bytes(range(1, 57)))
_CURVES: dict[int, ec.EllipticCurve] = {23: ec.SECP256R1(), 24: ec.SECP384R1(), 25: ec.SECP521R1()}
_EC_KEYS = {group: ec.derive_private_key(7, curve) for group, curve in _CURVES.items()}


def _public(group: int) -> bytes:
    if group == 29:
        return _X25519.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if group == 30:
        return _X448.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _EC_KEYS[group].public_key().public_bytes(Encoding.X962,
                                                      PublicFormat.UncompressedPoint)


# The public key share the probe sends for each group it can share.
KEY_SHARES: dict[int, bytes] = {group: _public(group) for group in (29, 30, 23, 24, 25)}

# suite -> (hash name, key length, AEAD factory)
_SUITES = {
    0x1301: ("sha256", 16, AESGCM),
    0x1302: ("sha384", 32, AESGCM),
    0x1303: ("sha256", 32, ChaCha20Poly1305),
    0x1304: ("sha256", 16, AESCCM),
    0x1305: ("sha256", 16, lambda key: AESCCM(key, tag_length=8)),
}


@dataclass(frozen=True)
class Decrypted:
    """The server's encrypted handshake messages, and how many records carried each."""

    messages: tuple[HandshakeMessage, ...]
    records: tuple[int, ...]  # plaintext length of every encrypted handshake record


def _shared_secret(group: int, server_share: bytes) -> bytes:
    try:
        if group == 29:
            return _X25519.exchange(x25519.X25519PublicKey.from_public_bytes(server_share))
        if group == 30:
            return _X448.exchange(x448.X448PublicKey.from_public_bytes(server_share))
        if group in _CURVES:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[group], server_share)
            return _EC_KEYS[group].exchange(ec.ECDH(), peer)
    except ValueError:
        raise MalformedInput("the server's key share is not a valid public key") from None
    raise MalformedInput(f"no key share of group {group} was sent")


def _expand_label(hash_name: str, secret: bytes, label: str, context: bytes, length: int) -> bytes:
    full = b"tls13 " + label.encode()
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    algorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA384()
    return HKDFExpand(algorithm, length, info).derive(secret)


def _traffic_keys(suite: int, shared: bytes, transcript: bytes) -> tuple[object, bytes]:
    hash_name, key_length, aead = _SUITES[suite]
    size = hashlib.new(hash_name).digest_size
    zeros = bytes(size)
    early = hmac.new(zeros, zeros, hash_name).digest()
    empty = hashlib.new(hash_name, b"").digest()
    derived = _expand_label(hash_name, early, "derived", empty, size)
    handshake = hmac.new(derived, shared, hash_name).digest()
    digest = hashlib.new(hash_name, transcript).digest()
    secret = _expand_label(hash_name, handshake, "s hs traffic", digest, size)
    key = _expand_label(hash_name, secret, "key", b"", key_length)
    iv = _expand_label(hash_name, secret, "iv", b"", 12)
    return aead(key), iv


def decrypt(client_hello: bytes, flight: Flight, suite: int, group: int,
            server_share: bytes) -> Decrypted:
    """The encrypted handshake messages of a TLS 1.3 flight.

    `client_hello` is the ClientHello record the probe sent. Raises MalformedInput when the
    records do not decrypt or do not hold handshake messages.
    """
    if suite not in _SUITES:
        raise MalformedInput(f"suite 0x{suite:04X} is not a TLS 1.3 suite")
    hello = next(m for m in flight.messages if m.msg_type == SERVER_HELLO)
    server_hello = bytes([SERVER_HELLO]) + len(hello.body).to_bytes(3, "big") + hello.body
    cipher, iv = _traffic_keys(suite, _shared_secret(group, server_share),
                               client_hello[5:] + server_hello)
    buffer = b""
    messages: list[HandshakeMessage] = []
    sizes: list[int] = []
    pieces = 0
    records = [r for r in flight.records if r.content_type == APPLICATION_DATA]
    for sequence, record in enumerate(records):
        nonce = bytes(a ^ b for a, b in zip(iv, sequence.to_bytes(12, "big")))
        header = bytes([APPLICATION_DATA, 3, 3]) + len(record.payload).to_bytes(2, "big")
        try:
            inner = cipher.decrypt(nonce, record.payload, header)  # type: ignore[attr-defined]
        except (InvalidTag, ValueError):
            raise MalformedInput(f"encrypted record {sequence} does not decrypt") from None
        inner = inner.rstrip(b"\0")
        if not inner or inner[-1] != HANDSHAKE:
            break  # an alert or application data: the handshake part is over
        buffer += inner[:-1]
        sizes.append(len(inner) - 1)
        pieces += 1
        while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[1:4], "big"):
            length = int.from_bytes(buffer[1:4], "big")
            messages.append(HandshakeMessage(buffer[0], buffer[4:4 + length], pieces))
            buffer = buffer[4 + length:]
            pieces = 1 if buffer else 0
    return Decrypted(tuple(messages), tuple(sizes))


def parse_certificate(body: bytes) -> tuple[bytes, ...]:
    """The DER certificates of a TLS 1.3 Certificate message."""
    reader = Reader(body, "Certificate")
    reader.vector(1)  # certificate_request_context
    entries = reader.sub(3, "certificate list")
    reader.end()
    chain = []
    while entries.remaining():
        chain.append(entries.vector(3))
        entries.vector(2)  # per-certificate extensions
    return tuple(chain)


def parse_extensions(body: bytes, what: str, skip_context: bool = False
                     ) -> dict[int, bytes]:
    """Extensions of EncryptedExtensions (or of a CertificateRequest, after its context)."""
    reader = Reader(body, what)
    if skip_context:
        reader.vector(1)
    block = reader.sub(2, f"{what} extensions")
    reader.end()
    found: dict[int, bytes] = {}
    while block.remaining():
        kind = block.uint(2)
        found[kind] = block.vector(2)
    return found
