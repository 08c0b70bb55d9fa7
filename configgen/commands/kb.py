"""configgen kb: regenerate the knowledge base from mbedTLS sources, or check it is current."""

from __future__ import annotations

import argparse
from pathlib import Path

from configgen import sources
from configgen.commands.sources import add_source_option
from configgen.kb import extract
from configgen.kb.model import LINES, data_name
from configgen.output import write_if_changed

_KB_DIR = Path(extract.__file__).parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("extract", "check"), help="write the data, or compare")
    parser.add_argument("lines", nargs="*", metavar="LINE", help=f"default: {' '.join(LINES)}")
    add_source_option(parser)
    parser.add_argument(
        "-o", "--output-dir", type=Path, default=_KB_DIR, help="where the JSON files go"
    )


def run(args: argparse.Namespace) -> int:
    stale = []
    for line in args.lines or LINES:
        tree = sources.find_tree(line, args.mbedtls_src)
        text = extract.dumps(extract.extract(tree))
        path = args.output_dir / data_name(line)
        if args.action == "extract":
            changed = write_if_changed(path, text)
            print(f"{path}: {'written' if changed else 'no change'} (mbedTLS {tree.version})")
        elif not path.is_file() or path.read_text() != text:
            stale.append(f"{path} is stale against mbedTLS {tree.version}")
    for message in stale:
        print(f"configgen: {message}; run 'configgen kb extract'")
    return 1 if stale else 0
