"""The certificate inspector: files in, facts out, and what mbedTLS needs for them.

- `read_bytes(path)` is the only function here that touches the file system.
- `parse(data, where, password)` turns bytes into FileFacts (pure; cryptography does all
  the ASN.1). A key's facts keep its type, size and public fingerprint; the key object
  itself is dropped at once, and no key material is printed, logged or written.
- `certificate_verdict(cert, kb, role)` says, for one mbedTLS line, whether the default
  configuration parses the certificate, which options it needs (and why), and what cannot
  be helped; `file_needs(facts)` adds what the container needs (PEM).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtensionOID, SignatureAlgorithmOID

from configgen.certfacts import (
    CertFacts,
    Container,
    ExtensionFacts,
    FileFacts,
    KeyFacts,
    KeyType,
    PublicKeyFacts,
    SignatureFacts,
)
from configgen.errors import CertificateError
from configgen.kb import cpp
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
        if _PEM_BEGIN in data[:4096] or data.lstrip().startswith(b"-----"):
            return _parse_pem(data, where, password)
        return _parse_der(data, where, password)


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
    certs: list[x509.Certificate] = []
    keys: list[tuple[Any, bool]] = []
    container = Container.PEM
    for number, (label, block) in enumerate(blocks, start=1):
        what = f"PEM block {number} ({label})"
        try:
            if label in _CERT_LABELS:
                certs.append(x509.load_pem_x509_certificate(block))
            elif label in _PKCS7_LABELS:
                certs.extend(pkcs7.load_pem_pkcs7_certificates(block))
                container = Container.PKCS7_PEM
            elif label in _KEY_LABELS:
                encrypted = label == "ENCRYPTED PRIVATE KEY" or b"ENCRYPTED" in block[:200]
                if encrypted and password is None:
                    raise PasswordNeeded(f"{what} is an encrypted private key", where=where,
                                         hint=_PASSWORD_HINT)
                if encrypted:
                    keys.append((_decrypt_pem_key(block, password, what, where), True))
                else:
                    keys.append((serialization.load_pem_private_key(block, None), False))
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


def _decrypt_pem_key(block: bytes, password: bytes | None, what: str, where: str) -> Any:
    try:
        return serialization.load_pem_private_key(block, password)
    except _DECODE_ERRORS:
        raise CertificateError(f"{what}: wrong password (or damaged key)", where=where) from None


def _parse_der(data: bytes, where: str, password: bytes | None) -> FileFacts:
    if not data[:1] == b"\x30":
        raise CertificateError(
            "is neither PEM nor DER (a certificate, PKCS#7, PKCS#12 or private key)", where=where
        )
    try:
        return _facts(where, Container.DER, [x509.load_der_x509_certificate(data)], [])
    except _DECODE_ERRORS:
        pass
    try:
        return _facts(where, Container.PKCS7_DER, pkcs7.load_der_pkcs7_certificates(data), [])
    except _DECODE_ERRORS:
        pass
    for loader in (_der_key, _pkcs12):
        found = loader(data, where, password)
        if found is not None:
            return found
    raise CertificateError(
        "is DER but not a certificate, PKCS#7, PKCS#12 or private key (truncated or damaged?)",
        where=where,
    )


def _der_key(data: bytes, where: str, password: bytes | None) -> FileFacts | None:
    try:
        key = serialization.load_der_private_key(data, None)
        return _facts(where, Container.DER, [], [(key, False)])
    except TypeError:  # encrypted PKCS#8
        if password is None:
            raise PasswordNeeded("is an encrypted private key", where=where, hint=_PASSWORD_HINT) from None
        try:
            key = serialization.load_der_private_key(data, password)
        except _DECODE_ERRORS:
            raise CertificateError("encrypted private key: wrong password", where=where) from None
        return _facts(where, Container.DER, [], [(key, True)])
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
    certs = ([bundle.cert.certificate] if bundle.cert else []) + [c.certificate for c in bundle.additional_certs]
    keys = [(bundle.key, password not in (None, b""))] if bundle.key is not None else []
    return _facts(where, Container.PKCS12, certs, keys)


def _looks_like_pkcs12(data: bytes) -> bool:
    """PFX starts SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ... } }: the version and the
    pkcs7-data OID appear near the start (a byte search, not a parse)."""
    return b"\x02\x01\x03\x30" in data[:12] and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01" in data[:40]


_PASSWORD_HINT = "pass --password-env VAR naming an environment variable that holds it, or run on a terminal to be asked"


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rstrip(".")[:160]


# --- facts ----------------------------------------------------------------------------------


def _facts(where: str, container: Container, certs: list[x509.Certificate], keys: list[tuple[Any, bool]]) -> FileFacts:
    if not certs and not keys:
        raise CertificateError("holds no certificate and no private key", where=where)
    cert_facts = tuple(_cert_facts(cert, where, i, container) for i, cert in enumerate(certs))
    # Only the public half of each key survives this point.
    key_facts = tuple(
        KeyFacts(where, i, container, encrypted, _public_key_facts(key.public_key(), None))
        for i, (key, encrypted) in enumerate(keys)
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


def _cert_facts(cert: x509.Certificate, where: str, index: int, container: Container) -> CertFacts:
    label = f"certificate {index + 1}"
    try:
        der = cert.public_bytes(serialization.Encoding.DER)
        spki_oid = cert.public_key_algorithm_oid.dotted_string
        try:
            public_key = _public_key_facts(cert.public_key(), spki_oid)
        except _DECODE_ERRORS:
            public_key = PublicKeyFacts(KeyType.OTHER, spki_oid, None, None, None,
                                        hashlib.sha256(der).hexdigest())
        extensions = cert.extensions
        basic = _basic(extensions)
        cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        facts = CertFacts(
            source=where,
            index=index,
            container=container,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            common_name=str(cn[0].value) if cn else None,
            serial=format(cert.serial_number, "x"),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            version=1 if cert.version is x509.Version.v1 else 3,
            public_key=public_key,
            signature=_signature_facts(cert),
            is_ca=basic[0],
            path_length=basic[1],
            key_usage=_key_usage(extensions),
            extended_key_usage=_eku(extensions),
            dns_names=_san(extensions, x509.DNSName),
            ip_addresses=_san(extensions, x509.IPAddress),
            extensions=tuple(
                ExtensionFacts(
                    e.oid.dotted_string, e.oid._name, e.critical,
                    tuple(p.policy_identifier.dotted_string for p in e.value)
                    if isinstance(e.value, x509.CertificatePolicies) else (),
                )
                for e in extensions
            ),
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


def _ext(extensions: x509.Extensions, oid: x509.ObjectIdentifier) -> Any:
    try:
        return extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _basic(extensions: x509.Extensions) -> tuple[bool | None, int | None]:
    value = _ext(extensions, ExtensionOID.BASIC_CONSTRAINTS)
    return (None, None) if value is None else (value.ca, value.path_length)


def _key_usage(extensions: x509.Extensions) -> tuple[str, ...] | None:
    value = _ext(extensions, ExtensionOID.KEY_USAGE)
    if value is None:
        return None
    names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign"]
    used = [n for n in names if getattr(value, n)]
    if value.key_agreement:
        used += [n for n in ("encipher_only", "decipher_only") if getattr(value, n)]
    return tuple(used)


def _eku(extensions: x509.Extensions) -> tuple[str, ...]:
    value = _ext(extensions, ExtensionOID.EXTENDED_KEY_USAGE)
    return tuple(o._name for o in value) if value is not None else ()


def _san(extensions: x509.Extensions, kind: type) -> tuple[str, ...]:
    value = _ext(extensions, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if value is None:
        return ()
    return tuple(str(v) for v in value.get_values_for_type(kind))


# --- verdicts per mbedTLS line ----------------------------------------------------------------


class Role(str, Enum):
    """Who parses the certificate on the device: the TLS layer (a certificate the server
    sends) or the application itself (its trust anchors, its own client certificate)."""

    PRESENTED = "presented"
    ANCHOR = "anchor"


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


def certificate_verdict(cert: CertFacts, kb: KnowledgeBase, role: Role) -> CertVerdict:
    """Can mbedTLS `kb.line` parse `cert` with its default configuration, which options does
    it need for it (needed to parse even a root: its own signature algorithm), and what cannot
    be helped."""
    x = kb.x509
    _, outcome = _defaults(kb)
    needs: list[Need] = []
    problems: list[Problem] = []
    errors: list[int] = []
    what = f"'{cert.display_name}'"

    def need_guard(guard: str, reason: str) -> None:
        for option in _guard_options(kb, guard):
            needs.append(Need(option, None, reason))
        if not outcome.holds(guard):
            errors.append(ERR_UNKNOWN_SIG_ALG)

    # The signature algorithm: mbedTLS looks its OID up while parsing, for every certificate.
    sig = cert.signature
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

    callback = _critical_extensions(cert, kb, role, needs, problems, errors)
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


def _critical_extensions(
    cert: CertFacts, kb: KnowledgeBase, role: Role, needs: list[Need], problems: list[Problem], errors: list[int]
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
    if role is Role.ANCHOR and callback_api:
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


def key_verdict(key: KeyFacts, kb: KnowledgeBase) -> tuple[tuple[Need, ...], tuple[Problem, ...]]:
    """What a device's own private key needs: its type, its curve or its size."""
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
