"""The command line: parse arguments, call one command, turn ConfiggenError into one line.

Each sub-command lives in `configgen/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`. Only the command that runs is imported: the table below is what
`configgen --help` lists, so `--version`, `--help` and every command start without loading
what other commands need (the wizard's prompt toolkit, the probe, cryptography).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from configgen import __version__
from configgen.errors import ConfiggenError

MESSAGE_MAX = 300  # characters of a message, a where or a hint

# name -> (one-line help, module under configgen.commands)
COMMANDS: dict[str, tuple[str, str]] = {
    "wizard": ("interactive: ask, probe, inspect, write a project profile and the header", "wizard"),
    "probe": ("what a server accepts and sends (HOST[:PORT])", "probe"),
    "inspect": ("what mbedTLS needs to parse and verify these certificates and keys", "inspect"),
    "generate": ("project profile in, mbedTLS config header out", "generate"),
    "explain": ("decode an mbedTLS error code or X.509 verify flags, with causes and fixes", "explain"),
    "diagnose": ("read an mbedTLS debug log and say where and why the handshake failed", "diagnose"),
    "review": ("check an existing header against what the target needs", "review"),
    "diff": ("what changed between two headers, in words a reviewer can act on", "diff"),
    "verify": ("compile a header against real mbedTLS sources, measure it, optionally handshake",
               "verify"),
    "sources": ("provide mbedTLS source trees (Debian source packages or your own copy)", "sources"),
    "kb": ("regenerate or check the knowledge base extracted from mbedTLS sources", "kb"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for this command line: every command is listed, and only the one `argv`
    names gets its arguments, importing its module."""
    parser = argparse.ArgumentParser(
        prog="configgen",
        description="Derive the mbedTLS options a TLS client needs and write the config header.",
    )
    parser.add_argument("--version", action="version", version=f"configgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _command_in(argv)
    for name, (help_text, module_name) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(f"configgen.commands.{module_name}")
            module.add_arguments(cmd)
            cmd.set_defaults(run=module.run)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command an argument list names: its first word that is not an option (configgen's
    own options, --help and --version, take no value)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)  # argument types (configgen.values) raise ConfiggenError
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args.run(args) or 0)
    except ConfiggenError as error:
        print(f"configgen: {one_line(error)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("configgen: stopped by user", file=sys.stderr)
        return 130


def one_line(error: ConfiggenError) -> str:
    """The error as one line (plus its hint line), however much input its message quotes."""
    from configgen.values import echo  # only an error needs it: --version stays light

    text = echo(error.message, MESSAGE_MAX)
    if error.where:
        text = f"{echo(error.where, MESSAGE_MAX)}: {text}"
    if error.hint:
        text += f"\n  hint: {echo(error.hint, MESSAGE_MAX)}"
    return text
