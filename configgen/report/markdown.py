"""Advisor findings as Markdown, for pull-request comments."""

from __future__ import annotations

from collections.abc import Sequence

from configgen.advise.diff import HeaderDiff
from configgen.advise.review import Review
from configgen.report.text import change_reasons, describe_change
from configgen.model.explanations import Cause, CodeExplanation, FlagsExplanation, Part
from configgen.model.results import Footprint, Handshake, Verification
from configgen.report.text import MAX_ERRORS


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


def _causes(found: Sequence[Cause], indent: str) -> list[str]:
    lines = []
    for cause in found:
        lines.append(f"{indent}- cause: {cause.why}")
        lines.append(f"{indent}  - fix: {cause.fix}")
        if cause.options:
            lines.append(f"{indent}  - options: {_codes(cause.options)}")
        if cause.shrink:
            lines.append(f"{indent}  - shrink: {_codes(cause.shrink)}")
        lines.append(f"{indent}  - check: {_code(cause.check)}")
    return lines


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
            lines += ["", *_causes(reading.causes, "")]
    return lines


def _flags(found: FlagsExplanation, level: int) -> list[str]:
    lines = [_heading(level, f"Verify flags {_code(f'0x{found.value:08X}')} (mbedTLS {found.version})"), ""]
    for reading in found.flags:
        lines.append(f"- {_code(f'0x{reading.flag.bit:05X}')} {_code(reading.flag.name)}: "
                     f"{reading.flag.description}")
        lines += _causes(reading.causes, "  ")
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
        flash, ram = linked.text + linked.data, linked.data + linked.bss
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
    line = ".".join(found.version.split(".")[:2])
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
