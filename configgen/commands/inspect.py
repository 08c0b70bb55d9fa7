"""`configgen inspect FILE... [--ca FILE...] [--host NAME] [--at DATE] [--mbedtls LINE] [--json]`

What mbedTLS needs to parse and verify these certificates and keys, per line, and whether
the chain verifies against the trust anchors. Text for people (problems first), or JSON:

    {"schema": 1, "at": ISO time, "lines": ["2.28", "3.6"],
     "files": [{"source", "container", "certificates": [CertFacts without der], "keys": [KeyFacts]}],
     "verdicts": {line: [{"label", "role", "parses_by_default", "parse_error", "needs": [Need],
                          "problems": [Problem], "callback": C source or null}]},
     "file_verdicts": {line: [{"source", "parses_by_default", "result", "problems"}]}
        (what mbedtls_x509_crt_parse_file() returns for each file holding certificates),
     "keys": {line: [{"label", "matches": [certificate labels], "needs", "problems"}]},
     "file_needs": [Need],
     "chains": {line: ChainReport} (only with --ca),
     "problems": [{"line", "severity", "code", "message", "fix", "error"}]}

Exit 0 when nothing is wrong, 1 when a problem of severity "error" was found, 2 on bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import getpass
import json
import os
import sys
from enum import Enum
from typing import Any

from configgen import chain as chainmod
from configgen import inspect as insp
from configgen import kb as kbmod
from configgen import values
from configgen.model.certificates import FileFacts
from configgen.errors import ConfiggenError
from configgen.kb.model import LINES
from configgen import verdicts as judge
from configgen.model.verdicts import Role

SCHEMA = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="certificates (PEM, DER, PKCS#7, PKCS#12) and private keys the device uses or receives")
    parser.add_argument("--ca", nargs="+", action="extend", default=[], metavar="FILE",
                        help="the trust anchors the device loads; checks the chain of FILE against them")
    parser.add_argument("--host", metavar="NAME", help="the server name the device connects to")
    parser.add_argument("--at", metavar="DATE", help="check validity at this date (ISO 8601, UTC; default: now)")
    parser.add_argument("--mbedtls", choices=LINES, help="one mbedTLS line (default: every line)")
    parser.add_argument("--json", action="store_true", help="JSON for machines")
    parser.add_argument("--password-env", metavar="VAR",
                        help="environment variable holding the password of encrypted keys / PKCS#12")


def run(args: argparse.Namespace) -> int:
    at = values.instant(args.at, "--at") if args.at else dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    lines = [args.mbedtls] if args.mbedtls else list(LINES)
    kbs = {line: kbmod.load(line) for line in lines}
    files = [_load(path, args.password_env) for path in args.files]
    anchors = [_load(path, args.password_env) for path in args.ca]
    for path, anchor in zip(args.ca, anchors):
        if not anchor.certificates:
            raise ConfiggenError("holds no certificate: --ca names the trust anchors' certificates",
                                 where=path)
    report = build_report(files, anchors, args.host, at, kbs)
    print(json.dumps(report, indent=1, sort_keys=True) if args.json else render_text(report))
    return 1 if any(p["severity"] == "error" for p in report["problems"]) else 0


def _load(path: str, password_env: str | None) -> FileFacts:
    data = insp.read_bytes(path)
    try:
        return insp.parse(data, path)
    except insp.PasswordNeeded as needed:
        password = _password(path, password_env, needed)
    return insp.parse(data, path, password)


def _password(path: str, variable: str | None, needed: insp.PasswordNeeded) -> bytes:
    if variable:
        if variable not in os.environ:
            raise ConfiggenError(f"environment variable {variable} is not set", where="--password-env")
        return os.environ[variable].encode()
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {path}: ").encode()
    raise needed


# --- the report (pure) ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "der"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    return value


def build_report(
    files: list[FileFacts], anchors: list[FileFacts], host: str | None, at: dt.datetime,
    kbs: dict[str, kbmod.KnowledgeBase],
) -> dict[str, Any]:
    """Everything `inspect` says, as plain data (what --json prints; the text is drawn from it)."""
    presented = [c for f in files for c in f.certificates]
    trusted = [c for f in anchors for c in f.certificates]
    all_certs = presented + trusted
    all_keys = [k for f in files + anchors for k in f.keys]
    # A certificate that matches a key given is the device's own: the application parses it.
    roles = {c.label: Role.OWN if any(judge.matches(c, k) for k in all_keys) else Role.PRESENTED
             for c in presented}
    roles.update({c.label: Role.ANCHOR for c in trusted})
    file_verdicts: dict[str, list[dict[str, Any]]] = {}
    problems: list[dict[str, Any]] = []
    verdicts: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, list[dict[str, Any]]] = {}
    chains: dict[str, Any] = {}
    for line, kb in kbs.items():
        verdicts[line] = []
        file_verdicts[line] = []
        for f in (f for f in files + anchors if f.certificates or any(s.der for s in f.slots)):
            found = judge.file_verdict(f, kb)
            file_verdicts[line].append(_plain(found))
            problems += [{"line": line, "where": f.source, **_plain(p)} for p in found.problems]
        for cert in all_certs:
            role = roles[cert.label]
            verdict = judge.certificate_verdict(cert, kb, role)
            verdicts[line].append({"role": role.value, **_plain(verdict)})
            problems += [{"line": line, "where": cert.label, **_plain(p)} for p in verdict.problems]
        keys[line] = []
        for key in all_keys:
            needs, key_problems = judge.key_verdict(key, kb)
            matches = [c.label for c in all_certs if judge.matches(c, key)]
            keys[line].append({"label": key.source, "key": key.public_key.describe(), "matches": matches,
                               "encryption": _plain(key.encryption), "needs": _plain(needs),
                               "problems": _plain(key_problems)})
            problems += [{"line": line, "where": key.source, **_plain(p)} for p in key_problems]
            if presented and not matches:
                given = ", ".join(sorted({c.source for c in presented}))
                problems.append({"line": line, "where": key.source, "severity": "error", "code": "key-mismatch",
                                 "message": f"the private key in {key.source} ({key.public_key.describe()}) matches "
                                            f"no certificate in {given}",
                                 "fix": "give the device certificate together with its own key (compare "
                                        "`openssl pkey -pubout` of the key with `openssl x509 -pubkey` of the certificate)",
                                 "error": None})
        if trusted and presented:
            report = chainmod.diagnose(presented, trusted, host, at, kb)
            chains[line] = _plain(report)
            problems += [{"line": line, "where": "chain", **_plain(p)} for p in report.findings]
    order = {"error": 0, "warning": 1, "note": 2}
    unique: list[dict[str, Any]] = []
    for problem in sorted(problems, key=lambda p: (order[p["severity"]], p["where"], p["code"], p["line"])):
        if problem not in unique:
            unique.append(problem)
    return {
        "schema": SCHEMA,
        "at": _plain(at),
        "host": host,
        "lines": list(kbs),
        "files": [_plain(f) for f in files + anchors],
        "file_needs": _plain([n for f in files + anchors for n in judge.file_needs(f)]),
        "verdicts": verdicts,
        "file_verdicts": file_verdicts,
        "keys": keys,
        "chains": chains,
        "problems": unique,
    }


def _result(verdict: dict[str, Any]) -> str:
    result = verdict["result"]
    if verdict["parses_by_default"]:
        return "parses (returns 0)"
    if result is None:
        return "fails"
    return f"fails: {result} certificate(s) refused" if result > 0 else f"fails with -0x{-result:04X}"


def render_text(report: dict[str, Any]) -> str:
    """The report for people: problems first, then the chain, the files, and the needs."""
    out: list[str] = []
    problems = report["problems"]
    merged: dict[tuple[str, str, str], list[str]] = {}
    for p in problems:
        merged.setdefault((p["severity"], p["message"].replace(f"mbedTLS {p['line']}", "mbedTLS {line}"), p["fix"].replace(f"mbedTLS {p['line']}", "mbedTLS {line}")), []).append(p["line"])
    if merged:
        out.append("Problems")
        for (severity, message, fix), lines in merged.items():
            joined = " and ".join(lines)
            out.append(f"  {severity:7} [{joined}] {message.replace('{line}', joined)}")
            out.append(f"          fix: {fix.replace('{line}', joined)}")
    else:
        out.append("No problems found.")
    if report["chains"]:
        out.append("")
        out.append(f"Chain (host {report['host'] or 'not checked'}, at {report['at']})")
        for line, chain in report["chains"].items():
            if not chain["verified"]:
                out.append(f"  mbedTLS {line}: nothing to verify: no certificate of the chain parses")
                continue
            verdict = "verifies" if chain["flags"] == 0 else f"fails: flags 0x{chain['flags']:08x} {' '.join(chain['flag_names'])}"
            out.append(f"  mbedTLS {line}: {verdict}")
            out.append(f"    path: {' -> '.join(chain['path'])}")
    out.append("")
    out.append("Files")
    parsed = {(v["source"], line): v for line, vs in report["file_verdicts"].items() for v in vs}
    own = {v["label"] for vs in report["verdicts"].values() for v in vs if v["role"] == "own"}
    for f in report["files"]:
        out.append(f"  {f['source']} ({f['container']}): {len(f['certificates'])} certificate(s), {len(f['keys'])} key(s)")
        results = [(line, parsed[(f["source"], line)]) for line in report["lines"] if (f["source"], line) in parsed]
        if results:
            out.append("    mbedtls_x509_crt_parse_file(), default configuration: " + "; ".join(
                f"{line} {_result(v)}" for line, v in results))
        for c in f["certificates"]:
            key = c["public_key"]
            key_text = f"EC {key['curve']}" if key["type"] == "ec" else f"{key['type'].upper()}-{key['bits']}"
            sig = c["signature"]
            label = f"{c['source']}#{c['index'] + 1}" if c["index"] else c["source"]
            out.append(f"    {c['index'] + 1}. {c['subject']}" + ("  (the device's own certificate: it matches a key given)"
                                                                 if label in own else ""))
            out.append(f"       issuer {c['issuer']}")
            out.append(f"       {key_text}, signed {sig['name']}, valid {c['not_before'][:10]} to {c['not_after'][:10]}"
                       + (", CA" if c["is_ca"] else ""))
            if c["dns_names"] or c["ip_addresses"]:
                out.append(f"       names {', '.join(c['dns_names'] + c['ip_addresses'])}")
            critical = [e["name"] for e in c["extensions"] if e["critical"]]
            if critical:
                out.append(f"       critical extensions {', '.join(critical)}")
        for k in f["keys"]:
            sealed = k["encryption"]
            how = ", ".join(v for v in (sealed["scheme"], sealed["cipher"], sealed["hash"]) if v) if sealed else ""
            out.append(f"    private key: {k['public_key']['type'].upper()} "
                       f"{k['public_key']['curve'] or k['public_key']['bits']}{f' (encrypted: {how})' if sealed else ''}")
    out.append("")
    out.append("What the device needs")
    for line, verdicts in report["verdicts"].items():
        needs: dict[tuple[str, str | None], list[str]] = {}
        for verdict in verdicts:
            for need in verdict["needs"]:
                needs.setdefault((need["option"], need["value"]), []).append(need["reason"])
        for key in report["keys"].get(line, []):
            for need in key["needs"]:
                needs.setdefault((need["option"], need["value"]), []).append(need["reason"])
        for need in report["file_needs"]:
            needs.setdefault((need["option"], need["value"]), []).append(need["reason"])
        mpi = [int(v) for (o, v) in needs if o == judge.MPI_OPTION and v]
        out.append(f"  mbedTLS {line}:")
        for (option, value), reasons in sorted(needs.items()):
            if option == judge.MPI_OPTION and value and int(value) != max(mpi):
                continue
            shown = f"{option} >= {value}" if value else option
            out.append(f"    {shown}")
            for reason in sorted(set(reasons)):
                out.append(f"        via {reason}")
    callbacks = [(line, v) for line, vs in report["verdicts"].items() for v in vs if v["callback"]]
    for line, verdict in callbacks:
        out.append("")
        out.append(f"Extension callback for {verdict['label']} (mbedTLS {line}):")
        out.append(verdict["callback"])
    return "\n".join(out)
