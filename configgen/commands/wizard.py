"""configgen wizard: ask, probe, inspect, then write a project profile and the header.

Re-running it on an existing profile pre-fills every answer. Without a terminal it says to use
`configgen generate --profile FILE` and exits 2; Ctrl-C at any point leaves no file behind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from configgen.errors import ConfiggenError
from configgen.wizard import NO_TERMINAL, Declined, Wizard


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", type=Path, default=Path("tls.toml"),
                        help="the project profile to write, pre-filled when it exists (default tls.toml)")
    parser.add_argument("-o", "--output", type=Path, default=Path("mbedtls_config.h"),
                        help="the header to write (default mbedtls_config.h)")


def run(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfiggenError(NO_TERMINAL)
    try:
        result = Wizard(args.profile, args.output).run()
    except Declined:
        print("Nothing written.")
        return 0
    print(f"Wrote {args.profile} and {args.output}. To regenerate without questions:")
    print(f"  {result.command}")
    return 0
