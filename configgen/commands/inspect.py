"""`configgen inspect FILE... [--ca FILE...] [--host NAME] [--at DATE] [--mbedtls LINE] [--format FORMAT]`

What mbedTLS needs to parse and verify these certificates and keys, per line, and whether
the chain verifies against the trust anchors (configgen/inspection.py). Text for people
(problems first), JSON (its shape: configgen/report/json.py) or Markdown for a pull request.

Exit 0 when nothing is wrong, 1 when a problem of severity "error" was found, 2 on bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys

from configgen import inspect as insp
from configgen import inspection
from configgen import kb as kbmod
from configgen import values
from configgen.arguments import add_report_format
from configgen.errors import ConfiggenError
from configgen.kb.model import LINES
from configgen.model.certificates import FileFacts
from configgen.report import json, markdown, text
from configgen.report.emit import emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="certificates (PEM, DER, PKCS#7, PKCS#12) and private keys the device uses or receives")
    parser.add_argument("--ca", nargs="+", action="extend", default=[], metavar="FILE",
                        help="the trust anchors the device loads; checks the chain of FILE against them")
    parser.add_argument("--host", metavar="NAME", help="the server name the device connects to")
    parser.add_argument("--at", metavar="DATE", help="check validity at this date (ISO 8601, UTC; default: now)")
    parser.add_argument("--mbedtls", choices=LINES, help="one mbedTLS line (default: every line)")
    add_report_format(parser)
    parser.add_argument("--password-env", metavar="VAR",
                        help="environment variable holding the password of encrypted keys / PKCS#12")


def run(args: argparse.Namespace) -> int:
    at = values.instant(args.at, "--at") if args.at else dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    lines = [args.mbedtls] if args.mbedtls else list(LINES)
    kbs = {line: kbmod.load(line) for line in lines}
    files = [_load(path, args.password_env) for path in args.files]
    anchors = [_load(path, args.password_env) for path in args.ca]
    for path, anchor in zip(args.ca, anchors):
        if not anchor.certificates:
            raise ConfiggenError("holds no certificate: --ca names the trust anchors' certificates",
                                 where=path)
    found = inspection.build(files, anchors, args.host, at, kbs)
    emit(args.format, text=lambda: text.inspection(found), json=lambda: json.inspection(found),
         markdown=lambda: markdown.inspection(found))
    return 1 if found.failing else 0


def _load(path: str, password_env: str | None) -> FileFacts:
    data = insp.read_bytes(path)
    try:
        return insp.parse(data, path)
    except insp.PasswordNeeded as needed:
        password = _password(path, password_env, needed)
    return insp.parse(data, path, password)


def _password(path: str, variable: str | None, needed: insp.PasswordNeeded) -> bytes:
    if variable:
        if variable not in os.environ:
            raise ConfiggenError(f"environment variable {variable} is not set", where="--password-env")
        return os.environ[variable].encode()
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {path}: ").encode()
    raise needed
