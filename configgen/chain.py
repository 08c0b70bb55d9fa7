"""Chain diagnosis: would mbedtls_x509_crt_verify() accept this chain, and if not, why.

`diagnose()` follows mbedTLS's own verification (library/x509_crt.c,
x509_crt_verify_chain / x509_crt_find_parent / x509_crt_check_parent, the same in 2.28 and
3.6): a parent is searched first among the trust anchors (its signature must be good), then
among the certificates the server sent after the child; it must carry the subject named as
issuer, be a CA (v3) with keyCertSign when it has keyUsage, respect its path length; a parent
that is outside its validity is only a fallback. Every certificate up to and including the
trusted one is checked against the time `at`; certificates below the anchor against the
default profile of the line (hashes, key types, curves, RSA size from the KB); the leaf
against the host name (SAN dNSName entries, or the CN when there is no SAN). Signatures are
checked for real with cryptography. Certificates the line cannot parse are left out, as
mbedtls_x509_crt_parse_file() leaves them out of a bundle.

The result is the verify flags, their names for this line, the path, and findings in words.
Pure: time is an argument, nothing is read.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any, cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from configgen.model.certificates import CertFacts, KeyType
from configgen.errors import KnowledgeBaseError
from configgen.model.verdicts import ChainReport, Problem, Role, Severity
from configgen.verdicts import article, certificate_verdict
from configgen.kb.model import KnowledgeBase

# Bits of include/mbedtls/x509.h (looked up by name in the KB's verify flags).
_EXPIRED = "MBEDTLS_X509_BADCERT_EXPIRED"
_CN_MISMATCH = "MBEDTLS_X509_BADCERT_CN_MISMATCH"
_NOT_TRUSTED = "MBEDTLS_X509_BADCERT_NOT_TRUSTED"
_FUTURE = "MBEDTLS_X509_BADCERT_FUTURE"
_BAD_MD = "MBEDTLS_X509_BADCERT_BAD_MD"
_BAD_PK = "MBEDTLS_X509_BADCERT_BAD_PK"
_BAD_KEY = "MBEDTLS_X509_BADCERT_BAD_KEY"
_SAN_OID = "2.5.29.17"
ERR_CERT_VERIFY_FAILED = -0x2700
ERR_FATAL_ERROR = -0x3000


def _bit(kb: KnowledgeBase, name: str) -> int:
    return next(f.bit for f in kb.verify_flags if f.name == name)


def _signed_by(child: CertFacts, parent: CertFacts) -> bool:
    """Whether parent's key made child's signature (SHA-1 included: mbedTLS checks those too)."""
    try:
        cert = x509.load_der_x509_certificate(child.der)
        key = x509.load_der_x509_certificate(parent.der).public_key()
        params = cert.signature_algorithm_parameters
        if (isinstance(key, rsa.RSAPublicKey) and isinstance(params, (padding.PSS, padding.PKCS1v15))
                and cert.signature_hash_algorithm is not None):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params, cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params)
        else:
            return False  # nothing mbedTLS could check either (its parser refuses the rest)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _valid(cert: CertFacts, at: dt.datetime) -> bool:
    return cert.not_before <= at <= cert.not_after


def _check_parent(child: CertFacts, parent: CertFacts, top: bool) -> bool:
    if child.issuer_key != parent.subject_key:
        return False
    if top and parent.version < 3:
        return True  # v1/v2 certificates that are locally trusted
    if not parent.is_ca:
        return False
    return parent.key_usage is None or "key_cert_sign" in parent.key_usage


def _hostname_matches(cert: CertFacts, host: str, ip_san: bool) -> bool:
    """x509_crt_verify_name(): subjectAltName when present (dNSName; iPAddress where the line
    supports it), else the CN; exact or "*." wildcard matches, case-insensitive."""
    has_san = any(e.oid == _SAN_OID for e in cert.extensions)
    if ip_san and has_san and any(_same_ip(host, a) for a in cert.ip_addresses):
        return True
    names = cert.dns_names if has_san else (cert.common_name or "",)
    wanted = host.casefold()
    for name in (n.casefold() for n in names):
        if name == wanted:
            return True
        if name.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == name[2:]:
            return True
    return False


def _same_ip(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address(address)
    except ValueError:
        return False


def _profile(kb: KnowledgeBase) -> Mapping[str, Any]:
    profile = kb.x509.get("default_profile")
    if profile is None:
        raise KnowledgeBaseError(
            f"the knowledge base of mbedTLS {kb.line} has no X.509 default profile",
            hint="regenerate it with 'configgen kb extract'",
        )
    return cast(Mapping[str, Any], profile)


def _profile_flags(kb: KnowledgeBase, cert: CertFacts) -> int:
    profile = _profile(kb)
    flags = 0
    if cert.signature.hash is None or cert.signature.hash not in profile["hashes"]:
        flags |= _bit(kb, _BAD_MD)
    if profile["pk"] != "any":
        flags |= _bit(kb, _BAD_PK)
    return flags


def _key_ok(kb: KnowledgeBase, cert: CertFacts) -> bool:
    profile = _profile(kb)
    key = cert.public_key
    if key.type is KeyType.RSA:
        return (key.bits or 0) >= int(profile["rsa_min_bits"])
    if key.type is KeyType.EC:
        return bool(profile["curves"] == "any" or key.curve in profile["curves"])
    return False


def diagnose(
    chain: Sequence[CertFacts],
    anchors: Sequence[CertFacts],
    host: str | None,
    at: dt.datetime,
    kb: KnowledgeBase,
) -> ChainReport:
    """Verify `chain` (leaf first, as the server sends it) against `anchors` at time `at`."""
    usable = [c for c in chain if certificate_verdict(c, kb, Role.PRESENTED).parses_by_default]
    trusted = [c for c in anchors if certificate_verdict(c, kb, Role.ANCHOR).parses_by_default]
    findings: list[Problem] = []
    skipped = [c for c in list(chain) + list(anchors) if c not in usable and c not in trusted]
    for cert in skipped:
        findings.append(Problem(
            Severity.ERROR, "not-parsed",
            f"{cert.label} ('{cert.display_name}') does not parse with mbedTLS {kb.line}'s default "
            "configuration and is left out of verification",
            "see the certificate's needs above", None,
        ))
    if not usable:
        return ChainReport(kb.line, False, None, 0, (), (), tuple(findings))
    leaf = usable[0]
    flags = 0
    if host is not None and not _hostname_matches(leaf, host, bool(kb.x509.get("hostname_matches_ip_san"))):
        flags |= _bit(kb, _CN_MISMATCH)
        names = ", ".join(leaf.dns_names + leaf.ip_addresses) or f"CN={leaf.common_name}"
        findings.append(Problem(
            Severity.ERROR, "host-mismatch",
            f"the server certificate '{leaf.display_name}' is for {names}, not {host}",
            f"connect to one of those names, or get a certificate whose subjectAltName lists {host}",
        ))
    if not _key_ok(kb, leaf):
        flags |= _bit(kb, _BAD_KEY)
    path = [leaf]
    child, child_trusted = leaf, False
    self_cnt = 0
    option = kb.option("MBEDTLS_X509_MAX_INTERMEDIATE_CA")
    max_intermediate = int(option.value) if option is not None and option.value else 8
    while True:
        if at > child.not_after:
            flags |= _bit(kb, _EXPIRED)
            findings.append(Problem(Severity.ERROR, "expired",
                                    f"'{child.display_name}' expired on {child.not_after:%Y-%m-%d}",
                                    "renew it (or check the device clock)"))
        if at < child.not_before:
            flags |= _bit(kb, _FUTURE)
            findings.append(Problem(Severity.ERROR, "not-yet-valid",
                                    f"'{child.display_name}' is valid only from {child.not_before:%Y-%m-%d}",
                                    "check the device clock, or wait"))
        if child_trusted:
            break
        profile_flags = _profile_flags(kb, child)
        if profile_flags:
            flags |= profile_flags
            findings.append(Problem(
                Severity.ERROR, "profile",
                f"'{child.display_name}' is signed {child.signature.name}, which mbedTLS {kb.line}'s "
                "default verification profile refuses (BAD_MD)",
                "get it re-issued with SHA-256 or better, or pass your own profile with "
                "mbedtls_ssl_conf_cert_profile()",
            ))
        if len(path) == 1 and any(a.der == child.der for a in trusted):
            break  # a locally trusted end-entity certificate
        sent = usable[usable.index(child) + 1 :] if child in usable else []
        parent, parent_trusted, good = _find_parent(child, trusted, sent, at, len(path) - 1, self_cnt)
        if parent is None:
            flags |= _bit(kb, _NOT_TRUSTED)
            findings.append(_no_parent(child, chain, anchors, trusted, usable))
            break
        if len(path) != 1 and child.self_issued:
            self_cnt += 1
        if not parent_trusted and len(path) > max_intermediate:
            return ChainReport(kb.line, True, ERR_FATAL_ERROR, flags, _names(kb, flags),
                               tuple(c.label for c in path), tuple(findings))
        if not good:
            flags |= _bit(kb, _NOT_TRUSTED)
            findings.append(Problem(Severity.ERROR, "bad-signature",
                                    f"'{child.display_name}' is not correctly signed by '{parent.display_name}'",
                                    "the chain is broken or tampered with; get the right chain from the server's operator"))
        if not _key_ok(kb, parent):
            flags |= _bit(kb, _BAD_KEY)
        if parent_trusted and parent.is_ca and not parent.self_issued:
            findings.append(Problem(
                Severity.NOTE, "anchor-is-intermediate",
                f"the trust anchor '{parent.display_name}' is an intermediate CA, not a root: "
                "mbedTLS accepts it, but the device must be updated when the server's intermediate changes",
                f"trust the root that issued it ('{parent.issuer}') instead, if the server sends the intermediate",
            ))
        path.append(parent)
        child, child_trusted = parent, parent_trusted
    bad_key = flags & _bit(kb, _BAD_KEY)
    if bad_key:
        weak = [c for c in path if not _key_ok(kb, c)]
        for cert in weak:
            findings.append(Problem(
                Severity.ERROR, "weak-key",
                f"'{cert.display_name}' has {article(cert.public_key.describe())} {cert.public_key.describe()} key, which mbedTLS {kb.line}'s "
                "default profile refuses (BAD_KEY)",
                f"use RSA of {_profile(kb)['rsa_min_bits']}+ bits or an allowed curve, or "
                "pass your own profile with mbedtls_ssl_conf_cert_profile()",
            ))
    result = 0 if flags == 0 else ERR_CERT_VERIFY_FAILED
    return ChainReport(kb.line, True, result, flags, _names(kb, flags), tuple(c.label for c in path),
                       tuple(_unique(findings)))


def _names(kb: KnowledgeBase, flags: int) -> tuple[str, ...]:
    return tuple(f.name for f in kb.verify_flags if flags & f.bit)


def _unique(findings: list[Problem]) -> list[Problem]:
    seen: list[Problem] = []
    for problem in findings:
        if problem not in seen:
            seen.append(problem)
    return seen


def _find_parent(
    child: CertFacts, trusted: Sequence[CertFacts], sent: Sequence[CertFacts], at: dt.datetime,
    path_cnt: int, self_cnt: int,
) -> tuple[CertFacts | None, bool, bool]:
    for candidates, top in ((trusted, True), (sent, False)):
        fallback: tuple[CertFacts, bool] | None = None
        for parent in candidates:
            if not _check_parent(child, parent, top):
                continue
            if parent.path_length is not None and parent.path_length + 1 < 1 + path_cnt - self_cnt:
                continue
            good = _signed_by(child, parent)
            if top and not good:
                continue
            if not _valid(parent, at):
                fallback = fallback or (parent, good)
                continue
            return parent, top, good
        if fallback is not None:
            return fallback[0], top, fallback[1]
    return None, False, False


def _no_parent(
    child: CertFacts, chain: Sequence[CertFacts], anchors: Sequence[CertFacts],
    trusted: Sequence[CertFacts], usable: Sequence[CertFacts],
) -> Problem:
    """Why nothing signs `child`, said so the user knows which file to change."""
    top = max(usable, key=lambda c: usable.index(c)) if usable else child
    by_name = [c for c in list(chain) + list(anchors) if c.subject_key == child.issuer_key]
    not_ca = [c for c in by_name if not c.is_ca]
    you_trust = ", ".join(f"'{a.display_name}'" for a in trusted) or "nothing that parses"
    if not_ca:
        return Problem(
            Severity.ERROR, "issuer-not-ca",
            f"'{child.display_name}' is issued by '{not_ca[0].display_name}', which is not a CA "
            "(basicConstraints CA:false), so mbedTLS will not accept it as an issuer",
            "the server's certificate was issued by an end-entity certificate: it must be re-issued by a real CA",
        )
    if child.self_issued:
        return Problem(
            Severity.ERROR, "wrong-anchor",
            f"the server's chain ends at '{child.display_name}'; you trust {you_trust}",
            f"use the file that holds '{child.display_name}' as the trust anchor instead",
        )
    if by_name:
        return Problem(
            Severity.ERROR, "bad-signature",
            f"'{child.display_name}' names '{by_name[0].display_name}' as issuer, but that certificate did not sign it",
            "the CA certificate you have is a different one with the same name (re-keyed?); get the current one",
        )
    if child is not top or child not in usable or child.is_ca is not True:
        return Problem(
            Severity.ERROR, "missing-intermediate",
            f"nothing you gave issued '{child.display_name}': its issuer '{child.issuer}' is neither "
            f"sent in the chain nor trusted (you trust {you_trust})",
            f"the server omits the intermediate CA '{child.issuer}': configure the server to send it, "
            "or add it to the device's trusted certificates",
        )
    return Problem(
        Severity.ERROR, "wrong-anchor",
        f"the server's chain ends at '{child.display_name}', issued by '{child.issuer}'; you trust {you_trust}",
        f"use the root '{child.issuer}' as the trust anchor instead",
    )
