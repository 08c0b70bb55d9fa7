"""The handshake the device will run with one server, as a model. Pure.

From the probe's facts, the suite and version chosen, the certificates involved and the
device's own credentials: every handshake message the device sends (with its size: the output
buffer must hold the largest), and every signature it must verify or make, with the scheme,
hash and curve each needs. derive reads buffer sizes and signature options off this model
instead of keeping separate rules; the `verify_*`/`sign_*` features of `configgen/data/features.toml`
say what each scheme needs on each line.

Sizes follow the wire formats (RFC 5246 section 7.4, RFC 8446 section 4, RFC 8422 section 5);
each message counts its 4-byte handshake header, as mbedTLS holds it in its output buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from configgen.model.certificates import CertFacts, KeyType, PublicKeyFacts

# The device's ClientHello at most with the few suites and groups a generated header offers
# (SNI, ALPN and a TLS 1.3 key share included), in bytes.
CLIENT_HELLO_MAX = 512
_HEADER = 4  # handshake message type + 24-bit length

# Public values on the wire, in bytes: X25519/X448 raw, NIST and Brainpool curves uncompressed.
_POINT_BYTES = {"x25519": 32, "x448": 56}
# TLS 1.3 CertificateVerify with an EC key: the scheme fixes the hash by curve (RFC 8446 4.2.3).
_TLS13_ECDSA_HASH = {"secp256r1": "SHA-256", "secp384r1": "SHA-384", "secp521r1": "SHA-512"}


@dataclass(frozen=True, slots=True)
class Message:
    """One handshake message the device sends, and how its size follows."""

    name: str
    size: int  # bytes, handshake header included
    derivation: str


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature the device verifies (a chain link, ServerKeyExchange, CertificateVerify)
    or makes (its own CertificateVerify)."""

    makes: bool  # True: the device signs; False: it verifies
    scheme: str  # rsa_pkcs1v15 | rsassa_pss | ecdsa (as the knowledge base names them)
    hash: str | None  # "SHA-256"; None where the scheme leaves it to negotiation
    curve: str | None  # the signing key's curve, for ECDSA
    what: str  # what is signed, for the header's via line


@dataclass(frozen=True, slots=True)
class Handshake:
    version: str  # "1.2" | "1.3"
    sends: tuple[Message, ...]
    signatures: tuple[Signature, ...]
    prf: str | None = None  # the hash of TLS 1.2's PRF (RFC 5246 5: SHA-256 unless the suite names SHA-384)

    @property
    def largest_sent(self) -> Message:
        return max(self.sends, key=lambda m: m.size)


def point_bytes(group: str, bits: int | None) -> int:
    """The size of an (EC)DHE public value on `group` as a TLS 1.2 client sends it."""
    if group in _POINT_BYTES:
        return _POINT_BYTES[group]
    field = -(-(bits or 256) // 8)
    return 1 + 2 * field  # uncompressed point: 0x04 || X || Y


def _ecdsa_signature_bytes(bits: int | None) -> int:
    """DER ECDSA-Sig-Value at most: SEQUENCE of two INTEGERs of the curve's size (+1 sign byte)."""
    field = -(-(bits or 256) // 8)
    body = 2 * (2 + field + 1)
    return body + (3 if body > 127 else 2)


def signature_bytes(key: PublicKeyFacts) -> int:
    """The size of a signature made with `key`."""
    if key.type is KeyType.RSA:
        return -(-(key.bits or 2048) // 8)
    return _ecdsa_signature_bytes(key.bits)


def _scheme_of_key(key: PublicKeyFacts, version: str) -> str:
    if key.type is KeyType.RSA:
        return "rsassa_pss" if version == "1.3" else "rsa_pkcs1v15"
    return "ecdsa"


def _key_label(key: PublicKeyFacts) -> str:
    return f"RSA-{key.bits}" if key.type is KeyType.RSA else f"EC {key.curve}"


def client_key_exchange(key_exchange: str, group: str | None, group_bits: int | None,
                        dh_prime_bits: int | None, server_key: PublicKeyFacts | None) -> Message | None:
    """The TLS 1.2 ClientKeyExchange the device sends with a key exchange, or None (PSK)."""
    if key_exchange.startswith("ECDHE") or key_exchange.startswith("ECDH_"):
        point = point_bytes(group or "secp256r1", group_bits)
        return Message("ClientKeyExchange", _HEADER + 1 + point,
                       f"{point}-byte {group} public value")
    if key_exchange.startswith("DHE"):
        prime = -(-(dh_prime_bits or 2048) // 8)
        return Message("ClientKeyExchange", _HEADER + 2 + prime,
                       f"{prime}-byte public value in the server's {dh_prime_bits or 2048}-bit DH group")
    if key_exchange in ("RSA", "RSA_PSK") and server_key is not None:
        modulus = -(-(server_key.bits or 2048) // 8)
        return Message("ClientKeyExchange", _HEADER + 2 + modulus,
                       f"premaster secret encrypted to the server's RSA-{server_key.bits} key")
    return None


def prf_hash(suite_name: str) -> str:
    """The hash TLS 1.2's PRF runs on with a suite: SHA-384 for *_SHA384 suites, else SHA-256
    (also for CCM and CBC-SHA suites, whose names do not say it)."""
    return "SHA-384" if suite_name.endswith("SHA384") else "SHA-256"


def model(
    version: str,
    key_exchange: str,
    group: str | None,
    group_bits: int | None,
    dh_prime_bits: int | None,
    server_chain: Sequence[CertFacts],
    client_chain: Sequence[CertFacts],
    client_auth: bool,
    suite_name: str = "",
) -> Handshake:
    """The handshake with a server: `key_exchange` as the knowledge base names a suite's
    ("ECDHE_RSA", "DHE_RSA", "TLS1_3"...), the (EC)DHE group (and its size) or DH prime size
    the server uses, the chain it sends (leaf first; self-signed roots are not verified),
    and the device's own chain when the server asks for one (`client_auth`)."""
    leaf = server_chain[0] if server_chain else None
    sends = [Message("ClientHello", CLIENT_HELLO_MAX, "the ClientHello")]
    signatures: list[Signature] = []
    presents = client_auth and bool(client_chain)
    if presents:
        if version == "1.3":  # context byte, then each entry carries two bytes of extensions
            body = 1 + 3 + sum(3 + len(c.der) + 2 for c in client_chain)
        else:
            body = 3 + sum(3 + len(c.der) for c in client_chain)
        sends.append(Message("Certificate", _HEADER + body,
                             f"the device's chain of {len(client_chain)} certificate(s)"))
    elif client_auth:
        sends.append(Message("Certificate", _HEADER + 3 + (1 if version == "1.3" else 0),
                             "an empty Certificate (the device presents none)"))
    if version == "1.2":
        exchange = client_key_exchange(key_exchange, group, group_bits, dh_prime_bits,
                                       leaf.public_key if leaf else None)
        if exchange is not None:
            sends.append(exchange)
    if presents:
        key = client_chain[0].public_key
        sends.append(Message("CertificateVerify", _HEADER + 2 + 2 + signature_bytes(key),
                             f"a signature with the device's {_key_label(key)} key"))
        scheme = _scheme_of_key(key, version)
        signatures.append(Signature(True, scheme, _tls13_hash(key) if version == "1.3" else None,
                                    key.curve, f"signs its CertificateVerify with the device's {_key_label(key)} key"
                                    + (" (TLS 1.3: RSA with PSS)" if version == "1.3" and key.type is KeyType.RSA else "")))
    if leaf is not None:
        signatures += _server_signatures(version, key_exchange, leaf.public_key)
    for child in server_chain:
        if child.self_issued:
            continue  # a root: trusted or not, its own signature is never checked
        signatures.append(Signature(False, child.signature.scheme, child.signature.hash, None,
                                    f"verifies '{child.display_name}', signed {child.signature.name}"))
    return Handshake(version, tuple(sends), tuple(signatures),
                     prf_hash(suite_name) if version == "1.2" and suite_name else None)


def _tls13_hash(key: PublicKeyFacts) -> str:
    return _TLS13_ECDSA_HASH.get(key.curve or "", "SHA-256") if key.type is KeyType.EC else "SHA-256"


def _server_signatures(version: str, key_exchange: str, key: PublicKeyFacts) -> list[Signature]:
    """What the server signs in the handshake with its certificate's key."""
    label = _key_label(key)
    if version == "1.3":
        return [Signature(False, _scheme_of_key(key, version), _tls13_hash(key), key.curve,
                          f"verifies the server's CertificateVerify, signed with its {label} key"
                          + (" (TLS 1.3: RSA with PSS)" if key.type is KeyType.RSA else ""))]
    if key_exchange in ("ECDHE_RSA", "DHE_RSA", "ECDHE_ECDSA"):
        return [Signature(False, _scheme_of_key(key, version), None, key.curve,
                          f"verifies the server's ServerKeyExchange, signed with its {label} key")]
    return []
