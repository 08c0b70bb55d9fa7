"""configgen sources: print (fetching when needed) the mbedTLS source trees configgen uses."""

from __future__ import annotations

import argparse

from configgen import sources
from configgen.arguments import add_source_option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "releases",
        nargs="*",
        metavar="RELEASE",
        help=f"mbedTLS releases or lines to provide ({', '.join(sources.TESTED_RELEASES)}, or "
        f"{', '.join(sources.LINE_RELEASES)}; default: every tested release, or those of --mbedtls-src)",
    )
    add_source_option(parser)
    parser.add_argument(
        "--no-fetch", action="store_true", help="only report trees already present; never download"
    )


def run(args: argparse.Namespace) -> int:
    if args.releases:
        wanted = args.releases
    elif args.mbedtls_src:
        wanted = [tree.version for tree in sources.user_trees(args.mbedtls_src)]
    else:
        wanted = list(sources.TESTED_RELEASES)
    for release in wanted:
        tree = sources.find_tree(release, args.mbedtls_src, fetch=not args.no_fetch)
        print(f"{tree.line}\t{tree.version}\t{tree.root}")
    return 0
