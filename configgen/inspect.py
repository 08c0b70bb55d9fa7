"""The certificate inspector: files in, facts out, and what mbedTLS needs for them.

- `read_bytes(path)` is the only function here that touches the file system.
- `parse(data, where, password)` turns bytes into FileFacts (pure). The file is walked as
  mbedtls_x509_crt_parse_file() walks it (configgen/crtfile.py); names, keys and signatures
  are read with cryptography, extensions with asn1crypto, whose tolerant DER reader accepts
  what mbedTLS's parser accepts and cryptography refuses (a BOOLEAN encoded 01, keyUsage
  decipherOnly without keyAgreement). A key's facts keep its type, size and public
  fingerprint; the key object itself is dropped at once, and no key material is printed,
  logged or written.
- `certificate_verdict(cert, kb, role)` says, for one mbedTLS line, whether the default
  configuration parses the certificate, which options it needs (and why), and what cannot
  be helped; `file_needs(facts)` adds what the container needs (PEM).
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime as dt
import hashlib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from asn1crypto import cms as asn1cms
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
    Flaw,
    KeyEncryption,
    KeyFacts,
    KeyType,
    PublicKeyFacts,
    SignatureFacts,
    Slot,
)
from configgen.errors import CertificateError
from configgen.kb import cpp, releases
from configgen.kb.model import KnowledgeBase

MAX_FILE_BYTES = 10 * 1024 * 1024
# What x509_crt.c and pem.c need to read PEM (mbedTLS's `#if defined(MBEDTLS_PEM_PARSE_C)`
# around the PEM branch of mbedtls_x509_crt_parse, and pem.c's base64 decoding).
PEM_OPTIONS = ("MBEDTLS_PEM_PARSE_C", "MBEDTLS_BASE64_C")
MPI_OPTION = "MBEDTLS_MPI_MAX_SIZE"

# mbedTLS error codes the verdicts name (include/mbedtls/x509.h, pk.h, oid.h; same in 2.28 and 3.6).
ERR_UNKNOWN_SIG_ALG = -0x262E  # X509_UNKNOWN_SIG_ALG + OID_NOT_FOUND
ERR_UNKNOWN_PK_ALG = -0x3C80
ERR_UNKNOWN_NAMED_CURVE = -0x3A00
ERR_INVALID_PUBKEY = -0x3B00
ERR_FEATURE_UNAVAILABLE = -0x2080
ERR_INVALID_EXTENSIONS = -0x2562
EC_KEY_OID = "1.2.840.10045.2.1"
ERR_SIG_MISMATCH = -0x2680
# x509_crt.c x509_crt_parse_der_core (3.6.6:1262-1278, 2.28.3:1284-1302): extensions are read
# only from a version-3 certificate; in any other their bytes are left over at the end of the
# TBSCertificate: X509_INVALID_FORMAT + ASN1_LENGTH_MISMATCH. 2.28 has an option for it.
ERR_EXTENSIONS_NOT_V3 = -0x21E6
NON_V3_EXTENSIONS_OPTION = "MBEDTLS_X509_ALLOW_EXTENSIONS_NON_V3"
# x509_crt.c x509_get_basic_constraints (3.6.6:546, 2.28.3:526): "Do not accept max_pathlen
# equal to INT_MAX": X509_INVALID_EXTENSIONS + ASN1_INVALID_LENGTH.
ERR_PATHLEN_INT_MAX = -0x2564
INT_MAX = 2**31 - 1
# What mbedtls_x509_crt_parse() returns for a file, beside the certificates' own errors
# (x509_crt.c mbedtls_x509_crt_parse, pem.c, base64.c; error values from x509.h, pem.h, base64.h).
ERR_X509_INVALID_FORMAT = -0x2180  # no outer SEQUENCE
ERR_NOT_A_CERTIFICATE = -0x21E2  # X509_INVALID_FORMAT + ASN1_UNEXPECTED_TAG: no TBSCertificate
ERR_CERT_UNKNOWN_FORMAT = -0x2780  # PEM, but no CERTIFICATE block read
ERR_PEM_BASE64 = -0x112C  # PEM_INVALID_DATA + BASE64_INVALID_CHARACTER
ERR_PEM_INVALID_DATA = -0x1100
ERR_PEM_BAD_INPUT_DATA = -0x1480  # stops mbedtls_x509_crt_parse() at once (x509_crt.c:1449)
ERR_PEM_PASSWORD_REQUIRED = -0x1300
# Per flaw of a slot (configgen/crtfile.py), what it returns on each line; absent: that line
# reads on (2.28.3's base64.c has no length check; its pem.c no empty-output check).
FLAW_ERRORS: dict[Flaw, dict[str, int]] = {
    Flaw.SPACE_IN_LINE: {"2.28": ERR_PEM_BASE64, "3.6": ERR_PEM_BASE64},
    Flaw.BAD_CHARACTER: {"2.28": ERR_PEM_BASE64, "3.6": ERR_PEM_BASE64},
    Flaw.BASE64_LENGTH: {"3.6": ERR_PEM_BASE64},
    Flaw.EMPTY_PEM: {"2.28": ERR_PEM_INVALID_DATA, "3.6": ERR_PEM_INVALID_DATA},
    Flaw.BLANK_PEM: {"2.28": ERR_X509_INVALID_FORMAT, "3.6": ERR_PEM_BAD_INPUT_DATA},
    Flaw.ENCRYPTED_PEM: {"2.28": ERR_PEM_PASSWORD_REQUIRED, "3.6": ERR_PEM_PASSWORD_REQUIRED},
    Flaw.NOT_DER: {"2.28": ERR_X509_INVALID_FORMAT, "3.6": ERR_X509_INVALID_FORMAT},
    Flaw.NO_TBS: {"2.28": ERR_NOT_A_CERTIFICATE, "3.6": ERR_NOT_A_CERTIFICATE},
}
_REENCODE = "re-encode it: openssl x509 -in FILE -out FIXED.pem"
FLAW_TEXT: dict[Flaw, tuple[str, str]] = {
    Flaw.SPACE_IN_LINE: ("has a space inside a base64 line, which mbedtls_base64_decode() refuses "
                         "(base64.c: \"Space inside a line is an error\")", f"remove the spaces, or {_REENCODE}"),
    Flaw.BAD_CHARACTER: ("has a character that is not base64 (or '=' before the end)", _REENCODE),
    Flaw.BASE64_LENGTH: ("has a number of base64 digits that is not a multiple of 4 (a line cut short?)", _REENCODE),
    Flaw.EMPTY_PEM: ("is empty: END follows BEGIN", "put the certificate between BEGIN and END"),
    Flaw.BLANK_PEM: ("holds only white space", "put the certificate between BEGIN and END"),
    Flaw.ENCRYPTED_PEM: ("is an encrypted certificate (Proc-Type: 4,ENCRYPTED)", "decrypt it: openssl x509 -in FILE -out PLAIN.pem"),
    Flaw.NOT_DER: ("is neither PEM with a '-----BEGIN CERTIFICATE-----' line nor a DER certificate",
                   "give the certificate as PEM (BEGIN CERTIFICATE) or DER"),
    Flaw.NO_TBS: ("is DER but not a certificate (mbedTLS reads it as one certificate)", "give the certificate as PEM or DER"),
}

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
                                         f"({_describe(_pem_encryption(label, block))})", where=where,
                                         hint=_PASSWORD_HINT)
                if encrypted:
                    sealed = _pem_encryption(label, block)
                    keys.append((_decrypt_pem_key(block, password, f"{what}, encrypted with {_describe(sealed)},", where),
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
        _Tbs.read(der)
        _lenient_core(der)
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
            raise PasswordNeeded(f"is an encrypted private key ({_describe(_pkcs8_encryption(data))})",
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


def _lenient_core(der: bytes) -> _Core:
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
        names = _Tbs.read(der)
        return _Core(names.subject, names.issuer, names.common_name, format(tbs["serial_number"].native, "x"),
                     validity["not_before"].native.astimezone(dt.timezone.utc),
                     validity["not_after"].native.astimezone(dt.timezone.utc), public_key, signature)
    except _ASN1_ERRORS as error:
        raise ValueError(f"{type(error).__name__}: {error}") from None


def _cert_facts(der: bytes, cert: x509.Certificate | None, where: str, index: int, container: Container) -> CertFacts:
    label = f"certificate {index + 1}"
    try:
        tbs = _Tbs.read(der)
        core = _crypto_core(cert, der, tbs) if cert is not None else _lenient_core(der)
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


# --- verdicts per mbedTLS line ----------------------------------------------------------------


class Role(str, Enum):
    """Who parses the certificate on the device: the TLS layer (a certificate the server
    sends) or the application itself (its trust anchors, its own client certificate)."""

    PRESENTED = "presented"
    ANCHOR = "anchor"
    OWN = "own"  # the device's own certificate: it matches a private key given

    @property
    def parsed_by_application(self) -> bool:
        return self is not Role.PRESENTED


class Severity(str, Enum):
    ERROR = "error"  # the device cannot use it as the files stand
    WARNING = "warning"  # works only with a weakening, or after a change
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Need:
    """An option the device needs, with its value (None: just defined) and why."""

    option: str
    value: str | None
    reason: str
    weakens: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    code: str  # stable id: unsupported-signature, unsupported-key, unsupported-curve, ...
    message: str
    fix: str
    error: int | None = None  # the mbedTLS error code it causes


@dataclass(frozen=True, slots=True)
class CertVerdict:
    """What one mbedTLS line makes of one certificate."""

    label: str
    line: str
    parses_by_default: bool
    parse_error: int | None  # what the default configuration's parser returns, if it fails
    needs: tuple[Need, ...]
    problems: tuple[Problem, ...]
    callback: str | None = None  # C source of an extension callback, where one helps


@lru_cache(maxsize=8)
def _defaults(kb: KnowledgeBase) -> tuple[dict[str, str | None], cpp.Outcome]:
    options = {o.name: o.value for o in kb.options if o.default_enabled}
    return options, kb.evaluate(options)


def default_mpi_bytes(kb: KnowledgeBase) -> int:
    option = kb.option(MPI_OPTION)
    return int(option.value) if option is not None and option.value else 1024


def _guard_options(kb: KnowledgeBase, guard: str) -> list[str]:
    return sorted(n for n in cpp.identifiers(guard) if kb.option(n) is not None)


def _by(table: list[Mapping[str, Any]], key: str, value: Any) -> Mapping[str, Any] | None:
    return next((item for item in table if item.get(key) == value), None)


def certificate_verdict(cert: CertFacts, kb: KnowledgeBase, role: Role,
                        release: str | None = None) -> CertVerdict:
    """Can mbedTLS `kb.line` parse `cert` with its default configuration, which options does
    it need for it (needed to parse even a root: its own signature algorithm), and what cannot
    be helped. `release`: the exact release, where a patch-level fact decides (default: the
    knowledge base's own)."""
    x = kb.x509
    _, outcome = _defaults(kb)
    needs: list[Need] = []
    problems: list[Problem] = []
    errors: list[int | None] = []  # None: fails with a code that cannot be told in advance
    what = f"'{cert.display_name}'"

    def need_guard(guard: str, reason: str) -> None:
        for option in _guard_options(kb, guard):
            needs.append(Need(option, None, reason))
        if not outcome.holds(guard):
            errors.append(ERR_UNKNOWN_SIG_ALG)

    # The signature algorithm: mbedTLS looks its OID up while parsing, for every certificate.
    sig = cert.signature
    if not cert.signature_consistent:
        _signature_mismatch(cert, kb, problems, errors)
    entry = _by(x["signature_algorithms"], "oid", sig.oid)
    hash_entry = _by(x["hashes"], "name", sig.hash) if sig.hash else None
    if entry is None or (sig.scheme == "rsassa_pss" and hash_entry is None):
        errors.append(ERR_UNKNOWN_SIG_ALG)
        problems.append(Problem(
            Severity.ERROR, "unsupported-signature",
            f"{what} is signed with {sig.name}{f' ({sig.hash})' if sig.hash and entry else ''}, "
            f"which no configuration of mbedTLS {kb.line} can parse",
            _unsupported_fix(kb.line, "signature", sig.name, role), ERR_UNKNOWN_SIG_ALG,
        ))
    else:
        reason = (f"{cert.label}: {what} is signed {sig.name}" + (f" with {sig.hash}" if sig.scheme == "rsassa_pss" else "")
                  + " (parsing needs it, even for a root's own signature)")
        need_guard(entry["guard"], reason)
        if hash_entry is not None:
            needs.append(Need(hash_entry["option"], None, reason))
            if not outcome.holds(hash_entry["guard"]):
                errors.append(ERR_UNKNOWN_SIG_ALG)

    # The public key: its algorithm OID, its curve, its size.
    key = cert.public_key
    pk_entry = _by(x["pk_types"], "oid", key.oid)
    if pk_entry is None or pk_entry["guard"] == "0":
        errors.append(ERR_UNKNOWN_PK_ALG)
        problems.append(Problem(
            Severity.ERROR, "unsupported-key",
            f"{what} has {article(key.describe())} {key.describe()} key, which no configuration of mbedTLS {kb.line} can parse",
            _unsupported_fix(kb.line, "key", key.describe(), role), ERR_UNKNOWN_PK_ALG,
        ))
    elif key.type is KeyType.OTHER and key.oid == EC_KEY_OID:
        # An EC key that does not decode: pkparse.c checks the point (mbedtls_ecp_check_pubkey),
        # as OpenSSL does; the code depends on where it breaks (ASN.1, ECP).
        errors.append(None)
        problems.append(Problem(
            Severity.ERROR, "damaged-key",
            f"{what} has a public key that does not decode (damaged, or an EC point off its curve); "
            f"mbedTLS {kb.line} refuses it too", "get the certificate again from its issuer", None,
        ))
    else:
        reason = f"{cert.label}: {what} has {article(key.describe())} {key.describe()} key"
        need_guard(pk_entry["guard"], reason)
        if key.type is KeyType.RSA and key.bits:
            size = math.ceil(key.bits / 8)
            needs.append(Need(MPI_OPTION, str(size), f"{reason}: {key.bits} bits = {size} bytes"))
            if size > default_mpi_bytes(kb):
                errors.append(ERR_INVALID_PUBKEY)
        if key.type is KeyType.EC:
            group = _by(x["groups"], "oid", key.curve_oid) if key.curve_oid else None
            if group is None or group["guard"] == "0":
                errors.append(ERR_UNKNOWN_NAMED_CURVE)
                problems.append(Problem(
                    Severity.ERROR, "unsupported-curve",
                    f"{what} has a key on {key.curve or key.curve_oid}, a curve mbedTLS {kb.line} does not know",
                    _unsupported_fix(kb.line, "curve", key.curve or "this curve", role), ERR_UNKNOWN_NAMED_CURVE,
                ))
            else:
                needs.append(Need(group["option"], None, f"{reason} (curve {group['name']})"))
                if not outcome.holds(group["guard"]):
                    errors.append(ERR_UNKNOWN_NAMED_CURVE)

    _basic_constraints(cert, kb, problems, errors, release or kb.version)
    _malformed_extensions(cert, kb, outcome, problems, errors)
    callback = _critical_extensions(cert, kb, role, needs, problems, errors)
    _extensions_not_v3(cert, kb, outcome, needs, problems, errors)
    unique = tuple(sorted(set(needs), key=lambda n: (n.option, n.value or "", n.reason)))
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}
    return CertVerdict(
        label=cert.label,
        line=kb.line,
        parses_by_default=not errors,
        parse_error=errors[0] if errors else None,
        needs=unique,
        problems=tuple(sorted(problems, key=lambda p: (order[p.severity], p.code))),
        callback=callback,
    )


def _signature_mismatch(cert: CertFacts, kb: KnowledgeBase, problems: list[Problem], errors: list[int | None]) -> None:
    """x509_crt_parse_der_core looks up the TBSCertificate's signature algorithm (an unknown one:
    ERR_UNKNOWN_SIG_ALG) and then requires the outer one to be identical (3.6.6:1281-1290:
    MBEDTLS_ERR_X509_SIG_MISMATCH)."""
    known = _by(kb.x509["signature_algorithms"], "oid", cert.tbs_signature_oid) is not None
    errors.append(ERR_SIG_MISMATCH if known else ERR_UNKNOWN_SIG_ALG)
    problems.append(Problem(
        Severity.ERROR, "signature-mismatch",
        f"'{cert.display_name}' names signature algorithm {cert.tbs_signature_oid} inside its "
        f"TBSCertificate and {cert.signature.oid} outside it; mbedTLS {kb.line} requires them identical",
        "the certificate is damaged; get it again from its issuer", ERR_SIG_MISMATCH if known else ERR_UNKNOWN_SIG_ALG,
    ))


def _basic_constraints(cert: CertFacts, kb: KnowledgeBase, problems: list[Problem], errors: list[int | None],
                       release: str) -> None:
    """x509_get_basic_constraints refuses a pathLenConstraint of INT_MAX (see ERR_PATHLEN_INT_MAX),
    and mbedtls_asn1_get_int() one that is negative or does not fit an int (asn1parse.c
    asn1_get_tagged_int: "Reject negative integers", "Reject integers that don't fit in an int"):
    the same code."""
    if cert.path_length is not None and not 0 <= cert.path_length < INT_MAX:
        errors.append(ERR_PATHLEN_INT_MAX)
        problems.append(Problem(
            Severity.ERROR, "pathlen-int-max",
            f"'{cert.display_name}' has a pathLenConstraint of {cert.path_length}, which mbedTLS "
            f"{kb.line} refuses (x509_crt.c, asn1parse.c: it must be 0 to INT_MAX - 1)",
            "reissue the certificate without pathLenConstraint, or with a small one", ERR_PATHLEN_INT_MAX,
        ))
    fact = releases.facts_for(release).fact(BASIC_INTEGER_FIRST)
    if cert.basic_integer_first and fact is not None and fact.holds_for(release):
        errors.append(ERR_INVALID_EXTENSIONS)
        problems.append(Problem(
            Severity.ERROR, "basic-constraints-integer-first",
            f"'{cert.display_name}' has a basicConstraints that starts with a pathLenConstraint "
            f"(no cA field): mbedTLS {release} {fact.says}", fact.fix, ERR_INVALID_EXTENSIONS))


def _malformed_extensions(cert: CertFacts, kb: KnowledgeBase, outcome: cpp.Outcome,
                          problems: list[Problem], errors: list[int | None]) -> None:
    """An extension this line parses whose value is malformed: X509_INVALID_EXTENSIONS plus an
    ASN.1 error that depends on where the value breaks (so no single code is predicted)."""
    parsed = {e["oid"] for e in kb.x509["extensions"] if outcome.holds(e["guard"])}
    bad = [e for e in cert.extensions if not e.well_formed and e.oid in parsed]
    if cert.version != 3 or not bad:
        return
    errors.append(None)
    problems.append(Problem(
        Severity.ERROR, "malformed-extension",
        f"'{cert.display_name}' has a malformed {', '.join(e.name for e in bad)} extension, which "
        f"mbedTLS {kb.line} parses and refuses (MBEDTLS_ERR_X509_INVALID_EXTENSIONS + an ASN.1 error)",
        "reissue the certificate; the issuing tool wrote a broken extension", None,
    ))


def _extensions_not_v3(cert: CertFacts, kb: KnowledgeBase, outcome: cpp.Outcome, needs: list[Need],
                       problems: list[Problem], errors: list[int | None]) -> None:
    """Extensions in a certificate that is not version 3 (see ERR_EXTENSIONS_NOT_V3)."""
    if cert.version == 3 or not cert.extensions:
        return
    message = (f"'{cert.display_name}' is a version-{cert.version} certificate carrying extensions; "
               f"mbedTLS {kb.line} reads extensions only in version 3")
    if kb.option(NON_V3_EXTENSIONS_OPTION) is not None:
        needs.append(Need(NON_V3_EXTENSIONS_OPTION, None, f"{cert.label}: {message}"))
        if outcome.holds(f"defined({NON_V3_EXTENSIONS_OPTION})"):
            return
        severity, fix = Severity.WARNING, f"define {NON_V3_EXTENSIONS_OPTION}, or reissue the certificate as version 3"
    else:
        severity, fix = Severity.ERROR, "reissue the certificate as version 3 (openssl x509 -req ... -extfile ... writes v3)"
    errors.append(ERR_EXTENSIONS_NOT_V3)
    problems.append(Problem(severity, "extensions-not-v3", message, fix, ERR_EXTENSIONS_NOT_V3))


def _critical_extensions(
    cert: CertFacts, kb: KnowledgeBase, role: Role, needs: list[Need], problems: list[Problem], errors: list[int | None]
) -> str | None:
    x = kb.x509
    _, outcome = _defaults(kb)
    handled = {e["oid"]: e for e in x["extensions"] if outcome.holds(e["guard"])}
    refused: list[tuple[ExtensionFacts, tuple[str, ...], int]] = []
    for ext in cert.extensions:
        if not ext.critical:
            continue
        if ext.oid not in handled:
            refused.append((ext, (), ERR_INVALID_EXTENSIONS))
        elif ext.policies:
            other = tuple(p for p in ext.policies if p not in x["policies"])
            if other:
                refused.append((ext, other, ERR_FEATURE_UNAVAILABLE))
    if not refused:
        return None
    what = f"'{cert.display_name}'"
    parts = [
        f"{e.name} ({e.oid}) with polic{'y' if len(p) == 1 else 'ies'} {', '.join(p)}" if p else f"{e.name} ({e.oid})"
        for e, p, _ in refused
    ]
    errors.append(refused[0][2])
    message = f"{what} has critical extension{'s' if len(parts) > 1 else ''} mbedTLS {kb.line} does not support: {'; '.join(parts)}"
    option = x.get("critical_extension_option")
    if option:
        needs.append(Need(option, None, f"{cert.label}: {message}", weakens=True))
        problems.append(Problem(
            Severity.WARNING, "unsupported-critical-extension", message,
            f"define {option}: the parser then skips unsupported critical extensions, in the "
            "server's chain too. Security warning: the constraint the extension carries is not "
            "enforced; do this only if you accept that for this certificate.",
            refused[0][2],
        ))
        return None
    callback_api = x.get("extension_callback")
    if role.parsed_by_application and callback_api:
        source = callback_source(cert, refused)
        problems.append(Problem(
            Severity.WARNING, "unsupported-critical-extension", message,
            f"mbedTLS {kb.line} has no option for this. Parse this certificate yourself with "
            f"{callback_api}() (DER only) and the callback below, which accepts exactly these "
            "extensions; it helps only for certificates the application parses itself (trust "
            "anchors, its own client certificate), never for certificates the server sends.",
            refused[0][2],
        ))
        return source
    problems.append(Problem(
        Severity.ERROR, "unsupported-critical-extension", message,
        f"no configuration of mbedTLS {kb.line} accepts this certificate when the server sends it: "
        "the TLS layer parses the server's chain without an extension callback. Ask for a "
        "certificate without the critical extension (or with anyPolicy), or use mbedTLS 2.28 "
        "with MBEDTLS_X509_ALLOW_UNSUPPORTED_CRITICAL_EXTENSION.",
        refused[0][2],
    ))
    return None


def oid_bytes(dotted: str) -> list[int]:
    """The content octets of an OID's DER encoding (what mbedTLS compares against)."""
    arcs = [int(a) for a in dotted.split(".")]
    out: list[int] = []
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return out


def _c_bytes(dotted: str) -> str:
    return ", ".join(f"0x{b:02x}" for b in oid_bytes(dotted))


def callback_source(cert: CertFacts, refused: list[tuple[ExtensionFacts, tuple[str, ...], int]]) -> str:
    """A ready `mbedtls_x509_crt_ext_cb_t` accepting exactly the refused extensions of `cert`
    (for certificatePolicies: exactly its policy OIDs, checked inside the extension)."""
    lines = [
        f"/* Accepts the critical extensions of \"{cert.display_name}\" that mbedTLS does not",
        " * support, and nothing else. Use: mbedtls_x509_crt_parse_der_with_ext_cb(&chain, der,",
        " *     der_len, 1, configgen_accept_extensions, NULL); */",
        "#include <string.h>",
        "#include \"mbedtls/x509_crt.h\"",
        "#include \"mbedtls/oid.h\"",
        "",
        "static int configgen_oid_is(const mbedtls_x509_buf *oid, const unsigned char *want, size_t len)",
        "{",
        "    return oid->len == len && memcmp(oid->p, want, len) == 0;",
        "}",
        "",
        "int configgen_accept_extensions(void *ctx, mbedtls_x509_crt const *crt,",
        "                                mbedtls_x509_buf const *oid, int critical,",
        "                                const unsigned char *p, const unsigned char *end)",
        "{",
        "    (void) ctx; (void) crt; (void) critical;",
    ]
    for ext, policies, _ in refused:
        lines.append(f"    {{   /* {ext.name} {ext.oid} */")
        lines.append(f"        static const unsigned char ext_oid[] = {{ {_c_bytes(ext.oid)} }};")
        lines.append("        if (configgen_oid_is(oid, ext_oid, sizeof ext_oid)) {")
        if policies:
            lines += [
                "            /* certificatePolicies: accept only if every policy is one of these */",
                "            const unsigned char *q = p;",
                "            size_t len;",
                "            if (mbedtls_asn1_get_tag((unsigned char **) &q, end, &len,",
                "                    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {",
                "                return -1;",
                "            }",
                "            while (q < end) {",
                "                const unsigned char *info_end;",
                "                mbedtls_x509_buf policy;",
                "                int known = 0;",
                "                if (mbedtls_asn1_get_tag((unsigned char **) &q, end, &len,",
                "                        MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {",
                "                    return -1;",
                "                }",
                "                info_end = q + len;",
                "                if (mbedtls_asn1_get_tag((unsigned char **) &q, info_end, &policy.len,",
                "                        MBEDTLS_ASN1_OID) != 0) {",
                "                    return -1;",
                "                }",
                "                policy.p = (unsigned char *) q;",
            ]
            for number, policy in enumerate(list(policies) + ["2.5.29.32.0"]):
                lines.append(f"                {{   static const unsigned char p{number}[] = {{ {_c_bytes(policy)} }};  /* {policy} */")
                lines.append(f"                    known |= configgen_oid_is(&policy, p{number}, sizeof p{number}); }}")
            lines += [
                "                if (!known) {",
                "                    return -1;",
                "                }",
                "                q = info_end;",
                "            }",
                "            return 0;",
            ]
        else:
            lines.append("            (void) p; (void) end;")
            lines.append("            return 0;")
        lines.append("        }")
        lines.append("    }")
    lines += ["    return -1;  /* anything else stays refused */", "}", ""]
    return "\n".join(lines)


def article(word: str) -> str:
    """The article before a key description: an RSA-2048, an EC secp256r1, a DSA."""
    return "an" if word[:1].upper() in "AEFHILMNORSX" else "a"


def _unsupported_fix(line: str, kind: str, what: str, role: Role) -> str:
    whose = "the server's certificate" if role is Role.PRESENTED else "this certificate"
    return (
        f"mbedTLS {line} has no option for a {kind} like {what}: replace {whose} with one "
        "using RSA (2048+ bits) or ECDSA on P-256/P-384 and a SHA-2 signature"
    )


def file_needs(facts: FileFacts) -> tuple[Need, ...]:
    """What the file's container needs: PEM input needs the PEM parser and base64."""
    if facts.container.is_pem:
        return tuple(Need(option, None, f"{facts.source} is PEM") for option in PEM_OPTIONS)
    return ()


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """What mbedtls_x509_crt_parse_file() returns for one file on one line, as x509_crt.c
    combines its slots: 0 when every certificate parsed, the number that failed when some
    did, else the first error. `result` is None where the code cannot be told in advance."""

    source: str
    line: str
    parses_by_default: bool
    result: int | None
    problems: tuple[Problem, ...]


# The releases.toml fact of basicConstraints read strictly (3.6.7 and later).
BASIC_INTEGER_FIRST = "basic-constraints-integer-first-refused"


def file_verdict(facts: FileFacts, kb: KnowledgeBase, role: Role = Role.ANCHOR,
                 release: str | None = None) -> FileVerdict:
    """Does the default configuration of `kb.line` read the certificates of this file with
    mbedtls_x509_crt_parse_file() (or _parse() with the file's bytes and their NUL)?"""
    problems = _unreached(facts)
    explained = bool(problems)  # the file read as DER: the container or the label says why
    codes: list[int | None] = []  # per slot: 0 parsed, an error, or None (not known)
    for number, slot in enumerate(facts.slots, start=1):
        where = f"PEM block {number}" if slot.pem else "the file"
        flaw_code = FLAW_ERRORS[slot.flaw].get(kb.line) if slot.flaw else None
        if flaw_code is not None and slot.flaw is not None:
            text, fix = FLAW_TEXT[slot.flaw]
            problems += [] if explained and not slot.pem else [Problem(Severity.ERROR, slot.flaw.value, f"{facts.source}: {where} {text}",
                                    fix.replace("FILE", facts.source), flaw_code)]
            codes.append(flaw_code)
            if flaw_code == ERR_PEM_BAD_INPUT_DATA:
                break
        elif slot.cert is None:
            codes.append(None)  # configgen cannot read it; mbedTLS's code is not known
        else:
            verdict = certificate_verdict(facts.certificates[slot.cert], kb, role, release)
            codes.append(0 if verdict.parses_by_default else verdict.parse_error)
        if slot.trailing:
            problems.append(Problem(Severity.NOTE, "trailing-bytes",
                                    f"{facts.source}: {slot.trailing} byte(s) after the DER certificate, which mbedTLS ignores",
                                    "nothing to do; or cut the file to the certificate", None))
    result = _combine(codes, facts.slots, ERR_PEM_BAD_INPUT_DATA in codes)
    return FileVerdict(facts.source, kb.line, result == 0, result, tuple(problems))


def _combine(codes: list[int | None], slots: tuple[Slot, ...], stopped: bool) -> int | None:
    """x509_crt.c mbedtls_x509_crt_parse (3.6.6:1394-1500): DER is one certificate; PEM counts
    the blocks that failed when one parsed, else returns the first error."""
    if stopped:
        return ERR_PEM_BAD_INPUT_DATA
    if not slots:
        return ERR_CERT_UNKNOWN_FORMAT
    if not slots[0].pem:
        return codes[0]
    failed = [c for c in codes if c != 0]
    if len(failed) < len(codes):
        return len(failed)
    return failed[0]


def _unreached(facts: FileFacts) -> list[Problem]:
    """Certificates configgen read that mbedtls_x509_crt_parse() never reaches."""
    reached = {s.cert for s in facts.slots}
    missed = [c for c in facts.certificates if c.index not in reached]
    if not missed:
        return []
    source = facts.source
    if facts.container in (Container.PKCS7_PEM, Container.PKCS7_DER):
        inform = " -inform DER" if facts.container is Container.PKCS7_DER else ""
        return [Problem(Severity.ERROR, "pkcs7-container",
                        f"{source} is a PKCS#7 container ({len(facts.certificates)} certificate(s)); "
                        "mbedtls_x509_crt_parse() cannot read PKCS#7",
                        f"embed the certificates as PEM or DER: openssl pkcs7{inform} -print_certs -in {source} -out certs.pem",
                        None)]
    if facts.container is Container.PKCS12:
        return [Problem(Severity.ERROR, "pkcs12-container",
                        f"{source} is a PKCS#12 file; mbedtls_x509_crt_parse() cannot read PKCS#12",
                        f"embed the certificates as PEM or DER: openssl pkcs12 -in {source} -nokeys -out certs.pem "
                        "(and the key: -nocerts -nodes -out key.pem, for mbedtls_pk_parse_key())",
                        None)]
    labels = ", ".join(str(c.index + 1) for c in missed)
    return [Problem(Severity.ERROR, "pem-label",
                    f"{source}: certificate(s) {labels} are not in '-----BEGIN CERTIFICATE-----' blocks, "
                    "the only PEM label mbedtls_x509_crt_parse() reads",
                    f"relabel them BEGIN/END CERTIFICATE, or re-encode: openssl x509 -in {source} -out FIXED.pem",
                    None)]


def matches(cert: CertFacts, key: KeyFacts) -> bool:
    """Whether `key` is the private half of `cert`'s public key (SHA-256 of the SPKI)."""
    return cert.public_key.fingerprint == key.public_key.fingerprint


@dataclass(frozen=True, slots=True)
class Decryption:
    """What mbedtls_pk_parse_key() needs to decrypt one encryption scheme on one line."""

    options: tuple[str, ...]
    ciphers: Mapping[str, str]  # cipher name -> the option that implements it


_DES = {"DES-CBC": "MBEDTLS_DES_C", "DES-EDE3-CBC": "MBEDTLS_DES_C"}
_AES = {f"AES-{n}-CBC": "MBEDTLS_AES_C" for n in (128, 192, 256)}
_PKCS8 = ("MBEDTLS_PK_PARSE_C", "MBEDTLS_CIPHER_C", "MBEDTLS_CIPHER_PADDING_PKCS7", "MBEDTLS_CIPHER_MODE_CBC", "MBEDTLS_MD_C")
# Per line and scheme (KeyEncryption.scheme), mirrored from the sources:
# - "rfc1421": pem.c PEM_RFC1421 (3.6.6:29-33 MD_CAN_MD5 + CIPHER_MODE_CBC + DES_C or AES_C;
#   2.28.3:9-10 the same with MD5_C) and its DEK-Info table (pem.c 3.6.6:346-389): DES-EDE3-CBC and
#   DES-CBC with DES_C, AES-128/192/256-CBC with AES_C; the key is MD5(password || IV) (pem_pbkdf1,
#   through mbedtls_md in 3.6.6, mbedtls_md5 directly in 2.28.3).
# - "pbes2": pkparse.c pk_parse_key_pkcs8_encrypted_der (3.6.6:939-952, 2.28.3 alike): PKCS5_C +
#   CIPHER_PADDING_PKCS7 + CIPHER_C; pkcs5.c takes the cipher from oid.c oid_cipher_alg (2.28.3:595-617:
#   DES-CBC and DES-EDE3-CBC only; 3.6.6:676-710 adds AES-128/192/256-CBC) and the PBKDF2 PRF from
#   oid_md_hmac (HMAC over the hash option).
# - "pkcs12-pbe": pkparse.c (3.6.6:924-938): PKCS12_C + CIPHER_PADDING_PKCS7 + CIPHER_C; oid.c
#   oid_pkcs12_pbe_alg (2.28.3:750-776, 3.6.6:891-919): SHA-1 with DES-EDE3-CBC or DES-EDE-CBC.
# PBES1 (pbeWithMD5AndDES-CBC, ...) is in neither line's pkparse.c; PKCS#12 files are not read by
# mbedtls_pk_parse_key() at all.
KEY_DECRYPTION: dict[str, dict[str, Decryption]] = {
    "2.28": {
        "rfc1421": Decryption(("MBEDTLS_PEM_PARSE_C", "MBEDTLS_BASE64_C", "MBEDTLS_CIPHER_MODE_CBC"), {**_DES, **_AES}),
        "pbes2": Decryption(("MBEDTLS_PKCS5_C", *_PKCS8), _DES),
        "pkcs12-pbe": Decryption(("MBEDTLS_PKCS12_C", *_PKCS8), {"DES-EDE3-CBC": "MBEDTLS_DES_C", "DES-EDE-CBC": "MBEDTLS_DES_C"}),
    },
    "3.6": {
        "rfc1421": Decryption(("MBEDTLS_PEM_PARSE_C", "MBEDTLS_BASE64_C", "MBEDTLS_CIPHER_MODE_CBC", "MBEDTLS_MD_C"),
                              {**_DES, **_AES}),
        "pbes2": Decryption(("MBEDTLS_PKCS5_C", *_PKCS8), {**_DES, **_AES}),
        "pkcs12-pbe": Decryption(("MBEDTLS_PKCS12_C", *_PKCS8), {"DES-EDE3-CBC": "MBEDTLS_DES_C", "DES-EDE-CBC": "MBEDTLS_DES_C"}),
    },
}


def key_needs(key: KeyFacts, kb: KnowledgeBase) -> tuple[Need, ...]:
    """Every option mbedTLS `kb.line` needs to load the device's private key with
    mbedtls_pk_parse_key(): its type, curve or size, and what decrypts it."""
    return key_verdict(key, kb)[0]


def _decryption(key: KeyFacts, kb: KnowledgeBase) -> tuple[list[Need], list[Problem]]:
    sealed = key.encryption
    if sealed is None:
        return [], []
    what = f"the private key in {key.source} is encrypted with {_describe(sealed)}"
    rule = KEY_DECRYPTION.get(kb.line, {}).get(sealed.scheme)
    hash_entry = _by(kb.x509["hashes"], "name", sealed.hash) if sealed.hash else None
    option = rule.ciphers.get(sealed.cipher or "") if rule else None
    if rule is None or option is None or (sealed.hash and hash_entry is None):
        fix = ("convert it: openssl pkcs12 -in FILE -nocerts -out key.pem (then re-encrypt as below, or leave it plain)"
               if sealed.format == "pkcs12" else "")
        best = "aes-256-cbc" if "AES-256-CBC" in KEY_DECRYPTION.get(kb.line, {}).get("pbes2", Decryption((), {})).ciphers else "des3"
        fix = fix or f"re-encrypt it as mbedTLS {kb.line} can: openssl pkcs8 -topk8 -v2 {best} -in {key.source} -out key.pem"
        return [], [Problem(Severity.ERROR, "unsupported-key-encryption",
                            f"{what}, which mbedtls_pk_parse_key() of mbedTLS {kb.line} cannot decrypt", fix)]
    reason = f"{key.source}: private key encrypted with {_describe(sealed)}"
    needs = [Need(o, None, reason) for o in (*rule.options, option)]
    if hash_entry is not None:
        needs.append(Need(hash_entry["option"], None, f"{reason} (key derivation with {sealed.hash})"))
    return needs, []


def _describe(sealed: KeyEncryption) -> str:
    kinds = {"rfc1421": "PEM encryption (RFC 1421, MD5 key derivation)", "pbes2": "PKCS#8 PBES2 (PBKDF2)",
             "pkcs12-pbe": "PKCS#8 with a PKCS#12 PBE", "pbes1": "PKCS#8 PBES1", "pkcs12": "a PKCS#12 password"}
    parts = [kinds.get(sealed.scheme, f"PKCS#8 {sealed.scheme}")]
    parts += [p for p in (sealed.cipher, f"HMAC-{sealed.hash}" if sealed.scheme == "pbes2" and sealed.hash else None) if p]
    return ", ".join(parts)


def key_verdict(key: KeyFacts, kb: KnowledgeBase) -> tuple[tuple[Need, ...], tuple[Problem, ...]]:
    """What a device's own private key needs: its type, its curve or its size, and what
    decrypts it; and what cannot be helped."""
    needs, problems = _decryption(key, kb)
    found_needs, found_problems = _key_type(key, kb)
    return (tuple(sorted(set(needs + list(found_needs)), key=lambda n: (n.option, n.reason))),
            tuple(problems) + found_problems)


def _key_type(key: KeyFacts, kb: KnowledgeBase) -> tuple[tuple[Need, ...], tuple[Problem, ...]]:
    fake = key.public_key
    x = kb.x509
    reason = f"{key.source}: private key {fake.describe()}"
    pk_entry = _by(x["pk_types"], "oid", fake.oid)
    if pk_entry is None:
        return (), (Problem(Severity.ERROR, "unsupported-key",
                            f"the private key in {key.source} is {fake.describe()}, which mbedTLS {kb.line} cannot use",
                            "use an RSA (2048+ bits) or EC P-256 key", ERR_UNKNOWN_PK_ALG),)
    needs = [Need(o, None, reason) for o in _guard_options(kb, pk_entry["guard"])]
    if fake.type is KeyType.RSA and fake.bits:
        size = math.ceil(fake.bits / 8)
        needs.append(Need(MPI_OPTION, str(size), f"{reason}: {fake.bits} bits = {size} bytes"))
    if fake.type is KeyType.EC:
        group = _by(x["groups"], "oid", fake.curve_oid)
        if group is None or group["guard"] == "0":
            return tuple(needs), (Problem(Severity.ERROR, "unsupported-curve",
                                          f"the private key in {key.source} is on {fake.curve}, unknown to mbedTLS {kb.line}",
                                          "use an EC P-256 key", ERR_UNKNOWN_NAMED_CURVE),)
        needs.append(Need(group["option"], None, f"{reason} (curve {group['name']})"))
    return tuple(sorted(set(needs), key=lambda n: (n.option, n.reason))), ()
