"""configgen generate: a project profile in, the mbedTLS config header out."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from configgen import profile as profiles
from configgen.advise import debughelp
from configgen.generate import generate
from configgen.kb.model import LINES
from configgen.output import current_text, write_if_changed

ENV_COMMAND = "CONFIGGEN_COMMAND"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", required=True, type=Path, help="the project profile (TOML)")
    parser.add_argument("-o", "--output", default="-", help="the header to write (- for stdout)")
    parser.add_argument("--mbedtls", choices=LINES, help="the mbedTLS line (default: the profile's)")
    parser.add_argument(
        "--offline", action="store_true",
        help="replay the servers' recorded snapshots instead of probing them (deterministic builds)",
    )
    parser.add_argument(
        "--debug", action="store_true",
        help="add MBEDTLS_DEBUG_C and print the C that makes the debug log appear",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 when OUTPUT differs from what would be generated",
    )


def run(args: argparse.Namespace) -> int:
    profile = profiles.load(args.profile, args.mbedtls)
    result = generate(profile, args.output, args.mbedtls, os.environ.get(ENV_COMMAND), args.offline,
                      args.debug)
    text = result.text
    for warning in result.notes + result.options.warnings:
        print(f"configgen: warning: {warning}", file=sys.stderr)
    if args.debug and not args.check:
        print(f"{debughelp.cost(profile.mbedtls)}.\n\n{debughelp.snippet(profile.board.name)}",
              file=sys.stderr)
    if args.check:
        if args.output == "-":
            print("configgen: --check needs -o HEADER", file=sys.stderr)
            return 2
        if current_text(Path(args.output)) != text:
            print(f"{args.output} is stale: run '{result.command}'", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    changed = write_if_changed(Path(args.output), text)
    print(f"{'Wrote' if changed else 'No change to header in'} {args.output!r}", file=sys.stderr)
    return 0

