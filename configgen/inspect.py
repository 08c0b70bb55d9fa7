"""The certificate reader: files in, facts out (what mbedTLS makes of them: configgen/verdicts.py).

- `read_bytes(path)` is the only function here that touches the file system.
- `parse(data, where, password)` turns bytes into FileFacts (pure). The file is walked as
  mbedtls_x509_crt_parse_file() walks it (configgen/crtfile.py); names, keys and signatures
  are read with cryptography, extensions with asn1crypto, whose tolerant DER reader accepts
  what mbedTLS's parser accepts and cryptography refuses (a BOOLEAN encoded 01, keyUsage
  decipherOnly without keyAgreement). A key's facts keep its type, size and public
  fingerprint; the key object itself is dropped at once, and no key material is printed,
  logged or written.
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime as dt
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import core as asn1core
from asn1crypto import keys as asn1keys
from asn1crypto import parser as asn1parser
from asn1crypto import x509 as asn1x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import SignatureAlgorithmOID

from configgen import crtfile
from configgen.model.certificates import (
    CertFacts,
    Container,
    ExtensionFacts,
    FileFacts,
    KeyEncryption,
    KeyFacts,
    KeyType,
    PublicKeyFacts,
    SignatureFacts,
    Slot,
)
from configgen.errors import CertificateError
from configgen.verdicts import describe_encryption

MAX_FILE_BYTES = 10 * 1024 * 1024


_PEM_BEGIN = b"-----BEGIN "
_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE"}
_PKCS7_LABELS = {"PKCS7", "CMS"}
_KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY"}
_HASH_NAMES = {
    "md5": "MD5", "sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384",
    "sha512": "SHA-512", "sha3-224": "SHA-3-224", "sha3-256": "SHA-3-256", "sha3-384": "SHA-3-384",
    "sha3-512": "SHA-3-512",
}
_PSS = SignatureAlgorithmOID.RSASSA_PSS
_SCHEMES = {
    SignatureAlgorithmOID.ED25519: "ed25519",
    SignatureAlgorithmOID.ED448: "ed448",
}


# What cryptography raises for bytes that are not what they claim to be (KeyError: a name
# attribute whose string tag it does not know, seen from the hypothesis test).
_DECODE_ERRORS = (ValueError, TypeError, KeyError, UnsupportedAlgorithm, x509.InvalidVersion)

# What asn1crypto raises on bytes that are not what they claim to be (seen from the
# hypothesis test and a mutation run against real mbedTLS: an AttributeError from a value cut
# short, an IndexError from a bit string).
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


class PasswordNeeded(CertificateError):
    """The file is encrypted (PKCS#12 or an encrypted key) and no password was given."""


# --- reading ----------------------------------------------------------------------------------


def read_bytes(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of one certificate or key file, or a CertificateError naming the problem."""
    from configgen import readers  # the input layer; imported here, the one place that reads

    data = readers.read_bytes(path, readers.CERTIFICATE, limit)
    if not data:
        raise CertificateError("is empty", where=str(path))
    return data


def parse(data: bytes, where: str, password: bytes | None = None) -> FileFacts:
    """Every certificate and private key in one file's bytes.

    PEM (any mix of CERTIFICATE, PKCS7 and private-key blocks), DER certificate, DER PKCS#7,
    PKCS#12 and DER private keys (PKCS#1, PKCS#8, SEC1) are understood. Raises
    PasswordNeeded when an encrypted part needs a password, CertificateError otherwise.
    """
    with warnings.catch_warnings():
        # cryptography warns about what it will refuse one day (e.g. a root's serial of 0,
        # in Debian's ca-certificates); mbedTLS reads those, so the facts keep them quietly.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        slots = crtfile.walk(data)
        if _PEM_BEGIN in data[:4096] or data.lstrip().startswith(b"-----"):
            facts = _parse_pem(data, where, password)
        else:
            facts = _parse_der(data, slots[0], where, password)
    return dataclasses.replace(facts, slots=_pair(slots, facts.certificates))


def _pair(slots: tuple[Slot, ...], certs: tuple[CertFacts, ...]) -> tuple[Slot, ...]:
    """Each slot with the certificate it holds (the same DER, in file order: a bundle may
    hold one certificate twice)."""
    free = list(certs)
    paired = []
    for slot in slots:
        cert = next((c for c in free if slot.der is not None and c.der == slot.der), None)
        if cert is not None:
            free.remove(cert)
        paired.append(dataclasses.replace(slot, cert=cert.index if cert else None))
    return tuple(paired)


def _pem_blocks(data: bytes, where: str) -> list[tuple[str, bytes]]:
    blocks: list[tuple[str, bytes]] = []
    rest = data
    while True:
        start = rest.find(_PEM_BEGIN)
        if start < 0:
            return blocks
        header_end = rest.find(b"-----", start + len(_PEM_BEGIN))
        if header_end < 0:
            raise CertificateError("has a PEM header without its closing dashes", where=where)
        label = rest[start + len(_PEM_BEGIN) : header_end].decode("ascii", "replace").strip()
        footer = f"-----END {label}-----".encode()
        end = rest.find(footer, header_end)
        if end < 0:
            raise CertificateError(f"PEM block {label!r} has no END line (file truncated?)", where=where)
        blocks.append((label, rest[start : end + len(footer)] + b"\n"))
        rest = rest[end + len(footer) :]


def _parse_pem(data: bytes, where: str, password: bytes | None) -> FileFacts:
    blocks = _pem_blocks(data, where)
    if not blocks:
        raise CertificateError("looks like PEM but holds no BEGIN/END block", where=where)
    certs: list[_Loaded] = []
    keys: list[tuple[Any, KeyEncryption | None]] = []
    container = Container.PEM
    for number, (label, block) in enumerate(blocks, start=1):
        what = f"PEM block {number} ({label})"
        try:
            if label in _CERT_LABELS:
                certs.append(_pem_certificate(block, what, where))
            elif label in _PKCS7_LABELS:
                certs.extend(_pkcs7_certificates(pem_der(block), f"{what} is a PKCS#7 container", where))
                container = Container.PKCS7_PEM
            elif label in _KEY_LABELS:
                encrypted = label == "ENCRYPTED PRIVATE KEY" or b"ENCRYPTED" in block[:200]
                if encrypted and password is None:
                    raise PasswordNeeded(f"{what} is an encrypted private key "
                                         f"({describe_encryption(_pem_encryption(label, block))})", where=where,
                                         hint=_PASSWORD_HINT)
                if encrypted:
                    sealed = _pem_encryption(label, block)
                    keys.append((_decrypt_pem_key(block, password, f"{what}, encrypted with {describe_encryption(sealed)},", where),
                                 sealed))
                else:
                    keys.append((serialization.load_pem_private_key(block, None), None))
            elif label == "CERTIFICATE REQUEST" or label == "NEW CERTIFICATE REQUEST":
                raise CertificateError(f"{what} is a certificate signing request, not a certificate",
                                       where=where, hint="inspect the certificate the CA issued for it")
            elif label == "PUBLIC KEY" or label == "RSA PUBLIC KEY":
                raise CertificateError(f"{what} is a bare public key, not a certificate", where=where)
            else:
                raise CertificateError(f"{what}: configgen does not read {label} blocks", where=where,
                                       hint="give certificates (CERTIFICATE, PKCS7) or private keys")
        except CertificateError:
            raise
        except _DECODE_ERRORS as error:
            raise CertificateError(f"{what} is not valid: {_reason(error)}", where=where) from None
    return _facts(where, container, certs, keys)


def _pem_certificate(block: bytes, what: str, where: str) -> _Loaded:
    """A CERTIFICATE block decoded as leniently as mbedTLS decodes it (binascii ignores a
    non-canonical last digit, which cryptography's PEM reader refuses); whether mbedTLS reaches
    the block at all is crtfile.walk's question."""
    try:
        der = pem_der(block)
    except binascii.Error as error:
        raise CertificateError(f"{what} is not valid base64: {error}", where=where) from None
    return _load_certificate(_outer(der))


# A certificate's DER, and cryptography's view of it (None where cryptography refuses what
# asn1crypto, as tolerant as x509.c, reads: the facts then come from asn1crypto alone).
_Loaded = tuple[bytes, x509.Certificate | None]


def _load_certificate(der: bytes) -> _Loaded:
    """ValueError when neither cryptography nor asn1crypto reads `der` as a certificate."""
    try:
        return der, x509.load_der_x509_certificate(der)
    except _DECODE_ERRORS:
        _lenient_core(der, _Tbs.read(der))
        return der, None


def pem_der(block: bytes) -> bytes:
    """The DER inside one PEM block (binascii: tolerant of a non-canonical last digit)."""
    return binascii.a2b_base64(b"".join(line for line in block.splitlines() if not line.startswith(b"-----")))


def _outer(der: bytes) -> bytes:
    """The certificate's own bytes: mbedTLS ignores what follows the outer SEQUENCE."""
    slot = crtfile.der_slot(der, pem=False)
    return slot.der if slot.der is not None else der


def _decrypt_pem_key(block: bytes, password: bytes | None, what: str, where: str) -> Any:
    try:
        return serialization.load_pem_private_key(block, password)
    except _DECODE_ERRORS:
        raise CertificateError(f"{what} cannot be decrypted: wrong password, damaged key, or an "
                               "encryption the Python cryptography library does not undo", where=where) from None


def _parse_der(data: bytes, slot: Slot, where: str, password: bytes | None) -> FileFacts:
    if not data[:1] == b"\x30":
        raise CertificateError(
            "is neither PEM nor DER (a certificate, PKCS#7, PKCS#12 or private key)", where=where
        )
    if slot.der is not None:
        try:
            return _facts(where, Container.DER, [_load_certificate(slot.der)], [])
        except _DECODE_ERRORS:
            pass
    if _is_pkcs7(data):
        return _facts(where, Container.PKCS7_DER, _pkcs7_certificates(data, "is a PKCS#7 container", where), [])
    for loader in (_der_key, _pkcs12):
        found = loader(data, where, password)
        if found is not None:
            return found
    raise CertificateError(
        "is DER but not a certificate, PKCS#7, PKCS#12 or private key (truncated or damaged?)",
        where=where,
    )


_PKCS7_HINT = "mbedtls_x509_crt_parse() cannot read PKCS#7 anyway: embed the certificates as PEM or DER"


def _signed_data(der: bytes) -> Any:
    """A PKCS#7 (CMS) ContentInfo's SignedData, a bare SignedData, or None for another CMS
    type; ValueError when the bytes are no PKCS#7 at all."""
    from asn1crypto import cms as asn1cms  # PKCS#7 only: loaded when a file is one
    try:
        info = asn1cms.ContentInfo.load(der)
        kind = info["content_type"].native
        if "." in kind:
            raise ValueError(f"not a CMS content type: {kind}")
        return info["content"] if kind == "signed_data" else None
    except _ASN1_ERRORS:
        signed = asn1cms.SignedData.load(der)
        signed["digest_algorithms"].native  # noqa: B018 - proves the shape
        return signed


def _is_pkcs7(der: bytes) -> bool:
    try:
        _signed_data(der)
    except _ASN1_ERRORS:
        return False
    return True


def _pkcs7_certificates(der: bytes, what: str, where: str) -> list[_Loaded]:
    """The certificates of a PKCS#7 (CMS) container, read with asn1crypto, which also takes
    the signed, unsigned and odd ones cryptography's PKCS#7 loader refuses."""
    try:
        content = _signed_data(der)
        found = [c.chosen.dump() for c in content["certificates"]] if content is not None and content["certificates"].native else []
        certs = [_load_certificate(_outer(c)) for c in found]
    except (*_DECODE_ERRORS, *_ASN1_ERRORS) as error:
        raise CertificateError(f"{what} that cannot be read: {_reason(error)}", where=where, hint=_PKCS7_HINT) from None
    if not certs:
        raise CertificateError(f"{what} without certificates", where=where, hint=_PKCS7_HINT)
    return certs


def _der_key(data: bytes, where: str, password: bytes | None) -> FileFacts | None:
    try:
        key = serialization.load_der_private_key(data, None)
        return _facts(where, Container.DER, [], [(key, None)])
    except TypeError:  # encrypted PKCS#8
        if password is None:
            raise PasswordNeeded(f"is an encrypted private key ({describe_encryption(_pkcs8_encryption(data))})",
                                 where=where, hint=_PASSWORD_HINT) from None
        try:
            key = serialization.load_der_private_key(data, password)
        except _DECODE_ERRORS:
            raise CertificateError("encrypted private key: wrong password", where=where) from None
        return _facts(where, Container.DER, [], [(key, _pkcs8_encryption(data))])
    except _DECODE_ERRORS:
        return None


def _pkcs12(data: bytes, where: str, password: bytes | None) -> FileFacts | None:
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except _DECODE_ERRORS:
        if not _looks_like_pkcs12(data):
            return None
        if password is None:
            raise PasswordNeeded("is a PKCS#12 file protected by a password", where=where,
                                 hint=_PASSWORD_HINT) from None
        raise CertificateError("PKCS#12: wrong password (or damaged file)", where=where) from None
    certs = [(c.public_bytes(serialization.Encoding.DER), c) for c in
             ([bundle.cert.certificate] if bundle.cert else []) + [c.certificate for c in bundle.additional_certs]]
    sealed = KeyEncryption("pkcs12", "pkcs12", None, None) if password not in (None, b"") else None
    keys = [(bundle.key, sealed)] if bundle.key is not None else []
    return _facts(where, Container.PKCS12, certs, keys)


# asn1crypto's names of ciphers and PBE schemes, as mbedTLS names them (cipher.h, oid.c).
_CIPHERS = {("tripledes", 24): "DES-EDE3-CBC", ("tripledes", 16): "DES-EDE-CBC", ("des", 8): "DES-CBC"}
_PKCS12_PBE = {"pkcs12_sha1_tripledes_3key": "DES-EDE3-CBC", "pkcs12_sha1_tripledes_2key": "DES-EDE-CBC",
               "pkcs12_sha1_rc2_128": "RC2-128-CBC", "pkcs12_sha1_rc2_40": "RC2-40-CBC",
               "pkcs12_sha1_rc4_128": "RC4-128", "pkcs12_sha1_rc4_40": "RC4-40"}


def _pem_encryption(label: str, block: bytes) -> KeyEncryption:
    """A PEM key's encryption: PKCS#8 inside ENCRYPTED PRIVATE KEY, or RFC 1421 headers
    (Proc-Type: 4,ENCRYPTED / DEK-Info: CIPHER,IV), whose key is derived with MD5."""
    if label == "ENCRYPTED PRIVATE KEY":
        return _pkcs8_encryption(pem_der(block))
    info = next((line for line in block.splitlines() if line.startswith(b"DEK-Info:")), b"DEK-Info: ?,")
    return KeyEncryption("pem", "rfc1421", info[9:].split(b",")[0].strip().decode("ascii", "replace"), "MD5")


def _pkcs8_encryption(der: bytes) -> KeyEncryption:
    """EncryptedPrivateKeyInfo's algorithm, read with asn1crypto (PBES2 with its KDF, PRF and
    cipher; PKCS#12 PBE; PBES1)."""
    try:
        algorithm = asn1keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
        name = algorithm["algorithm"].native
        if name == "pbes2":
            cipher = algorithm.encryption_cipher
            size = algorithm.key_length
            text = f"AES-{size * 8}-CBC" if cipher == "aes" else _CIPHERS.get((cipher, size), f"{cipher.upper()}-CBC")
            prf = _HASH_NAMES.get(algorithm.kdf_hmac, algorithm.kdf_hmac.upper()) if algorithm.kdf == "pbkdf2" else None
            return KeyEncryption("pkcs8", "pbes2", text, prf)
        if name in _PKCS12_PBE:
            return KeyEncryption("pkcs8", "pkcs12-pbe", _PKCS12_PBE[name], "SHA-1")
        if name.startswith("pbes1_"):
            hash_name, cipher = name.split("_")[1:3]
            return KeyEncryption("pkcs8", "pbes1", f"{cipher.upper()}-CBC", _HASH_NAMES.get(hash_name, hash_name.upper()))
        return KeyEncryption("pkcs8", str(name), None, None)
    except _ASN1_ERRORS:
        return KeyEncryption("pkcs8", "unknown", None, None)


def _looks_like_pkcs12(data: bytes) -> bool:
    """PFX starts SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ... } }: the version and the
    pkcs7-data OID appear near the start (a byte search, not a parse)."""
    return b"\x02\x01\x03\x30" in data[:12] and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01" in data[:40]


_PASSWORD_HINT = "pass --password-env VAR naming an environment variable that holds it, or run on a terminal to be asked"


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rstrip(".")[:160]


# --- facts ----------------------------------------------------------------------------------


def _facts(where: str, container: Container, certs: Sequence[_Loaded],
           keys: list[tuple[Any, KeyEncryption | None]]) -> FileFacts:
    if not certs and not keys:
        raise CertificateError("holds no certificate and no private key", where=where)
    cert_facts = tuple(_cert_facts(der, cert, where, i, container) for i, (der, cert) in enumerate(certs))
    # Only the public half of each key survives this point.
    key_facts = tuple(
        KeyFacts(where, i, container, sealed is not None, _public_key_facts(key.public_key(), None), sealed)
        for i, (key, sealed) in enumerate(keys)
    )
    return FileFacts(where, container, cert_facts, key_facts)


def _curve_oids() -> dict[str, str]:
    found: dict[str, str] = {}
    for attr in dir(ec.EllipticCurveOID):
        oid = getattr(ec.EllipticCurveOID, attr)
        if isinstance(oid, x509.ObjectIdentifier):
            try:
                found[str(ec.get_curve_for_oid(oid).name)] = oid.dotted_string
            except LookupError:
                continue
    return found


_CURVE_OIDS = _curve_oids()


def _public_key_facts(key: Any, algorithm_oid: str | None) -> PublicKeyFacts:
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    fingerprint = hashlib.sha256(spki).hexdigest()
    if isinstance(key, rsa.RSAPublicKey):
        return PublicKeyFacts(KeyType.RSA, algorithm_oid or "1.2.840.113549.1.1.1", key.key_size, None, None, fingerprint)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return PublicKeyFacts(KeyType.EC, algorithm_oid or "1.2.840.10045.2.1", key.curve.key_size,
                              key.curve.name, _CURVE_OIDS.get(key.curve.name), fingerprint)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKeyFacts(KeyType.ED25519, algorithm_oid or "1.3.101.112", 256, None, None, fingerprint)
    if isinstance(key, ed448.Ed448PublicKey):
        return PublicKeyFacts(KeyType.ED448, algorithm_oid or "1.3.101.113", 456, None, None, fingerprint)
    if isinstance(key, dsa.DSAPublicKey):
        return PublicKeyFacts(KeyType.DSA, algorithm_oid or "1.2.840.10040.4.1", key.key_size, None, None, fingerprint)
    return PublicKeyFacts(KeyType.OTHER, algorithm_oid or "", None, None, None, fingerprint)


@dataclass(frozen=True, slots=True)
class _Core:
    """What cryptography reads of a certificate, or asn1crypto where cryptography refuses."""

    subject: str
    issuer: str
    common_name: str | None
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    public_key: PublicKeyFacts
    signature: SignatureFacts


def _crypto_core(cert: x509.Certificate, der: bytes, tbs: _Tbs) -> _Core:
    spki_oid = cert.public_key_algorithm_oid.dotted_string
    try:
        public_key = _public_key_facts(cert.public_key(), spki_oid)
    except _DECODE_ERRORS:
        public_key = PublicKeyFacts(KeyType.OTHER, spki_oid, None, None, None, hashlib.sha256(der).hexdigest())
    try:
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
        cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        common_name = str(cn[0].value) if cn else None
    except _DECODE_ERRORS:  # a name string cryptography refuses; mbedTLS keeps names as bytes
        subject, issuer, common_name = tbs.subject, tbs.issuer, tbs.common_name
    return _Core(subject, issuer, common_name, format(cert.serial_number, "x"), cert.not_valid_before_utc,
                 cert.not_valid_after_utc, public_key, _signature_facts(cert))


_ASN1_SCHEMES = {"rsassa_pkcs1v15": "rsa_pkcs1v15", "rsassa_pss": "rsassa_pss", "ecdsa": "ecdsa",
                 "dsa": "dsa", "ed25519": "ed25519", "ed448": "ed448"}
_ASN1_KEYS = {"rsa": KeyType.RSA, "rsassa_pss": KeyType.RSA, "ec": KeyType.EC, "ed25519": KeyType.ED25519,
              "ed448": KeyType.ED448, "dsa": KeyType.DSA}


def _lenient_core(der: bytes, names: _Tbs) -> _Core:
    """The same facts from asn1crypto, for a certificate cryptography refuses (x509.c reads
    names, serials and keys as bytes; cryptography checks them)."""
    try:
        whole = asn1x509.Certificate.load(der)
        tbs = whole["tbs_certificate"]
        spki = tbs["subject_public_key_info"]
        kind = _ASN1_KEYS.get(spki.algorithm, KeyType.OTHER)
        curve = spki["algorithm"]["parameters"].chosen.dotted if kind is KeyType.EC else None
        public_key = PublicKeyFacts(
            kind, spki["algorithm"]["algorithm"].dotted, spki.bit_size if kind is not KeyType.OTHER else None,
            spki.curve[1] if kind is KeyType.EC else None, curve, hashlib.sha256(spki.dump()).hexdigest())
        algorithm = whole["signature_algorithm"]
        oid = algorithm["algorithm"].dotted
        scheme = _ASN1_SCHEMES.get(algorithm.signature_algo, "unknown")
        digest = algorithm.hash_algo if scheme not in ("ed25519", "ed448", "unknown") else None
        signature = SignatureFacts(oid, x509.ObjectIdentifier(oid)._name,
                                   _HASH_NAMES.get(digest, digest.upper()) if digest else None, scheme)
        validity = tbs["validity"]
        return _Core(names.subject, names.issuer, names.common_name, format(tbs["serial_number"].native, "x"),
                     validity["not_before"].native.astimezone(dt.timezone.utc),
                     validity["not_after"].native.astimezone(dt.timezone.utc), public_key, signature)
    except _ASN1_ERRORS as error:
        raise ValueError(f"{type(error).__name__}: {error}") from None


def _cert_facts(der: bytes, cert: x509.Certificate | None, where: str, index: int, container: Container) -> CertFacts:
    label = f"certificate {index + 1}"
    try:
        tbs = _Tbs.read(der)
        core = _crypto_core(cert, der, tbs) if cert is not None else _lenient_core(der, tbs)
        facts = CertFacts(
            source=where,
            index=index,
            container=container,
            subject=core.subject,
            issuer=core.issuer,
            common_name=core.common_name,
            serial=core.serial,
            not_before=core.not_before,
            not_after=core.not_after,
            version=tbs.version,
            public_key=core.public_key,
            signature=core.signature,
            is_ca=tbs.basic[0],
            path_length=tbs.basic[1],
            basic_integer_first=tbs.basic_integer_first,
            key_usage=tbs.key_usage,
            extended_key_usage=tbs.eku,
            dns_names=tbs.dns_names,
            ip_addresses=tbs.ip_addresses,
            extensions=tbs.extensions,
            tbs_signature_oid=tbs.signature_oid,
            signature_consistent=tbs.signature_consistent,
            fingerprint=hashlib.sha256(der).hexdigest(),
            der=der,
        )
    except CertificateError:
        raise
    except _DECODE_ERRORS as error:
        raise CertificateError(f"{label} cannot be decoded: {_reason(error)}", where=where) from None
    return facts


def _signature_facts(cert: x509.Certificate) -> SignatureFacts:
    oid = cert.signature_algorithm_oid
    try:
        digest = cert.signature_hash_algorithm
        hash_name = _HASH_NAMES.get(digest.name, digest.name.upper()) if digest else None
    except UnsupportedAlgorithm:
        hash_name = None
    name = oid._name
    if oid == _PSS:
        scheme = "rsassa_pss"
    elif oid in _SCHEMES:
        scheme = _SCHEMES[oid]
    elif "RSA" in name.upper():
        scheme = "rsa_pkcs1v15"
    elif "ecdsa" in name.lower():
        scheme = "ecdsa"
    elif "dsa" in name.lower():
        scheme = "dsa"
    else:
        scheme = "unknown"
    return SignatureFacts(oid.dotted_string, name, hash_name, scheme)


_KEY_USAGE_NAMES = {"non_repudiation": "content_commitment"}  # asn1crypto -> cryptography's names
_KEY_USAGE_ORDER = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")


@dataclass(frozen=True, slots=True)
class _Tbs:
    """A certificate's version and extensions as asn1crypto reads them: tolerant, as
    x509_crt.c is (it takes any non-zero BOOLEAN, and keyUsage bits in any combination)."""

    version: int  # 1, 2 or 3, as X.509 numbers them
    basic: tuple[bool | None, int | None]
    key_usage: tuple[str, ...] | None
    eku: tuple[str, ...]
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    extensions: tuple[ExtensionFacts, ...]
    signature_oid: str  # the TBSCertificate's own signature algorithm
    signature_consistent: bool  # identical to the outer signatureAlgorithm, parameters too
    subject: str  # RFC 4514-like, every value decoded as UTF-8 with replacement: used only
    issuer: str  # where cryptography refuses a name string (x509.c keeps the bytes)
    common_name: str | None
    basic_integer_first: bool = False  # basicConstraints' first field is an INTEGER

    @classmethod
    def read(cls, der: bytes) -> _Tbs:
        """Everything read at once, so a damaged value raises ValueError here and nowhere else."""
        try:
            whole = asn1x509.Certificate.load(der)
            tbs = whole["tbs_certificate"]
            found = tbs["extensions"]
            items = () if isinstance(found, asn1core.Void) else tuple(found)
            values: dict[str, Any] = {}
            for item in reversed(items):  # the first of a repeated extension wins
                values[item["extn_id"].native] = item["extn_value"].parsed
            basic, usage = values.get("basic_constraints"), values.get("key_usage")
            eku = values.get("extended_key_usage")
            return cls(
                int(tbs["version"].native[1:]),
                (None, None) if basic is None else (bool(basic["ca"].native), basic["path_len_constraint"].native),
                None if usage is None else _key_usage(usage.native),
                () if eku is None else tuple(x509.ObjectIdentifier(p.dotted)._name for p in eku),
                _san(values, "dns_name"),
                _san(values, "ip_address"),
                tuple(_extension_facts(item) for item in items),
                tbs["signature"]["algorithm"].dotted,
                tbs["signature"].dump() == whole["signature_algorithm"].dump(),
                _lenient_name(tbs["subject"]),
                _lenient_name(tbs["issuer"]),
                next((v for k, v in _name_values(tbs["subject"]) if k == _CN_OID), None),
                basic is not None and basic.contents[:1] == b"\x02",
            )
        except _ASN1_ERRORS as error:
            raise ValueError(f"{type(error).__name__}: {error}") from None


_CN_OID = "2.5.4.3"


def _name_values(name: Any) -> list[tuple[str, str]]:
    return [(attr["type"].dotted, attr["value"].chosen.contents.decode("utf-8", "replace")
             if isinstance(attr["value"], asn1core.Choice) else attr["value"].contents.decode("utf-8", "replace"))
            for rdn in name.chosen for attr in rdn]


def _lenient_name(name: Any) -> str:
    return ",".join(f"{x509.ObjectIdentifier(oid)._name}={value}" for oid, value in reversed(_name_values(name)))


def _san(values: dict[str, Any], kind: str) -> tuple[str, ...]:
    """subjectAltName entries of one kind; a dNSName that is not ASCII, or an entry of a type
    asn1crypto does not know, is kept or skipped as x509.c does (it keeps bytes, skips
    unknown types) instead of failing the certificate."""
    san = values.get("subject_alt_name")
    if san is None:
        return ()
    try:
        names = list(san)
    except _ASN1_ERRORS:
        return ()
    if kind == "dns_name":
        return tuple(n.chosen.contents.decode("utf-8", "replace") for n in names if n.name == kind)
    return tuple(str(n.native) for n in names if n.name == kind)


def _key_usage(names: set[str]) -> tuple[str, ...]:
    used = {_KEY_USAGE_NAMES.get(n, n) for n in names}
    return tuple(n for n in _KEY_USAGE_ORDER if n in used)


def _extension_facts(item: Any) -> ExtensionFacts:
    oid = item["extn_id"].dotted
    policies = (tuple(p["policy_identifier"].dotted for p in item["extn_value"].parsed)
                if item["extn_id"].native == "certificate_policies" else ())
    return ExtensionFacts(oid, x509.ObjectIdentifier(oid)._name, bool(item["critical"].native), policies,
                          _well_formed(item["extn_value"]))


def _well_formed(value: Any) -> bool:
    """Whether an extension's value is exactly its ASN.1 type: no bytes after it, no field the
    type does not have (x509_crt.c checks both for every extension it parses, e.g.
    x509_get_authority_key_id's `if (*p != end) return ... LENGTH_MISMATCH`)."""
    kind = type(value.parsed)
    if kind is asn1core.Any:
        return True  # a type asn1crypto does not know: not judged here
    try:
        again = kind.load(value.contents, strict=True)
        if kind is asn1x509.GeneralNames:
            return all(_general_name_ok(name) for name in _children(again.contents))
        again.native  # noqa: B018 - parses every field
    except UnicodeDecodeError:
        return True  # text that is not text: x509.c keeps the bytes
    except _ASN1_ERRORS:
        return False
    fields = getattr(again, "_fields", None)
    return not fields or len(again.children) <= len(fields)


# The GeneralName types x509.c parses inside subjectAltName (3.6.6 mbedtls_x509_parse_subject_alt_name:
# otherName, rfc822Name, dNSName, directoryName, uniformResourceIdentifier, iPAddress); it skips
# the others without looking inside.
_SAN_PARSED_TAGS = {0, 1, 2, 4, 6, 7}


def _children(contents: bytes) -> list[bytes]:
    out, rest = [], contents
    while rest:
        _, _, _, header, content, trailer = asn1parser.parse(rest)
        size = len(header) + len(content) + len(trailer)
        out.append(rest[:size])
        rest = rest[size:]
    return out


def _general_name_ok(encoded: bytes) -> bool:
    class_, _, tag, *_ = asn1parser.parse(encoded)
    if class_ != 2:  # x509.c: a GeneralName must be context-specific
        return False
    if tag not in _SAN_PARSED_TAGS:
        return True
    try:
        asn1x509.GeneralName.load(encoded, strict=True).native  # noqa: B018 - parses it
    except UnicodeDecodeError:
        return True
    except _ASN1_ERRORS:
        return False
    return True


