"""configgen diff: what changed between two headers, in words a reviewer can act on."""

from __future__ import annotations

import argparse
from pathlib import Path

from configgen import headerfile
from configgen import kb as knowledge
from configgen.advise import causes
from configgen.advise.diff import diff
from configgen.arguments import add_report_format
from configgen.kb.model import LINES
from configgen.report import json, markdown, text
from configgen.report.emit import emit
from configgen import readers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD", help="the header before")
    parser.add_argument("new", type=Path, metavar="NEW", help="the header after")
    add_report_format(parser)
    parser.add_argument("--mbedtls", choices=LINES,
                        help="the mbedTLS line of NEW (default: from its banner or its option names)")


def run(args: argparse.Namespace) -> int:
    old, new = readers.read_header(args.old), readers.read_header(args.new)
    known = {line: frozenset(o.name for o in knowledge.load(line).options) for line in LINES}
    line = args.mbedtls or headerfile.guess_line(new, known) or LINES[-1]
    found = diff(old, new, knowledge.load(line), causes.security())
    emit(args.format, text=lambda: text.header_diff(found), json=lambda: json.header_diff(found),
         markdown=lambda: markdown.header_diff(found))
    return 0
