"""configgen wizard: ask, probe, inspect, then write a project profile and the header.

Re-running it on an existing profile pre-fills every answer. Without a terminal it says to use
`configgen generate --profile FILE` and exits 2; Ctrl-C at any point leaves no file behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from configgen.wizard import main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", type=Path, default=Path("tls.toml"),
                        help="the project profile to write, pre-filled when it exists (default tls.toml)")
    parser.add_argument("-o", "--output", type=Path, default=Path("mbedtls_config.h"),
                        help="the header to write (default mbedtls_config.h)")


def run(args: argparse.Namespace) -> int:
    return main(args.profile, args.output)
