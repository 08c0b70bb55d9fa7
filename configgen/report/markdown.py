"""Every result as Markdown, for pull-request comments: review, diff, diagnose, verify, explain,
inspect and probe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from configgen.model.findings import Diagnosis
from configgen.model.findings import HeaderDiff
from configgen.model.findings import Review
from configgen.kb.model import KnowledgeBase
from configgen.model.certificates import CertFacts, FileFacts
from configgen.model.explanations import CodeExplanation, FlagsExplanation, Part
from configgen.model.facts import ServerFacts
from configgen.model.plain import plain
from configgen.model.results import Footprint, Handshake, Verification
from configgen.model.verdicts import OptionNeed, Problem, Role
from configgen.report.text import (
    MAX_ERRORS,
    causes,
    chain_verdict,
    change_reasons,
    describe_change,
    log_title,
    merged_problems,
    parse_result,
    trace_facts,
)
from configgen.values import line_of

if TYPE_CHECKING:  # loading the inspector loads cryptography, which only inspect needs
    from configgen.model.inspection import Inspection


def _code(text: str) -> str:
    return f"`{text}`"


def header_diff(found: HeaderDiff) -> str:
    lines = [f"### mbedTLS config: {_code(found.old)} → {_code(found.new)}", ""]
    if not found.changes and not found.weakened_added and not found.weakened_removed:
        return "\n".join(lines + ["No option changed.", ""])
    relevant = [c for c in found.changes if c.security and c.kind != "reasons"]
    lines.append(f"**{len(found.options)} options changed**, {len(relevant)} of them "
                 "security-relevant.")
    for entry in found.weakened_added:
        lines.append(f"\n> **Newly weakened on purpose:** {entry}")
    for entry in found.weakened_removed:
        lines.append(f"\n> No longer weakened: {entry}")
    for title, changes in found.groups():
        lines += ["", f"#### {title}", ""]
        for change in changes:
            name, _, rest = describe_change(change).partition(change.option)
            lines.append(f"- {name}{_code(change.option)}{rest}"
                         + (f" — {change.security}" if change.security and change.kind != "reasons" else ""))
            was, now = change_reasons(change)
            lines += [f"  - was: _{r}_" for r in was if r not in now]
            lines += [f"  - now: _{r}_" for r in now if r not in was]
    return "\n".join(lines) + "\n"


def review(found: Review) -> str:
    lines = [f"### Review of {_code(found.where)} (mbedTLS {found.version})", ""]
    if not found.findings:
        return "\n".join(lines + ["Nothing missing, unneeded or risky.", ""])
    for kind, count, group in found.groups():
        lines += [f"#### {kind.capitalize()} ({count})", ""]
        for finding in group:
            lines.append(f"- {_code(finding.option or 'check_config.h')}: {finding.detail}")
            if finding.predicted:
                lines.append(f"  - without it: {' or '.join(_code(p) for p in finding.predicted)}")
            lines += [f"  - via _{r}_" for r in finding.reasons]
        lines.append("")
    return "\n".join(lines)


def diagnosis(found: Diagnosis, kbs: Sequence[KnowledgeBase]) -> str:
    """What the log shows, then the cause, its fix and the command that checks the fix."""
    lines = [f"### Diagnosis of an {log_title(found.trace)}", ""]
    facts = trace_facts(found.trace, kbs, _code)
    if facts:
        lines += ["#### What the log shows", "", *(f"- {fact}" for fact in facts), ""]
    lines += [f"#### Cause: {_code(found.cause)}", "", found.summary, "",
              f"- **fix:** {found.fix}", f"- check: {_code(found.check)}", ""]
    return "\n".join(lines)


# verify, explain, inspect and probe -------------------------------------------------------


def _heading(level: int, title: str) -> str:
    return f"{'#' * level} {title}"


def _cell(text: str) -> str:
    """Text in a table cell: a | would end it."""
    return text.replace("|", "\\|")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _codes(names: Sequence[str]) -> str:
    return ", ".join(_code(n) for n in names)


def _part(part: Part) -> str:
    """A row of the parts table: part, code, name, what strerror says, header."""
    label = {"whole": "code", "high": "high", "low": "low"}[part.level]
    value = _code(f"-0x{-part.value:04X}")
    if part.error is not None:
        aliases = f" (also {_codes(part.aliases)})" if part.aliases else ""
        return (f"| {label} | {value} | {_code(part.error.name)}{aliases} | "
                f"{_cell(f'{part.error.module} - {part.error.description}')} | {_code(part.error.header)} |")
    where = "; ".join(f"{_code(name)} in mbedTLS {version}" for version, name in part.elsewhere)
    return f"| {label} | {value} | not defined in this line{f' (it is {where})' if where else ''} | | |"


def _explanation(found: CodeExplanation, level: int) -> list[str]:
    lines = [_heading(level, f"{_code(found.hex)} ({found.code})")]
    for reading in found.readings:
        printed = _code(reading.strerror) if reading.strerror else "nothing"
        lines += ["", _heading(level + 1, f"mbedTLS {reading.version}"), "",
                  f"{_code('mbedtls_strerror')} prints {printed}", "",
                  "| Part | Code | Name | Meaning | Header |", "|---|---|---|---|---|"]
        lines += [_part(p) for p in reading.parts]
        if reading.causes:
            lines += ["", *causes(reading.causes, "", _code, "- ")]
    return lines


def _flags(found: FlagsExplanation, level: int) -> list[str]:
    lines = [_heading(level, f"Verify flags {_code(f'0x{found.value:08X}')} (mbedTLS {found.version})"), ""]
    for reading in found.flags:
        lines.append(f"- {_code(f'0x{reading.flag.bit:05X}')} {_code(reading.flag.name)}: "
                     f"{reading.flag.description}")
        lines += causes(reading.causes, "  ", _code, "- ")
    if found.unknown_bits:
        lines.append(f"- {_code(f'0x{found.unknown_bits:X}')}: no flag of mbedTLS {found.version} has these bits")
    return lines


def explanations(codes: Sequence[CodeExplanation], flag_sets: Sequence[FlagsExplanation]) -> str:
    """Each code with its reading per line and their causes, then each set of verify flags."""
    blocks = [_explanation(c, 3) for c in codes] + [_flags(f, 3) for f in flag_sets]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def _size_row(found: Footprint) -> str:
    return (f"| {found.target} | {found.text:,} B ({found.text / 1024:.1f} KiB) | {found.data:,} B | "
            f"{found.bss:,} B | {_code(found.compiler)} |")


def _footprint(found: Verification) -> list[str]:
    built = [f for f in (found.footprint, found.firmware) if f is not None]
    lines = ["| Build | text | data | bss | Compiler |", "|---|--:|--:|--:|---|",
             *(_size_row(f) for f in built), ""] if built else []
    if found.footprint_note:
        lines += [_sentence(found.footprint_note), ""]
    if found.firmware is not None:
        linked = found.firmware
        flash, ram = linked.flash, linked.ram
        lines += [f"A device client doing one handshake and one round trip "
                  f"({_code('configgen/data/footprint_client.c')}): flash **{flash / 1024:.1f} KiB** "
                  f"(text+data), static RAM **{ram / 1024:.1f} KiB** (data+bss).", ""]
    elif found.firmware_note:
        lines += [_sentence(found.firmware_note), ""]
    return lines


def _handshake(shake: Handshake) -> str:
    head = f"{_code(shake.server)} as {_code(shake.name)}"
    said = (f"ok {head}: {shake.result.removeprefix('ok: ')}, one round trip" if shake.ok
            else f"**FAIL** {head}: {_code(shake.result)}")
    if shake.heap_peak is not None:
        said += (f"; heap peak {shake.heap_peak:,} B ({shake.heap_peak / 1024:.1f} KiB) on this host "
                 "(valgrind massif, allocator overhead included)")
    return f"- {said}"


def verification(found: Verification) -> str:
    """verify's result: the build steps, the footprint, each handshake and, for one that
    failed, its error and verify flags decoded."""
    line = line_of(found.version)
    failed = [s.name for s in found.steps if not s.ok] + [
        f"handshake with {_code(h.server)}" for h in found.handshakes if not h.ok]
    lines = [_heading(3, f"Verification of {_code(found.header)}"), "",
             f"**Failed:** {', '.join(failed)}." if failed else "**Verified.**", "",
             f"mbedTLS {found.version} (line {line} {found.line_from}), {_code(found.tree)}", "",
             _heading(4, "Build"), "", "| Step | Result | Detail |", "|---|---|---|"]
    lines += [f"| {_cell(s.name)} | {'ok' if s.ok else '**FAIL**'} | {_cell(s.detail)} |" for s in found.steps]
    for step in (s for s in found.steps if s.errors):
        lines += ["", f"{step.name}:", "", "```text", *step.errors[:MAX_ERRORS], "```"]
        if len(step.errors) > MAX_ERRORS:
            lines.append(f"... and {len(step.errors) - MAX_ERRORS} more ({_code('--format json')} lists them)")
    lines += ["", _heading(4, "Footprint"), "", *_footprint(found)]
    if found.handshakes:
        lines += [_heading(4, "Handshakes"), "", *(_handshake(h) for h in found.handshakes), ""]
    for shake in (h for h in found.handshakes if h.code or h.flags):
        lines += [_heading(4, f"Why the handshake with {_code(shake.server)} failed"), ""]
        if shake.code:
            lines += [*_explanation(shake.code, 5), ""]
        if shake.flags:
            lines += [*_flags(shake.flags, 5), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _need(option: str, value: str | None) -> str:
    return _code(option) + (f" >= {value}" if value else "")


def _needs(needs: Sequence[OptionNeed]) -> str:
    once = dict.fromkeys((n.option, n.value) for n in needs)  # two reasons may need one option
    return _cell(", ".join(_need(option, value) for option, value in once)) or "nothing"


def _problem_codes(problems: Sequence[Problem]) -> str:
    return ", ".join(f"{p.severity.value} {_code(p.code)}" for p in problems) or "none"


_ROLE = {Role.OWN: "the device's own (it matches a key given)", Role.ANCHOR: "trust anchor",
         Role.PRESENTED: "sent by the server"}


def _certificate(cert: CertFacts, found: Inspection) -> list[str]:
    reports = dict.fromkeys((line.line, c) for line in found.lines for c in line.certificates
                            if c.verdict.label == cert.label)  # once, if a file is given twice
    valid = f"valid {plain(cert.not_before)[:10]} to {plain(cert.not_after)[:10]}"
    lines = [_heading(5, f"{cert.index + 1}. {_code(cert.subject)}"), "",
             f"- issuer {_code(cert.issuer)}",
             f"- {cert.public_key.describe()}, signed {_code(cert.signature.name)}, {valid}"
             + (", CA" if cert.is_ca else "")]
    if cert.dns_names or cert.ip_addresses:
        lines.append(f"- names {_codes(cert.dns_names + cert.ip_addresses)}")
    critical = [e.name for e in cert.extensions if e.critical]
    if critical:
        lines.append(f"- critical extensions {_codes(critical)}")
    lines += ["", "| mbedTLS | Role | Default configuration | Needs | Problems |", "|---|---|---|---|---|"]
    for line, report in reports:
        verdict = report.verdict
        parsed = ("parses" if verdict.parses_by_default else "fails" if verdict.parse_error is None
                  else f"fails with {_code(f'-0x{-verdict.parse_error:04X}')}")
        lines.append(f"| {line} | {_ROLE[report.role]} | {parsed} | {_needs(verdict.needs)} | "
                     f"{_problem_codes(verdict.problems)} |")
    return lines + [""]


def _keys(f: FileFacts, found: Inspection) -> list[str]:
    lines = []
    for index, key in enumerate(f.keys):
        sealed = key.encryption
        how = ", ".join(v for v in (sealed.scheme, sealed.cipher, sealed.hash) if v) if sealed else ""
        lines += [_heading(5, f"Private key: {key.public_key.describe()}"
                           + (f" (encrypted: {how})" if sealed else "")), "",
                  "| mbedTLS | Matches | Needs | Problems |", "|---|---|---|---|"]
        for line in found.lines:
            report = [k for k in line.keys if k.label == f.source][index]
            lines.append(f"| {line.line} | {_cell(_codes(report.matches)) or 'no certificate given'} | "
                         f"{_needs(report.needs)} | {_problem_codes(report.problems)} |")
        lines.append("")
    return lines


def _file(f: FileFacts, found: Inspection) -> list[str]:
    lines = [_heading(4, f"{_code(f.source)} ({f.container.value}): {len(f.certificates)} certificate(s), "
                         f"{len(f.keys)} key(s)"), ""]
    parsed = {line.line: v for line in found.lines for v in line.files if v.source == f.source}
    if parsed:
        lines += [f"{_code('mbedtls_x509_crt_parse_file()')}, default configuration: "
                  + "; ".join(f"{line} {parse_result(v)}" for line, v in parsed.items()), ""]
    for cert in f.certificates:
        lines += _certificate(cert, found)
    return lines + _keys(f, found)


def _inspection_problems(found: Inspection) -> list[str]:
    merged = merged_problems(found)
    if not merged:
        return ["No problems found.", ""]
    lines = [_heading(4, f"Problems ({len(merged)})"), ""]
    for severity, found_on, message, fix in merged:
        lines += [f"- **{severity}** [{found_on}] {message}", f"  - fix: {fix}"]
    return lines + [""]


def _chains(found: Inspection) -> list[str]:
    chains = [(line.line, line.chain) for line in found.lines if line.chain is not None]
    if not chains:
        return []
    lines = [_heading(4, f"Chain (host {_code(found.host) if found.host else 'not checked'})"), "",
             "| mbedTLS | Verdict | Path |", "|---|---|---|"]
    for line, chain in chains:
        lines.append(f"| {line} | {chain_verdict(chain, _code, ', ')} | {_cell(' → '.join(_code(p) for p in chain.path))} |")
    return lines + [""]


def inspection(found: Inspection) -> str:
    """inspect's result: the problems, the chain, each file with each certificate's and
    key's verdict per line, what the device needs, and any extension callback."""
    at = f"Checked at {plain(found.at)}" + (f" for host {_code(found.host)}" if found.host else "")
    lines = [_heading(3, f"Certificates and keys for mbedTLS {' and '.join(line.line for line in found.lines)}"),
             "", f"{at}.", "", *_inspection_problems(found), *_chains(found)]
    for f in found.files:
        lines += _file(f, found)
    lines += [_heading(4, "What the device needs"), ""]
    for line in found.lines:
        lines += [_heading(5, f"mbedTLS {line.line}"), ""]
        for need in line.needs:
            lines.append(f"- {_need(need.option, need.value)}")
            lines += [f"  - via {reason}" for reason in need.reasons]
        lines.append("")
    for line in found.lines:
        for c in line.certificates:
            if c.verdict.callback:
                lines += [_heading(4, f"Extension callback for {_code(c.verdict.label)} (mbedTLS {line.line})"),
                          "", "```c", c.verdict.callback.rstrip("\n"), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def server_facts(facts: ServerFacts) -> str:
    """probe's result: what report/server.py says as text, a bullet a topic."""
    from configgen.report import server  # cryptography: loaded only when a probe is reported

    sni = f"SNI {_code(facts.sni)}" if facts.sni else "no SNI"
    lines = [_heading(3, f"Server {_code(facts.where)} ({sni})"), "", f"{_sentence(server.how(facts))}.", ""]
    for label, (first, *more) in server.rows(facts):
        lines.append(f"- **{label}**: {first}")
        lines += [f"  - {m}" for m in more]
    return "\n".join(lines) + "\n"
