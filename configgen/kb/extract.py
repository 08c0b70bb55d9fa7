"""Regenerate the knowledge base of an mbedTLS line from its sources.

    configgen kb extract [--mbedtls-src DIR]     # writes configgen/kb/mbedtls-<line>.json
    configgen kb check                            # exit 1 when a committed file is stale

Each part comes from its own extractor, reading the tree's own files:
options and config tail (extract_options), ciphersuites (extract_suites), error codes and
verify flags (extract_errors), X.509 tables (extract_x509), and the directives of the
configuration headers (below) that derive macros and reject combinations — which the
resolver runs with cpp.run instead of a compiler. Output is deterministic: same tree, same
bytes.
"""

from __future__ import annotations

import json
from typing import Any

from configgen.kb import closure, cpp, extract_errors, extract_options, extract_suites, extract_x509
from configgen.kb.model import SCHEMA, from_dict
from configgen.sources import SourceTree

# How the library pulls in its configuration (library/common.h): 3.6 through build_info.h,
# which includes the user's file, the adjust headers and check_config.h; 2.28 includes the
# user's file alone, which ends by including check_config.h itself (the config tail).
_ENTRY = {
    "2.28": [[0, "include", "MBEDTLS_CONFIG_FILE"]],
    "3.6": [[0, "include", "mbedtls/build_info.h"]],
}


def preprocessor_files(tree: SourceTree, roots: list[cpp.Directive]) -> dict[str, list[cpp.Directive]]:
    """Directives of every header reachable from `roots` inside the tree's include/."""
    default_config = tree.config_header.relative_to(tree.include_dir).as_posix()
    files: dict[str, list[cpp.Directive]] = {}
    pending = [d[2] for d in roots if d[1] == "include"]
    while pending:
        name = pending.pop()
        path = tree.include_dir / name
        if name in files or name == default_config or not path.is_file():
            continue
        found = cpp.directives(path.read_text(errors="replace"))
        files[name] = found
        pending.extend(d[2] for d in found if d[1] == "include")
    return dict(sorted(files.items()))


def extract_structure(tree: SourceTree) -> dict[str, Any]:
    """Options, config tail and the configuration headers' directives of a tree."""
    data: dict[str, Any] = {"schema": SCHEMA, "line": tree.line, "mbedtls": tree.version}
    data.update(extract_options.extract(tree))
    entry = _ENTRY[tree.line]
    data["preprocessor"] = {
        "entry": entry,
        "files": preprocessor_files(tree, entry + data["config_tail"]),
    }
    return data


def extract(tree: SourceTree) -> dict[str, Any]:
    """The whole knowledge base of a tree, as JSON-ready data."""
    data = extract_structure(tree)
    data.update(extract_suites.extract(tree))
    data.update(extract_errors.extract(tree))
    data.update(extract_x509.extract(tree))
    kb = from_dict(data)
    for suite in data["suites"]:
        suite["requires"] = sorted(closure.enable(kb, {}, [suite["guard"]]))
    return data


def dumps(data: dict[str, Any]) -> str:
    """The committed form: sorted keys, one item per line where it helps a diff."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
