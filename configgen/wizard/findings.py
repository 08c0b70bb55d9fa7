"""What the wizard tells, as lines for the run to print: one on each server probed, the
findings on the trust anchors, the servers' chains and the client's files (problems first),
and what the header enables and why.

Judged as `configgen inspect` judges (`verdicts.certificate_verdict`, `key_verdict`) and
by `chain.diagnose`, on the chains `generate.probed` parses for derive; the only I/O is
reading the certificate and key files the loaded profile names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from configgen import chain, verdicts
from configgen import kb as knowledge
from configgen.generate import Generated, check_time, probed
from configgen.model.certificates import CertFacts
from configgen.model.facts import ServerFacts
from configgen.model.profile import Profile, Server
from configgen.model.verdicts import Problem, Role
from configgen.wizard.questions import read_facts


def summary(facts: ServerFacts) -> str:
    """One line on what a server accepts."""
    suites = len(facts.tls12_suites) + len(facts.tls13_suites)
    auth = "; asks for a client certificate" if facts.client_auth is not None else ""
    return (f"{facts.where}: TLS {', '.join(facts.versions)}, {suites} suite(s) "
            f"accepted, {len(facts.certificate_chain)} certificate(s) sent{auth}")


_ORDER = {"error": 0, "warning": 1, "note": 2, "ok": 3}


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | note | ok
    where: str
    message: str


def findings(loaded: Profile, facts: Sequence[ServerFacts],
             password: bytes | None) -> list[Finding]:
    """What the wizard shows before writing: problems first, then what is fine."""
    base = knowledge.load(loaded.mbedtls)
    anchors = [c for p in loaded.ca for c in read_facts(p, label=loaded.relative(p)).certificates]
    found = [f for cert in anchors for f in _anchor_findings(cert, base)]
    for server, seen in zip(loaded.servers, facts):
        found += _server_findings(loaded, server, seen, anchors, base)
    if loaded.client_cert is not None and loaded.client_key is not None:
        found += _client_findings(loaded, loaded.client_cert, loaded.client_key, password, base)
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda f: _ORDER[f.severity])


def _from_problems(where: str, problems: Sequence[Problem]) -> list[Finding]:
    return [Finding(p.severity.value, where, f"{p.message}; fix: {p.fix}") for p in problems]


def _anchor_findings(cert: CertFacts, base: knowledge.KnowledgeBase) -> list[Finding]:
    verdict = verdicts.certificate_verdict(cert, base, Role.ANCHOR)
    found = _from_problems(cert.label, verdict.problems)
    if cert.signature.hash == "SHA-1":
        found.append(Finding("warning", cert.label,
                             f"SHA-1 root: '{cert.display_name}' is signed {cert.signature.name}"))
    return found


def _server_findings(loaded: Profile, server: Server, facts: ServerFacts,
                     anchors: list[CertFacts], base: knowledge.KnowledgeBase) -> list[Finding]:
    sent = probed(server, facts).sent
    found: list[Finding] = []
    for cert in sent:
        found += _from_problems(cert.label,
                                verdicts.certificate_verdict(cert, base, Role.PRESENTED).problems)
    if sent and anchors:
        report = chain.diagnose(sent, anchors, server.sni or server.host, check_time(loaded), base)
        found += _from_problems(server.name, report.findings)
        if report.flags == 0:
            found.append(Finding("ok", server.name, "the trust anchors sign the server's chain"))
    if facts.client_auth is not None and loaded.client_cert is None:
        found.append(Finding("error", server.name,
                             "the server asks for a client certificate and you gave none"))
    return found


def _client_findings(loaded: Profile, cert_path: Path, key_path: Path,
                     password: bytes | None, base: knowledge.KnowledgeBase) -> list[Finding]:
    cert = read_facts(cert_path, label=loaded.relative(cert_path)).certificates[0]
    label = loaded.relative(key_path)
    keys = read_facts(key_path, password, label).keys
    found = _from_problems(cert.label,
                           verdicts.certificate_verdict(cert, base, Role.OWN).problems)
    for key in keys:
        found += _from_problems(label, verdicts.key_verdict(key, base)[1])
        if not verdicts.matches(cert, key):
            found.append(Finding("warning", label, "this key does not belong to the client certificate"))
        else:
            found.append(Finding("ok", label, f"{key.public_key.describe()} key of the client certificate"))
    return found


def findings_table(rows: Sequence[Finding]) -> list[str]:
    """The findings as a short table."""
    width = max((len(f.where) for f in rows), default=0)
    return [f"  {f.severity:<7}  {f.where:<{width}}  {f.message}" for f in rows]


def enabled_lines(result: Generated) -> list[str]:
    """What the header enables and why, one line per option (its first reason)."""
    settings = result.options.settings
    shown = [s.name + (f" {s.value}" if s.value is not None else "") for s in settings]
    width = min(max(map(len, shown), default=0), 44)
    lines = [f"mbedTLS {result.options.version}: {len(settings)} options"]
    for setting, name in zip(settings, shown):
        reasons = setting.reasons or ("",)
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        lines.append(f"  {name:<{width}}  {reasons[0]}{more}")
    return lines + [f"  weakened: {name}: {why}" for name, why in result.options.weakened]
