"""configgen review: an existing header against what the target needs."""

from __future__ import annotations

import argparse
from pathlib import Path

from configgen import headerfile
from configgen import kb as knowledge
from configgen import profile as profiles
from configgen.advise import causes
from configgen.advise.review import review
from configgen.arguments import add_report_format
from configgen.generate import generate
from configgen.headerfile import HeaderError
from configgen.kb.model import LINES
from configgen.report import json, markdown, text
from configgen.report.emit import emit
from configgen import readers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("header", type=Path, metavar="HEADER",
                        help="the config header to review (config.h, mbedtls_config.h, configgen's)")
    parser.add_argument("--profile", required=True, type=Path, help="the project profile (TOML)")
    parser.add_argument("--mbedtls", choices=LINES, help="the mbedTLS line (default: the profile's)")
    parser.add_argument("--offline", action="store_true",
                        help="replay the servers' recorded snapshots instead of probing them")
    add_report_format(parser)


def run(args: argparse.Namespace) -> int:
    header = readers.read_header(args.header)
    profile = profiles.load(args.profile, args.mbedtls)
    kb = knowledge.load(profile.mbedtls)
    line = headerfile.guess_line(header, {
        line: frozenset(o.name for o in knowledge.load(line).options) for line in LINES})
    if line is not None and line != kb.line:
        raise HeaderError(f"is a header for mbedTLS {line}, the profile builds for {kb.line}",
                          where=str(args.header), hint="pass --mbedtls to review it for another line")
    target = generate(profile, None, args.mbedtls, None, args.offline)
    found = review(header, target.options, kb, causes.load(), causes.security(), causes.sizes()[kb.line],
                   target.release, target.servers)
    emit(args.format, text=lambda: text.review(found), json=lambda: json.review(found),
         markdown=lambda: markdown.review(found))
    return 1 if found.failing else 0
