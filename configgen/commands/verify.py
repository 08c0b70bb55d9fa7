"""configgen verify HEADER: compile it against real mbedTLS sources, measure it, handshake.

Exit 0 when the header compiles and every handshake succeeds, 1 when a step or a handshake
fails (a server that accepts the connection and then never answers is a failed handshake),
2 on bad input (no such header, not a header, not an mbedTLS tree, a file the test client
cannot load, a server that does not accept a TCP connection).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from configgen import inspect as insp
from configgen.arguments import add_report_format, add_source_option, parse_server
from configgen.model.certificates import Container
from configgen.errors import CertificateError, ConfiggenError
from configgen.kb.model import LINES
from configgen import readers
from configgen.model.results import VerifyServer
from configgen.report import json, markdown, text
from configgen.report.progress import ProgressLine
from configgen.report.emit import emit
from configgen.verify import Client, choose_tree, verify


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("header", type=Path, metavar="HEADER", help="the config header to verify")
    add_source_option(parser)
    parser.add_argument("--mbedtls", choices=LINES,
                        help="the mbedTLS line (default: the --mbedtls-src tree's, else the header's)")
    parser.add_argument("--server", action="append", default=[], metavar="HOST:PORT",
                        help="handshake and one round trip with this server (repeatable; port 443 by default)")
    parser.add_argument("--ca", type=Path, metavar="FILE",
                        help="the trust anchors the device loads, PEM or DER (needed with --server)")
    parser.add_argument("--name", metavar="SNI",
                        help="the server name the client verifies and sends, the same for every --server "
                        "(default: each HOST)")
    parser.add_argument("--cert", type=Path, metavar="FILE",
                        help="the device's certificate, for a server that asks for one (the firmware size then includes parsing it)")
    parser.add_argument("--key", type=Path, metavar="FILE",
                        help="the device certificate's private key (read by the client only)")
    payload = parser.add_mutually_exclusive_group()
    payload.add_argument("--send", metavar="TEXT",
                         help="what the client sends after the handshake; the server must answer "
                         "(default: the line 'configgen ping')")
    payload.add_argument("--mqtt", action="store_true",
                         help="send an MQTT CONNECT instead (a broker answers with CONNACK)")
    add_report_format(parser)


_LOADABLE = (Container.PEM, Container.DER)  # what the test client's mbedtls_*_parse calls read


def _loadable(path: Path, want: str) -> Path:
    """A PEM or DER file holding certificates or an unencrypted key (`want`), as the test
    client loads it; CertificateError naming what is wrong otherwise."""
    try:
        facts = insp.parse(insp.read_bytes(path), str(path))
    except insp.PasswordNeeded:
        raise CertificateError("is encrypted: verify's test client loads unencrypted PEM or DER "
                               "files only", where=str(path)) from None
    if not getattr(facts, want):
        raise CertificateError(f"holds no {want[:-1]}", where=str(path))
    if facts.container not in _LOADABLE:
        raise CertificateError(f"is {facts.container.value}: verify's test client loads PEM or DER "
                               "files only", where=str(path), hint="convert it with openssl")
    return path


def _client(args: argparse.Namespace) -> Client | None:
    if (args.cert is None) != (args.key is None):
        raise ConfiggenError("--cert and --key go together: the device's certificate and its key")
    cert = args.cert and _loadable(args.cert, "certificates")
    key = args.key and _loadable(args.key, "keys")
    if not args.server:
        given = {"--ca": args.ca is not None, "--name": args.name is not None,
                 "--send": args.send is not None, "--mqtt": args.mqtt}
        unused = [flag for flag, on in given.items() if on]
        if unused:
            raise ConfiggenError(f"{', '.join(unused)}: only used with --server HOST:PORT")
        return None
    if args.ca is None:
        raise ConfiggenError("--server needs --ca FILE: the trust anchors the device loads")
    if args.send == "":
        raise ConfiggenError("--send needs some text: the server answers what the device sends")
    payload = ("--mqtt", "1") if args.mqtt else ("--send", args.send) if args.send is not None else ()
    return Client(_loadable(args.ca, "certificates"), cert, key, payload)


def run(args: argparse.Namespace) -> int:
    header = readers.read_header(args.header)
    servers = [VerifyServer(host, port, args.name or host)
               for host, port in map(parse_server, args.server)]
    client = _client(args)
    tree, line_from = choose_tree(header, args.mbedtls_src, args.mbedtls)
    with ProgressLine() as progress:
        found = verify(header, tree, line_from, servers, client, progress.step,
                       client_auth=args.cert is not None)
    emit(args.format, text=lambda: text.verification(found), json=lambda: json.verification(found),
         markdown=lambda: markdown.verification(found))
    return 0 if found.ok else 1
