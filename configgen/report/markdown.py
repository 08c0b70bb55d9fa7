"""Advisor findings as Markdown, for pull-request comments."""

from __future__ import annotations

from collections.abc import Sequence

from configgen.advise.diagnose import Diagnosis
from configgen.advise.diff import HeaderDiff
from configgen.advise.review import Review
from configgen.kb.model import KnowledgeBase
from configgen.report.text import change_reasons, describe_change, log_title, trace_facts


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
