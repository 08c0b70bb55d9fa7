"""configgen probe HOST[:PORT]: what a server accepts and sends, as text, Markdown, or the
snapshot (JSON: docs/probe-snapshot.md) on stdout or in a file."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from configgen import kb, values
from configgen.arguments import DEFAULT_PORT, add_report_format, parse_server
from configgen.errors import ConfiggenError
from configgen.probe import Timeouts, probe, snapshot
from configgen.probe.plan import target_for
from configgen.report import markdown, server
from configgen.report.emit import emit
from configgen.report.progress import ProgressLine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", metavar="HOST[:PORT]",
                        help=f"the server (port {DEFAULT_PORT} by default; IPv6 as [::1]:443)")
    parser.add_argument("--sni", metavar="NAME",
                        help="server name to send (default: HOST unless it is an IP address)")
    parser.add_argument("--alpn", metavar="PROTOCOL", action="append", default=[],
                        help="an application protocol the device asks for (repeatable)")
    parser.add_argument("--mbedtls", choices=("2.28", "3.6"), default="3.6",
                        help="the mbedTLS line whose ciphersuites are offered (default 3.6)")
    parser.add_argument("--psk", action="store_true",
                        help="the device has a pre-shared key: offer PSK suites too")
    add_report_format(parser)  # json: the snapshot document
    parser.add_argument("-o", "--output", metavar="SNAPSHOT.json",
                        help="write the snapshot to this file ('-' for stdout)")
    parser.add_argument("--timeout", type=_seconds("--timeout"), default=5.0, metavar="S",
                        help="seconds to connect, and for the server to answer (default 5)")
    parser.add_argument("--deadline", type=_seconds("--deadline"), default=30.0, metavar="S",
                        help="seconds for the whole probe, a hard bound: a probe that "
                        "cannot finish in time fails (exit 2) rather than report half "
                        "the facts (default 30)")


def _seconds(option: str) -> Callable[[str], float]:
    return lambda text_: values.seconds(text_, option)


def run(args: argparse.Namespace) -> int:
    if args.output == "-" and args.format == "markdown":
        raise ConfiggenError("-o - prints the snapshot, --format markdown the facts: stdout holds one",
                             hint="write the snapshot to a file: -o SNAPSHOT.json")
    host, port = parse_server(args.server)
    target = target_for(host, port, args.sni, tuple(args.alpn), args.mbedtls,
                        kb.load(args.mbedtls).suites, psk=args.psk)
    with ProgressLine() as progress:
        facts = probe(target, Timeouts(args.timeout, args.timeout), args.deadline,
                      progress=progress.probing(target.where))
    if args.output and args.output != "-":
        snapshot.save(facts, Path(args.output))
    emit("json" if args.output == "-" else args.format, text=lambda: server.render(facts),
         json=lambda: snapshot.dumps(facts), markdown=lambda: markdown.server_facts(facts))
    return 0
