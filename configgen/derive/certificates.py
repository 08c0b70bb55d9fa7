"""What each certificate needs to be parsed and verified (signature, key, curve, modulus,
critical extensions), and the checks that stop derive: algorithms mbedTLS lacks, a chain
that does not verify against the trust anchors."""

from __future__ import annotations

from typing import Sequence

from configgen import chain
from configgen.model.certificates import CertFacts, KeyType, PublicKeyFacts
from configgen.errors import ResolveConflict
from configgen.kb.model import KnowledgeBase
from configgen.model.inputs import Certificate
from configgen.model.profile import Policy, Server
from configgen.model.requirements import Need, Requirement
from configgen import verdicts
from configgen.model.verdicts import Role, Severity
from configgen.derive.inputs import Inputs, requirement


# What the integrator note for SHA-1-signed chains says (configgen's test client, which
# verifies generated headers, does the same when the header carries it).
SHA1_PROFILE_NOTE = "with a verification profile that allows SHA-1"


def check_algorithms(server: Server, sent: Sequence[CertFacts], kb: KnowledgeBase) -> None:
    """Stop, naming the algorithm, when the server's chain uses a key, curve or signature no
    configuration of this line implements (a root the server also sends is skipped by mbedTLS
    when it cannot be parsed, so only the certificates it must parse count)."""
    for index, cert in enumerate(sent):
        if cert.self_issued and index > 0:
            continue
        verdict = verdicts.certificate_verdict(cert, kb, Role.PRESENTED)
        for problem in verdict.problems:
            if problem.severity is Severity.ERROR and problem.code in _UNSUPPORTED:
                raise ResolveConflict(
                    problem.message, where=f"{server.name} chain[{index}]",
                    hint=f"ask the server's operator for a certificate the device can verify: {problem.fix}",
                )


_UNSUPPORTED = ("unsupported-key", "unsupported-signature", "unsupported-curve")

# Verify flags a device without a wall clock never raises (it does not check dates).
_DATE_FLAGS = ("MBEDTLS_X509_BADCERT_EXPIRED", "MBEDTLS_X509_BADCERT_FUTURE")

# What the default verification profile raises for a signature hash it refuses (SHA-1).
_BAD_MD = "MBEDTLS_X509_BADCERT_BAD_MD"


def _profile_refuses(cert: CertFacts, kb: KnowledgeBase) -> bool:
    allowed = kb.x509["default_profile"]["hashes"]
    return cert.signature.hash is not None and cert.signature.hash not in allowed


def check_chain(server: Server, sent: Sequence[CertFacts], inputs: Inputs, kb: KnowledgeBase) -> None:
    """Stop when the server's chain would not verify against the profile's trust anchors:
    a header cannot fix that, and one that 'works' would have to turn verification off."""
    if not sent or not inputs.anchors:
        return
    host = server.sni or server.host
    report = chain.diagnose(sent, [a.facts for a in inputs.anchors], host, inputs.at, kb)
    no_clock = inputs.profile.board.time != "wall-clock"
    ignored = sum(f.bit for f in kb.verify_flags if f.name in _DATE_FLAGS) if no_clock else 0
    refused = [c for c in sent if not c.self_issued and _profile_refuses(c, kb)]
    if inputs.profile.policy.allow_sha1 and refused and all(c.signature.hash == "SHA-1" for c in refused):
        ignored |= sum(f.bit for f in kb.verify_flags if f.name == _BAD_MD)  # see certificate_needs
    flags = report.flags & ~ignored
    if not report.verified or not flags:
        return
    date_codes = ("expired", "not-yet-valid") if no_clock else ()
    errors = [f for f in report.findings if f.severity.value == "error" and f.code not in date_codes]
    first = errors[0] if errors else None
    names = ", ".join(n.removeprefix("MBEDTLS_X509_") for n in report.flag_names)
    raise ResolveConflict(
        f"the server's chain does not verify against the trust anchors (flags 0x{flags:02X}: {names})"
        + (f": {first.message}" if first else ""),
        where=server.name,
        hint=first.fix if first else "configgen inspect the chain with --ca to see why",
    )


def _critical_extensions(cert: Certificate, kb: KnowledgeBase, policy: Policy, notes: list[str]) -> list[Requirement]:
    """Critical extensions mbedTLS cannot process: the 2.28 option, the 3.6 callback (for
    certificates the application parses itself), or a stop. Only with the policy's consent."""
    role = Role.PRESENTED if cert.role == "server" else Role.ANCHOR
    verdict = verdicts.certificate_verdict(cert.facts, kb, role)
    problems = [p for p in verdict.problems if p.code == "unsupported-critical-extension"]
    if not problems:
        return []
    problem = problems[0]
    where = cert.where
    if problem.severity is Severity.ERROR:
        raise ResolveConflict(problem.message, where=where, hint=problem.fix)
    if not policy.allow_unsupported_critical_extensions:
        raise ResolveConflict(
            problem.message, where=where,
            hint="if you accept that its constraint is not enforced, set "
            "[policy].allow_unsupported_critical_extensions = true (see configgen inspect)",
        )
    needs = [n for n in verdict.needs if n.weakens and n.option == kb.x509.get("critical_extension_option")]
    if needs:
        return [requirement(Need.FEATURE, "critical_extensions", f"{where}: {problem.message}",
                            weakens="unsupported critical extensions are skipped, in the server's chain "
                            "too: allowed by [policy].allow_unsupported_critical_extensions = true")]
    notes.append(f"{where}: parse it with {kb.x509.get('extension_callback')}() and the callback "
                 f"'configgen inspect {where} --mbedtls {kb.line}' prints ({problem.message})")
    return []


def certificate_needs(inputs: Inputs, kb: KnowledgeBase, policy: Policy, notes: list[str]) -> list[Requirement]:
    found: list[Requirement] = []
    mpi = 0
    mpi_via = ""
    sha1_note = (f"no option of mbedTLS {kb.line} makes its default verification profile accept "
                 "SHA-1 signatures ([policy].allow_sha1 only compiles SHA-1 in): call "
                 "mbedtls_ssl_conf_cert_profile(&conf, &profile) " + SHA1_PROFILE_NOTE + " "
                 "(a copy of mbedtls_x509_crt_profile_default with "
                 "MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1) added to allowed_mds)")
    asked = any(s.facts.client_auth is not None for s in inputs.servers)
    everything = list(inputs.anchors) + [
        Certificate(cert, f"{s.server.name} chain[{i}]", "server")
        for s in inputs.servers
        for i, cert in enumerate(s.parsed)
    ] + list(inputs.client)
    for s in inputs.servers:  # roots the server sends are parsed too
        for i, sent in enumerate(s.sent):
            if sent.subject == sent.issuer:
                found += _critical_extensions(Certificate(sent, f"{s.server.name} chain[{i}]", "server"), kb, policy, notes)
    for cert in everything:
        found += _critical_extensions(cert, kb, policy, notes)
        facts = cert.facts
        subject = facts.common_name or facts.subject
        via = f"{cert.where}: \"{subject}\""
        sig = facts.signature
        weakens = None
        if sig.hash == "SHA-1":
            if cert.role != "anchor" and not policy.allow_sha1:
                raise ResolveConflict(
                    f"\"{subject}\" is signed {sig.name}; mbedTLS's default verification profile "
                    "rejects SHA-1 signatures, and no option of any mbedTLS line changes that",
                    where=cert.where,
                    hint="replace the certificate; or, if you accept SHA-1, set [policy].allow_sha1 = "
                    "true and pass a profile that allows it with mbedtls_ssl_conf_cert_profile() in code",
                )
            if cert.role != "anchor" and sha1_note not in notes:
                notes.append(sha1_note)
            weakens = ("SHA-1 parsing: the trust anchor is self-signed with SHA-1 (its own "
                       "signature is never checked)" if cert.role == "anchor" else
                       "SHA-1 signatures: allowed by [policy].allow_sha1 = true")
        found.append(requirement(Need.SIGNATURE, sig.oid, f"{via} is signed {sig.name}", weakens=weakens))
        key = facts.public_key
        found.append(requirement(Need.PUBLIC_KEY, key.oid, f"{via} has {_describe_key(key)} key"))
        if key.curve:
            found.append(requirement(Need.GROUP, key.curve, f"{via} has a {key.curve} key"))
        if key.type is KeyType.RSA and key.bits and (key.bits + 7) // 8 > mpi:
            mpi, mpi_via = (key.bits + 7) // 8, f"{via} has an RSA-{key.bits} key"
        if cert.role == "client" and cert is inputs.client[0]:
            if not asked and key.type is KeyType.EC:
                found.append(requirement(Need.FEATURE, "sign_ecdsa", f"{via}: the device signs with its EC key"))
            elif not asked and key.type is KeyType.RSA:
                found.append(requirement(Need.FEATURE, "sign_rsa_pkcs1v15", f"{via}: the device signs with its RSA key"))
            found.append(requirement(Need.FEATURE, "key_parse", f"{via}: the device parses its private key"))
    if mpi:
        found.append(requirement(Need.MPI_BYTES, mpi, mpi_via, derivation=f"{mpi * 8} bits = {mpi} bytes"))
    return found


def _describe_key(key: PublicKeyFacts) -> str:
    if key.type is KeyType.RSA:
        return f"an RSA-{key.bits}"
    if key.curve:
        return f"an EC {key.curve}"
    return f"a {key.type.value}"
