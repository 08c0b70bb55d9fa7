"""configgen diagnose: read an mbedTLS debug log, say where and why the handshake failed."""

from __future__ import annotations

import argparse
from dataclasses import replace

from configgen import kb as knowledge
from configgen import readers
from configgen.advise import causes
from configgen.advise.diagnose import diagnose, read_log
from configgen.advise.explain import AdviceInputError
from configgen.arguments import add_release_option, add_report_format
from configgen.kb.model import LINES
from configgen.report import json, markdown, text
from configgen.report.emit import emit
from configgen.values import line_of

LOG = readers.Kind("a debug log", 16 * readers.MIB, AdviceInputError)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", metavar="LOGFILE", help="the debug log (- for stdin)")
    parser.add_argument("--mbedtls", choices=LINES,
                        help="the mbedTLS line of the device (default: read from the log)")
    add_release_option(parser)
    add_report_format(parser)


def read_text(name: str) -> str:
    """The log's text (the I/O edge): binary files and empty logs are refused."""
    data = readers.read_input(name, LOG)
    if b"\0" in data:
        raise AdviceInputError("is a binary file, not a debug log", where=name)
    if not data.strip():
        raise AdviceInputError("is empty: nothing to diagnose", where=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def run(args: argparse.Namespace) -> int:
    every = [knowledge.load(line) for line in LINES]
    log = read_text(args.log)
    try:
        trace = read_log(log, [(f.bit, f.description) for f in every[-1].verify_flags])
    except AdviceInputError as error:
        raise AdviceInputError(error.message, where=args.log, hint=error.hint) from None
    if args.mbedtls:
        trace = replace(trace, line=args.mbedtls)
    if args.release:
        trace = replace(trace, line=line_of(args.release.release))
    found = diagnose(trace, every, causes.load(), args.release)
    emit(args.format, text=lambda: text.diagnosis(found, every), json=lambda: json.diagnosis(found),
         markdown=lambda: markdown.diagnosis(found, every))
    return 0
