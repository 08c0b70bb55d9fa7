"""configgen explain: mbedTLS error codes or X.509 verify flags, decoded with causes and fixes."""

from __future__ import annotations

import argparse
import re

from configgen import kb as knowledge
from configgen.advise import causes
from configgen.advise.explain import (
    AdviceInputError,
    explain_code,
    explain_flags,
    parse_code,
    parse_flags,
)
from configgen.arguments import add_release_option, add_report_format
from configgen.kb.model import LINES
from configgen.report import json, markdown, text
from configgen.report.emit import emit
from configgen.values import line_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # argparse reads "-0x2700" as an option unless it counts as a negative number; widen its
    # (private, stable since Python 3.2) matcher to hexadecimal so codes need no "--".
    parser._negative_number_matcher = re.compile(r"^-(?:0[xX])?[0-9a-fA-F]+$")
    parser.add_argument("codes", nargs="*", metavar="CODE",
                        help="error codes in any spelling: -0x2700, 0x2700, -9984, 9984")
    parser.add_argument("--flags", "--verify-flags", dest="flags", action="append", default=[],
                        metavar="FLAGS", help="X.509 verify flags, e.g. 0x08")
    parser.add_argument("--mbedtls", choices=LINES, help="one mbedTLS line (default: every line)")
    add_release_option(parser)
    add_report_format(parser)


def run(args: argparse.Namespace) -> int:
    if not args.codes and not args.flags:
        raise AdviceInputError(
            "nothing to explain: give an error code (e.g. -0x2700) or --flags 0x08")
    every = [knowledge.load(line) for line in LINES]
    line = line_of(args.release.release) if args.release else args.mbedtls
    if args.release and args.mbedtls not in (None, line):
        raise AdviceInputError(f"--release {args.release.release} is of mbedTLS {line}, not {args.mbedtls}")
    chosen = [kb for kb in every if line in (None, kb.line)]
    known = causes.load()
    codes = [explain_code(parse_code(c), chosen, known, every, args.release) for c in args.codes]
    flag_sets = [explain_flags(parse_flags(f), chosen[-1], known) for f in args.flags]
    emit(args.format, text=lambda: text.explanations(codes, flag_sets), json=lambda: json.explanations(codes, flag_sets),
         markdown=lambda: markdown.explanations(codes, flag_sets))
    return 0

