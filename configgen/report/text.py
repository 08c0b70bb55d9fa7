"""Advisor findings as terminal text (lines without trailing newlines)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from configgen.model.explanations import Cause
from configgen.advise.diagnose import suite_names
from configgen.model.findings import Diagnosis, Trace
from configgen.model.findings import Change, HeaderDiff
from configgen.model.explanations import CodeExplanation, FlagsExplanation, Part
from configgen.model.findings import Review
from configgen.model.findings import Stale
from configgen.kb.model import KnowledgeBase
from configgen.model.certificates import CertFacts, KeyFacts, KeyType
from configgen.model.plain import plain
from configgen.model.results import Footprint, Handshake, Verification
from configgen.probe.names import ALERTS, name_of
from configgen.values import line_of

if TYPE_CHECKING:  # loading these loads cryptography, which only their commands need
    from configgen.model.verdicts import ChainReport, FileVerdict
    from configgen.model.inspection import Inspection


def _hex(value: int) -> str:
    return f"-0x{-value:04X}"


def _part(part: Part) -> str:
    label = {"whole": "code", "high": "high", "low": "low "}[part.level]
    if part.error is not None:
        aliases = f" (also {', '.join(part.aliases)})" if part.aliases else ""
        return (f"{label} {_hex(part.value)}  {part.error.name}{aliases}: {part.error.module} - "
                f"{part.error.description}  [{part.error.header}]")
    where = "; ".join(f"{name} in mbedTLS {version}" for version, name in part.elsewhere)
    return f"{label} {_hex(part.value)}  not defined in this line" + (f" (it is {where})" if where else "")


def causes(found: Sequence[Cause], indent: str, code: Callable[[str], str] = str,
           bullet: str = "") -> list[str]:
    """Each cause, its fix, the options it names and the command that checks it. `code`
    marks option names and commands, `bullet` starts each item (Markdown's code spans and
    list items; text leaves them out)."""
    lines = []
    for cause in found:
        lines.append(f"{indent}{bullet}cause: {cause.why}")
        lines.append(f"{indent}  {bullet}fix: {cause.fix}")
        if cause.options:
            lines.append(f"{indent}  {bullet}options: {', '.join(map(code, cause.options))}")
        if cause.shrink:
            lines.append(f"{indent}  {bullet}shrink: {', '.join(map(code, cause.shrink))}")
        lines.append(f"{indent}  {bullet}check: {code(cause.check)}")
    return lines


def explanation(found: CodeExplanation) -> list[str]:
    lines = [f"{found.hex} ({found.code})"]
    for reading in found.readings:
        printed = reading.strerror or "(nothing)"
        lines.append(f"  mbedTLS {reading.version}: mbedtls_strerror prints \"{printed}\"")
        lines += [f"    {_part(p)}" for p in reading.parts]
        lines += causes(reading.causes, "    ")
    return lines


def flags(found: FlagsExplanation) -> list[str]:
    lines = [f"verify flags 0x{found.value:08X} (mbedTLS {found.version})"]
    for reading in found.flags:
        lines.append(f"  0x{reading.flag.bit:05X} {reading.flag.name}: {reading.flag.description}")
        lines += causes(reading.causes, "    ")
    if found.unknown_bits:
        lines.append(f"  0x{found.unknown_bits:X}: no flag of mbedTLS {found.version} has these bits")
    return lines


def explanations(codes: Sequence[CodeExplanation], flag_sets: Sequence[FlagsExplanation]) -> list[str]:
    """Each code, then each set of flags, a blank line between them."""
    lines: list[str] = []
    for i, block in enumerate([explanation(c) for c in codes] + [flags(f) for f in flag_sets]):
        lines += ([""] if i else []) + block
    return lines


def review(found: Review) -> list[str]:
    if not found.findings:
        return [f"{found.where}: nothing missing, unneeded or risky for mbedTLS {found.version}"]
    lines = [f"{found.where} against what the profile needs (mbedTLS {found.version})"]
    for kind, count, group in found.groups():
        lines.append(f"{kind} ({count})")
        for finding in group:
            lines.append(f"  {finding.option or 'check_config.h'}: {finding.detail}")
            if finding.predicted:
                lines.append(f"    without it: {' or '.join(finding.predicted)}")
            lines += [f"    via {reason}" for reason in finding.reasons]
    return lines


_VERB = {"added": "enabled", "removed": "disabled", "value": "value changed",
         "reasons": "reasons changed"}


def describe_change(change: Change) -> str:
    """One line: what happened to the option, in words."""
    if change.kind == "value" and (change.suites_added or change.suites_removed):
        parts = []
        if change.suites_added:
            parts.append(f"suites added: {', '.join(change.suites_added)}")
        if change.suites_removed:
            parts.append(f"suites removed: {', '.join(change.suites_removed)}")
        return f"{change.option}: {'; '.join(parts)}"
    if change.kind == "value" and change.old is not None and change.new is not None:
        return f"{change.option}: {change.old.value} -> {change.new.value}"
    value = change.new.value if change.kind == "added" and change.new and change.new.value else ""
    return f"{change.option} {_VERB[change.kind]}{' = ' + value if value else ''}"


def change_reasons(change: Change) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(reasons it had, reasons it has): the via lines of generated headers."""
    was = change.old.reasons if change.old is not None and change.old.active else ()
    now = change.new.reasons if change.new is not None and change.new.active else ()
    return was, now


def header_diff(found: HeaderDiff) -> list[str]:
    if not found.changes and not found.weakened_added and not found.weakened_removed:
        return [f"no option changed between {found.old} and {found.new}"]
    lines = [f"{found.old} -> {found.new}: {len(found.options)} options changed"]
    for title, changes in found.groups():
        lines.append(f"{title} ({len(changes)})")
        for change in changes:
            lines.append(f"  {describe_change(change)}")
            if change.security and change.kind != "reasons":
                lines.append(f"    {change.security}")
            was, now = change_reasons(change)
            lines += [f"    was via {r}" for r in was if r not in now]
            lines += [f"    now via {r}" for r in now if r not in was]
    for entry in found.weakened_added:
        lines.append(f"newly weakened on purpose: {entry}")
    for entry in found.weakened_removed:
        lines.append(f"no longer weakened: {entry}")
    return lines


def stale(found: Stale) -> list[str]:
    """What regenerating a file would change."""
    if not found.exists:
        return [f"{found.path} does not exist yet"]
    if found.header is not None:
        return header_diff(found.header)
    changed = [f"  - {row}" for row in found.removed] + [f"  + {row}" for row in found.added]
    return [f"{found.path}: {len(changed)} CONFIG_ lines change", *changed] if changed else [
        f"{found.path}: only comments change (the reasons or the banner)"]


def log_title(trace: Trace) -> str:
    """"mbedTLS 3.6.6 debug log": the release (or line) the log's banner names."""
    return f"mbedTLS {trace.version or trace.line or '(line not in the log)'} debug log"


def trace_facts(trace: Trace, kbs: Sequence[KnowledgeBase], code: Callable[[str], str] = str) -> list[str]:
    """What the log shows of the handshake, a fact a line ("ClientHello: ...", "reached: ...");
    suites are named from the knowledge base of the log's line. `code` marks the names and
    numbers in a fact (Markdown's code spans; text leaves them as they are)."""
    kb = next((k for k in kbs if k.line == trace.line), None)
    facts = []
    hello = []
    if trace.max_version:
        hello.append(f"max version {code(trace.max_version)}")
    if trace.suites:
        hello.append(f"suites ({len(trace.suites)}): {code(suite_names(trace.suites, kb, 12))}")
    if trace.sni:
        hello.append(f"SNI '{trace.sni}'")
    if trace.extensions:
        hello.append(f"extensions: {', '.join(map(code, trace.extensions))}")
    if trace.groups:
        hello.append(f"groups: {', '.join(map(code, trace.groups))}")
    if hello:
        facts.append(f"ClientHello: {'; '.join(hello)}")
    server = []
    if trace.chosen_suite is not None:
        suite = kb.suite(trace.chosen_suite) if kb else None
        server.append(f"chose {code(f'0x{trace.chosen_suite:04X}' + (f' {suite.name}' if suite else ''))}")
    if trace.subjects:
        server.append(f"sent certificates for {'; '.join(map(code, trace.subjects))}")
    elif trace.certificate_seen:
        server.append("sent its certificate")
    if "parse certificate request" in trace.steps and "parse certificate request" not in trace.skipped:
        server.append("asked for a client certificate")
    if server:
        facts.append(f"server: {'; '.join(server)}")
    if trace.reached:
        facts.append(f"reached: {code(trace.reached)}")
    for way, alerts in (("received", trace.alerts_received), ("sent", trace.alerts_sent)):
        facts += [f"alert {way}: {'fatal' if level == 2 else 'warning'} {alert} ({code(name_of(ALERTS, alert))})"
                  for level, alert in alerts]
    facts += [f"error: {code(f'{site.function}()')} returned {code(f'-0x{-site.code:04X}')}"
              for site in trace.errors]
    if trace.final is not None:
        where = f" in {code(trace.final.function)}" if trace.final.function else ""
        facts.append(f"the application saw {code(f'-0x{-trace.final.code:04X}')}{where}")
    return facts


def diagnosis(found: Diagnosis, kbs: Sequence[KnowledgeBase]) -> list[str]:
    return [log_title(found.trace), *(f"  {fact}" for fact in trace_facts(found.trace, kbs)),
            f"cause ({found.cause}): {found.summary}", f"  fix: {found.fix}", f"  check: {found.check}"]


MAX_ERRORS = 10  # compiler errors shown per step; --json has them all


def _size(found: Footprint) -> str:
    return (f"{found.target}: text {found.text:,} B ({found.text / 1024:.1f} KiB), "
            f"data {found.data:,} B, bss {found.bss:,} B ({found.compiler})")


def _firmware(found: Verification) -> list[str]:
    if found.firmware is None:
        return [f"        {found.firmware_note}"] if found.firmware_note else []
    linked = found.firmware
    flash, ram = linked.flash, linked.ram
    return [f"  size  {_size(linked)}",
            f"        = flash {flash / 1024:.1f} KiB (text+data), static RAM {ram / 1024:.1f} KiB (data+bss) "
            "for a device client doing one handshake and one round trip (configgen/data/footprint_client.c)"]


def _heap(shake: Handshake) -> list[str]:
    if shake.heap_peak is None:
        return []
    return [f"        heap: peak {shake.heap_peak:,} B ({shake.heap_peak / 1024:.1f} KiB) on this host "
            "(valgrind massif, allocator overhead included)"]


def verification(found: Verification) -> list[str]:
    line = line_of(found.version)
    lines = [f"{found.header}: mbedTLS {found.version} (line {line} {found.line_from}), {found.tree}"]
    size = [f"  size  {_size(found.footprint) if found.footprint else found.footprint_note}"]
    if found.footprint and found.footprint_note:
        size.append(f"        {found.footprint_note}")
    size += _firmware(found)
    for step in found.steps:
        lines.append(f"  {'ok' if step.ok else 'FAIL':4}  {step.name}: {step.detail}")
        lines += [f"        {error}" for error in step.errors[:MAX_ERRORS]]
        if len(step.errors) > MAX_ERRORS:
            lines.append(f"        ... and {len(step.errors) - MAX_ERRORS} more (--json lists them)")
        if step.name == "library" or not step.ok:
            lines += size
            size = []
    for shake in found.handshakes:
        head = f"handshake {shake.server} as {shake.name}"
        if shake.ok:
            lines.append(f"  ok    {head}: {shake.result.removeprefix('ok: ')}, one round trip")
            lines += _heap(shake)
            continue
        lines.append(f"  FAIL  {head}: {shake.result}")
        decoded = (explanation(shake.code) if shake.code else []) + (flags(shake.flags) if shake.flags else [])
        lines += [f"        {entry}" for entry in decoded]
        lines += _heap(shake)
    failed = [s.name for s in found.steps if not s.ok] + [
        f"handshake with {h.server}" for h in found.handshakes if not h.ok]
    lines.append(f"FAILED: {', '.join(failed)}" if failed else "verified")
    return lines


def parse_result(verdict: FileVerdict) -> str:
    """What mbedtls_x509_crt_parse_file() does with the file in the default configuration."""
    if verdict.parses_by_default:
        return "parses (returns 0)"
    if verdict.result is None:
        return "fails"
    return (f"fails: {verdict.result} certificate(s) refused" if verdict.result > 0
            else f"fails with -0x{-verdict.result:04X}")


def merged_problems(found: Inspection) -> list[tuple[str, str, str, str]]:
    """Each problem once, with the lines it is a problem for: (severity, lines as
    "2.28 and 3.6", message, fix), the message and fix naming those lines."""
    merged: dict[tuple[str, str, str], list[str]] = {}
    for located in found.problems:
        p, spelled = located.problem, f"mbedTLS {located.line}"
        key = (p.severity.value, p.message.replace(spelled, "mbedTLS {line}"), p.fix.replace(spelled, "mbedTLS {line}"))
        merged.setdefault(key, []).append(located.line)
    rows = []
    for (severity, message, fix), found_on in merged.items():
        joined = " and ".join(found_on)
        rows.append((severity, joined, message.replace("{line}", joined), fix.replace("{line}", joined)))
    return rows


def _problems(found: Inspection) -> list[str]:
    merged = merged_problems(found)
    if not merged:
        return ["No problems found."]
    lines = ["Problems"]
    for severity, found_on, message, fix in merged:
        lines.append(f"  {severity:7} [{found_on}] {message}")
        lines.append(f"          fix: {fix}")
    return lines


def chain_verdict(chain: ChainReport, code: Callable[[str], str] = str, join: str = " ") -> str:
    """What mbedtls_x509_crt_verify() says of a chain, in words (`code` marks the flags)."""
    if not chain.verified:
        return "nothing to verify: no certificate of the chain parses"
    if chain.flags == 0:
        return "verifies"
    return f"fails: flags {code(f'0x{chain.flags:08x}')} {join.join(map(code, chain.flag_names))}"


def _chains(found: Inspection) -> list[str]:
    reports = [(line.line, line.chain) for line in found.lines if line.chain is not None]
    if not reports:
        return []
    lines = ["", f"Chain (host {found.host or 'not checked'}, at {plain(found.at)})"]
    for line, chain in reports:
        lines.append(f"  mbedTLS {line}: {chain_verdict(chain)}")
        if chain.verified:
            lines.append(f"    path: {' -> '.join(chain.path)}")
    return lines


def _certificate(cert: CertFacts, own: bool) -> list[str]:
    key = cert.public_key
    key_text = f"EC {key.curve}" if key.type is KeyType.EC else f"{key.type.value.upper()}-{key.bits}"
    lines = [f"    {cert.index + 1}. {cert.subject}"
             + ("  (the device's own certificate: it matches a key given)" if own else ""),
             f"       issuer {cert.issuer}",
             f"       {key_text}, signed {cert.signature.name}, valid {plain(cert.not_before)[:10]} to "
             f"{plain(cert.not_after)[:10]}" + (", CA" if cert.is_ca else "")]
    if cert.dns_names or cert.ip_addresses:
        lines.append(f"       names {', '.join(cert.dns_names + cert.ip_addresses)}")
    critical = [e.name for e in cert.extensions if e.critical]
    if critical:
        lines.append(f"       critical extensions {', '.join(critical)}")
    return lines


def _key(key: KeyFacts) -> str:
    sealed = key.encryption
    how = ", ".join(v for v in (sealed.scheme, sealed.cipher, sealed.hash) if v) if sealed else ""
    return (f"    private key: {key.public_key.type.value.upper()} "
            f"{key.public_key.curve or key.public_key.bits}{f' (encrypted: {how})' if sealed else ''}")


def _files(found: Inspection) -> list[str]:
    parsed = {(v.source, line.line): v for line in found.lines for v in line.files}
    lines = ["", "Files"]
    for f in found.files:
        lines.append(f"  {f.source} ({f.container.value}): {len(f.certificates)} certificate(s), "
                     f"{len(f.keys)} key(s)")
        results = [(line.line, parsed[(f.source, line.line)]) for line in found.lines
                   if (f.source, line.line) in parsed]
        if results:
            lines.append("    mbedtls_x509_crt_parse_file(), default configuration: " + "; ".join(
                f"{line} {parse_result(v)}" for line, v in results))
        for cert in f.certificates:
            lines += _certificate(cert, cert.label in found.own)
        lines += [_key(k) for k in f.keys]
    return lines


def inspection(found: Inspection) -> list[str]:
    """Problems first, then the chain, the files, and what the device needs."""
    lines = _problems(found) + _chains(found) + _files(found) + ["", "What the device needs"]
    for line in found.lines:
        lines.append(f"  mbedTLS {line.line}:")
        for need in line.needs:
            lines.append(f"    {f'{need.option} >= {need.value}' if need.value else need.option}")
            lines += [f"        via {reason}" for reason in need.reasons]
    for line in found.lines:
        for c in line.certificates:
            if c.verdict.callback:
                lines += ["", f"Extension callback for {c.verdict.label} (mbedTLS {line.line}):",
                          c.verdict.callback]
    return lines
