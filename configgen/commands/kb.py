"""configgen kb: regenerate the knowledge base from mbedTLS sources, check it is current, or
say what changed between two releases.

The knowledge base is kept per line, extracted from the line's tested release
(sources.LINE_RELEASES). `kb check 3.6.7` holds the 3.6 knowledge base against 3.6.7's tree
and lists what differs; `kb diff 3.6.6 3.6.7` lists what 3.6.7 changes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from configgen import readers, resources, sources
from configgen.arguments import add_source_option
from configgen.errors import ConfiggenError, KnowledgeBaseError
from configgen.kb import changes, extract
from configgen.kb.model import LINES, data_name
from configgen.output import current_text, write_if_changed

_KB_DIR = resources.path("kb")
_KB_FILE = readers.Kind("a knowledge base file", 64 * readers.MIB, KnowledgeBaseError)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("extract", "check", "diff"),
                        help="write the data, compare it with a tree, or compare two releases")
    parser.add_argument("releases", nargs="*", metavar="RELEASE",
                        help=f"lines or releases (default: {' '.join(LINES)}; diff takes two)")
    add_source_option(parser)
    parser.add_argument(
        "-o", "--output-dir", type=Path, default=_KB_DIR, help="where the JSON files go"
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "diff":
        return _diff(args)
    wanted = args.releases or ([t.version for t in sources.user_trees(args.mbedtls_src)]
                               if args.mbedtls_src else list(LINES))
    stale = []
    for release in wanted:
        tree = sources.find_tree(release, args.mbedtls_src)
        data = extract.extract(tree)
        path = args.output_dir / data_name(tree.line)
        if args.action == "extract":
            own = sources.LINE_RELEASES[tree.line]
            if tree.version != own and args.output_dir == _KB_DIR:
                raise ConfiggenError(
                    f"the {tree.line} knowledge base is extracted from {own}, not {tree.version}",
                    hint=f"write it elsewhere with -o DIR, or see 'configgen kb diff {own} {tree.version}'")
            changed = write_if_changed(path, extract.dumps(data))
            print(f"{path}: {'written' if changed else 'no change'} (mbedTLS {tree.version})")
        elif (held := current_text(path)) != extract.dumps(data):
            own = sources.LINE_RELEASES[tree.line]
            stale.append(f"configgen: {path} is stale against mbedTLS {tree.version}; run 'configgen kb extract'"
                         if tree.version == own else
                         f"configgen: {path} (extracted from {own}) differs from mbedTLS {tree.version}:")
            if held is not None:
                committed = readers.read_json(path, _KB_FILE)
                stale += [f"  {line}" for line in _version_change(committed, data)
                          + changes.changes(committed, data)]
    for message in stale:
        print(message)
    return 1 if stale else 0


def _version_change(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f"mbedtls: {old['mbedtls']} -> {new['mbedtls']}"] if old["mbedtls"] != new["mbedtls"] else []


def _diff(args: argparse.Namespace) -> int:
    if len(args.releases) != 2:
        raise ConfiggenError("kb diff takes two releases or lines, e.g. 'configgen kb diff 3.6.6 3.6.7'")
    old, new = (extract.extract(sources.find_tree(r, args.mbedtls_src)) for r in args.releases)
    found = _version_change(old, new) + changes.changes(old, new)
    print("\n".join(found) if found else f"no difference between {args.releases[0]} and {args.releases[1]}")
    return 0
