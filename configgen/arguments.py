"""Command-line values and options that several commands (and the wizard) share.

A command module never imports another command; what two of them read the same way lives
here: a server address, --mbedtls-src, --release. Light imports only: every command's
arguments are built from it.
"""

from __future__ import annotations

import argparse

from typing import TYPE_CHECKING

from configgen import sources, values

if TYPE_CHECKING:
    from configgen.kb import releases

DEFAULT_PORT = 443


def parse_server(text_: str) -> tuple[str, int]:
    """HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address -> (host, port)."""
    return values.host_port(text_, DEFAULT_PORT)


def add_source_option(parser: argparse.ArgumentParser) -> None:
    """--mbedtls-src, shared by every command that needs mbedTLS sources."""
    parser.add_argument(
        "--mbedtls-src",
        action="append",
        metavar="DIR",
        help=f"an mbedTLS source tree you already have (repeatable; also ${sources.ENV_SOURCE_TREES})",
    )


def add_release_option(parser: argparse.ArgumentParser) -> None:
    """--release, shared by the advisor commands: the exact release the device runs."""
    parser.add_argument("--release", type=release_type, metavar="X.Y.Z",
                        help="the exact mbedTLS release the device runs (e.g. 3.6.2): its "
                        "known defects and missing capabilities are named too")


def release_type(value: str) -> releases.ReleaseFacts:
    """--release's value, checked: a release of a line configgen knows."""
    from configgen.kb import releases  # the release facts load when a --release is given

    if not releases.is_release(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a release (write it as 3.6.2)")
    problem = sources.unsupported(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return releases.facts_for(value)


REPORT_FORMATS = ("text", "json", "markdown")


def add_report_format(parser: argparse.ArgumentParser) -> None:
    """--format text|json|markdown, and --json for --format json: how a command that reports
    prints its result (report/: text for a person, JSON for machines, Markdown for a
    pull-request comment)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--format", choices=REPORT_FORMATS, default="text",
                       help="text (default), json for machines, markdown for a pull-request comment")
    group.add_argument("--json", dest="format", action="store_const", const="json",
                       help="the same as --format json")
