"""Results as JSON for machines: every command's --json, written one way.

Each result becomes plain data through configgen/model/plain.py, the one conversion (the
probe snapshot uses it too; `configgen probe --json` prints the snapshot document of
docs/probe-snapshot.md, which configgen/probe/snapshot.py writes). The shapes:

- verify: {"schema": 1, "ok", and the fields of Verification (configgen/model/results.py)}
- explain: {"codes": [CodeExplanation], "flags": [FlagsExplanation]}
- inspect, keys sorted:

    {"schema": 1, "at": ISO time, "host", "lines": ["2.28", "3.6"],
     "files": [{"source", "container", "certificates": [CertFacts without der], "keys": [KeyFacts]}],
     "verdicts": {line: [{"role", "label", "parses_by_default", "parse_error", "needs": [Need],
                          "problems": [Problem], "callback": C source or null}]},
     "file_verdicts": {line: [{"source", "parses_by_default", "result", "problems"}]}
        (what mbedtls_x509_crt_parse_file() returns for each file holding certificates),
     "keys": {line: [{"label", "key", "encryption", "matches": [certificate labels], "needs", "problems"}]},
     "file_needs": [Need],
     "chains": {line: ChainReport} (only with --ca),
     "problems": [{"line", "where", "severity", "code", "message", "fix", "error"}]}
- diagnose: {"schema": 1, "cause": id (no-common-suite, untrusted-chain, ...), "summary", "fix",
  "check", "code": the error the application saw (an int, -30592) or null,
  "trace": the fields of Trace (configgen/advise/diagnose.py): what the log shows, suites as
  IANA ids (ints), alerts as [level, description], errors as [{"function", "code"}]}
- review: {"schema": 1, "failing": whether the findings fail the review (exit 1), "where": the
  header, "version": the release reviewed for,
  "findings": [{"kind", "option", "detail", "reasons", "predicted", "size"}]}
  (kinds most urgent first: configgen/model/findings.py KINDS)
- diff: {"schema": 1, "old", "new" (the headers), "options": [names whose #define changed],
  "changes": [{"option", "kind": added|removed|value|reasons, "old", "new", "security",
  "suites_added", "suites_removed"}], "weakened_added", "weakened_removed"}; "old" and "new"
  of a change are the header's Define (configgen/headerfile.py: "name", "value", "active",
  "line", "comment", "reasons", "conditional") or null
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from configgen.model.plain import plain
from configgen.model.results import Verification

if TYPE_CHECKING:  # types only: the inspector loads cryptography; each command loads its own work
    from configgen.model.explanations import CodeExplanation, FlagsExplanation
    from configgen.model.inspection import Inspection
    from configgen.model.findings import Diagnosis
    from configgen.model.findings import HeaderDiff
    from configgen.model.findings import Review

VERIFY_SCHEMA = 1
INSPECT_SCHEMA = 1
DIAGNOSE_SCHEMA = 1
REVIEW_SCHEMA = 1
DIFF_SCHEMA = 1


def _document(found: Any, indent: int = 2, sort_keys: bool = False, omit: Collection[str] = ()) -> str:
    """`found` as indented JSON text with a final newline (`omit`: fields left out)."""
    return json.dumps(plain(found, omit), indent=indent, sort_keys=sort_keys) + "\n"


def verification(found: Verification) -> str:
    return _document({"schema": VERIFY_SCHEMA, "ok": found.ok, **plain(found)})


def explanations(codes: Sequence[CodeExplanation], flags: Sequence[FlagsExplanation]) -> str:
    return _document({"codes": codes, "flags": flags})


def inspection(found: Inspection) -> str:
    """The DER of certificates is left out: the files hold it."""
    data = {
        "schema": INSPECT_SCHEMA,
        "at": found.at,
        "host": found.host,
        "lines": [line.line for line in found.lines],
        "files": found.files,
        "file_needs": found.file_needs,
        "verdicts": {line.line: [{"role": c.role, **plain(c.verdict)} for c in line.certificates]
                     for line in found.lines},
        "file_verdicts": {line.line: line.files for line in found.lines},
        "keys": {line.line: line.keys for line in found.lines},
        "chains": {line.line: line.chain for line in found.lines if line.chain is not None},
        "problems": [{"line": p.line, "where": p.where, **plain(p.problem)} for p in found.problems],
    }
    return _document(data, indent=1, sort_keys=True, omit=("der",))


def diagnosis(found: Diagnosis) -> str:
    return _document({"schema": DIAGNOSE_SCHEMA, **plain(found, omit=("trace",)), "trace": found.trace})


def review(found: Review) -> str:
    return _document({"schema": REVIEW_SCHEMA, "failing": found.failing, **plain(found)})


def header_diff(found: HeaderDiff) -> str:
    return _document({"schema": DIFF_SCHEMA, "old": found.old, "new": found.new, "options": found.options,
                      "changes": found.changes, "weakened_added": found.weakened_added,
                      "weakened_removed": found.weakened_removed})
