"""configgen sources: print (fetching when needed) the mbedTLS source trees configgen uses."""

from __future__ import annotations

import argparse

from configgen import sources


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "lines",
        nargs="*",
        metavar="LINE",
        help=f"mbedTLS lines to provide ({', '.join(sorted(sources.DEBIAN_PACKAGES))}; "
        "default: all, or those of --mbedtls-src)",
    )
    add_source_option(parser)
    parser.add_argument(
        "--no-fetch", action="store_true", help="only report trees already present; never download"
    )


def add_source_option(parser: argparse.ArgumentParser) -> None:
    """--mbedtls-src, shared by every command that needs mbedTLS sources."""
    parser.add_argument(
        "--mbedtls-src",
        action="append",
        metavar="DIR",
        help=f"an mbedTLS source tree you already have (repeatable; also ${sources.ENV_SOURCE_TREES})",
    )


def run(args: argparse.Namespace) -> int:
    if args.lines:
        lines = args.lines
    elif args.mbedtls_src:
        lines = [tree.line for tree in sources.user_trees(args.mbedtls_src)]
    else:
        lines = sorted(sources.DEBIAN_PACKAGES)
    for line in lines:
        tree = sources.find_tree(line, args.mbedtls_src, fetch=not args.no_fetch)
        print(f"{tree.line}\t{tree.version}\t{tree.root}")
    return 0
