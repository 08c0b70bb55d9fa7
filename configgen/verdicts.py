"""What mbedTLS makes of certificates, keys and files: verdicts per mbedTLS line (pure).

- `certificate_verdict(cert, kb, role)` says, for one mbedTLS line, whether the default
  configuration parses the certificate, which options it needs (and why), and what cannot
  be helped; `file_needs(facts)` adds what the container needs (PEM).
- `file_verdict(facts, kb)` is what mbedtls_x509_crt_parse_file() returns for a whole file.
- `key_verdict(key, kb)` is what mbedtls_pk_parse_key() needs for the device's private key.

Facts come from the reader (configgen/inspect.py); this module reads no file and imports
only the model and the knowledge base.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from configgen.kb import cpp, releases
from configgen.kb.model import KnowledgeBase
from configgen.model.certificates import (
    CertFacts,
    Container,
    ExtensionFacts,
    FileFacts,
    Flaw,
    KeyEncryption,
    KeyFacts,
    KeyType,
    Slot,
)
from configgen.model.verdicts import (
    CertVerdict,
    Decryption,
    FileVerdict,
    OptionNeed,
    Problem,
    Role,
    Severity,
)

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
    needs: list[OptionNeed] = []
    problems: list[Problem] = []
    errors: list[int | None] = []  # None: fails with a code that cannot be told in advance
    what = f"'{cert.display_name}'"

    def need_guard(guard: str, reason: str) -> None:
        for option in _guard_options(kb, guard):
            needs.append(OptionNeed(option, None, reason))
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
            needs.append(OptionNeed(hash_entry["option"], None, reason))
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
            needs.append(OptionNeed(MPI_OPTION, str(size), f"{reason}: {key.bits} bits = {size} bytes"))
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
                needs.append(OptionNeed(group["option"], None, f"{reason} (curve {group['name']})"))
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
    fact = releases.facts_for(release).fact(releases.BASIC_INTEGER_FIRST)
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


def _extensions_not_v3(cert: CertFacts, kb: KnowledgeBase, outcome: cpp.Outcome, needs: list[OptionNeed],
                       problems: list[Problem], errors: list[int | None]) -> None:
    """Extensions in a certificate that is not version 3 (see ERR_EXTENSIONS_NOT_V3)."""
    if cert.version == 3 or not cert.extensions:
        return
    message = (f"'{cert.display_name}' is a version-{cert.version} certificate carrying extensions; "
               f"mbedTLS {kb.line} reads extensions only in version 3")
    if kb.option(NON_V3_EXTENSIONS_OPTION) is not None:
        needs.append(OptionNeed(NON_V3_EXTENSIONS_OPTION, None, f"{cert.label}: {message}"))
        if outcome.holds(f"defined({NON_V3_EXTENSIONS_OPTION})"):
            return
        severity, fix = Severity.WARNING, f"define {NON_V3_EXTENSIONS_OPTION}, or reissue the certificate as version 3"
    else:
        severity, fix = Severity.ERROR, "reissue the certificate as version 3 (openssl x509 -req ... -extfile ... writes v3)"
    errors.append(ERR_EXTENSIONS_NOT_V3)
    problems.append(Problem(severity, "extensions-not-v3", message, fix, ERR_EXTENSIONS_NOT_V3))


def _critical_extensions(
    cert: CertFacts, kb: KnowledgeBase, role: Role, needs: list[OptionNeed], problems: list[Problem], errors: list[int | None]
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
        needs.append(OptionNeed(option, None, f"{cert.label}: {message}", weakens=True))
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


def file_needs(facts: FileFacts) -> tuple[OptionNeed, ...]:
    """What the file's container needs: PEM input needs the PEM parser and base64."""
    if facts.container.is_pem:
        return tuple(OptionNeed(option, None, f"{facts.source} is PEM") for option in PEM_OPTIONS)
    return ()



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


def key_needs(key: KeyFacts, kb: KnowledgeBase) -> tuple[OptionNeed, ...]:
    """Every option mbedTLS `kb.line` needs to load the device's private key with
    mbedtls_pk_parse_key(): its type, curve or size, and what decrypts it."""
    return key_verdict(key, kb)[0]


def _decryption(key: KeyFacts, kb: KnowledgeBase) -> tuple[list[OptionNeed], list[Problem]]:
    sealed = key.encryption
    if sealed is None:
        return [], []
    what = f"the private key in {key.source} is encrypted with {describe_encryption(sealed)}"
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
    reason = f"{key.source}: private key encrypted with {describe_encryption(sealed)}"
    needs = [OptionNeed(o, None, reason) for o in (*rule.options, option)]
    if hash_entry is not None:
        needs.append(OptionNeed(hash_entry["option"], None, f"{reason} (key derivation with {sealed.hash})"))
    return needs, []


def describe_encryption(sealed: KeyEncryption) -> str:
    kinds = {"rfc1421": "PEM encryption (RFC 1421, MD5 key derivation)", "pbes2": "PKCS#8 PBES2 (PBKDF2)",
             "pkcs12-pbe": "PKCS#8 with a PKCS#12 PBE", "pbes1": "PKCS#8 PBES1", "pkcs12": "a PKCS#12 password"}
    parts = [kinds.get(sealed.scheme, f"PKCS#8 {sealed.scheme}")]
    parts += [p for p in (sealed.cipher, f"HMAC-{sealed.hash}" if sealed.scheme == "pbes2" and sealed.hash else None) if p]
    return ", ".join(parts)


def key_verdict(key: KeyFacts, kb: KnowledgeBase) -> tuple[tuple[OptionNeed, ...], tuple[Problem, ...]]:
    """What a device's own private key needs: its type, its curve or its size, and what
    decrypts it; and what cannot be helped."""
    needs, problems = _decryption(key, kb)
    found_needs, found_problems = _key_type(key, kb)
    return (tuple(sorted(set(needs + list(found_needs)), key=lambda n: (n.option, n.reason))),
            tuple(problems) + found_problems)


def _key_type(key: KeyFacts, kb: KnowledgeBase) -> tuple[tuple[OptionNeed, ...], tuple[Problem, ...]]:
    fake = key.public_key
    x = kb.x509
    reason = f"{key.source}: private key {fake.describe()}"
    pk_entry = _by(x["pk_types"], "oid", fake.oid)
    if pk_entry is None:
        return (), (Problem(Severity.ERROR, "unsupported-key",
                            f"the private key in {key.source} is {fake.describe()}, which mbedTLS {kb.line} cannot use",
                            "use an RSA (2048+ bits) or EC P-256 key", ERR_UNKNOWN_PK_ALG),)
    needs = [OptionNeed(o, None, reason) for o in _guard_options(kb, pk_entry["guard"])]
    if fake.type is KeyType.RSA and fake.bits:
        size = math.ceil(fake.bits / 8)
        needs.append(OptionNeed(MPI_OPTION, str(size), f"{reason}: {fake.bits} bits = {size} bytes"))
    if fake.type is KeyType.EC:
        group = _by(x["groups"], "oid", fake.curve_oid)
        if group is None or group["guard"] == "0":
            return tuple(needs), (Problem(Severity.ERROR, "unsupported-curve",
                                          f"the private key in {key.source} is on {fake.curve}, unknown to mbedTLS {kb.line}",
                                          "use an EC P-256 key", ERR_UNKNOWN_NAMED_CURVE),)
        needs.append(OptionNeed(group["option"], None, f"{reason} (curve {group['name']})"))
    return tuple(sorted(set(needs), key=lambda n: (n.option, n.reason))), ()
