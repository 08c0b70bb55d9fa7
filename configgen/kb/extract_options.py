"""Options of a default mbedTLS config header: name, section, default, value, summary.

Read the way mbedTLS's own scripts/config.py reads the file: each `#define` or `//#define`
of an MBEDTLS_ name is a setting, active when not commented out; the doxygen block above it
(`\\def NAME`) or a trailing `/**< ... */` gives its summary and its `Requires:` note.
"""

from __future__ import annotations

import re
from typing import Any

from configgen.kb import cpp
from configgen.sources import SourceTree

_SECTION_RE = re.compile(r"\\name SECTION:\s*(.+?)\s*$")
_SETTING_RE = re.compile(
    r"^(?P<comment>//)?\s*#define\s+(?P<name>MBEDTLS_\w+)(?P<args>\([^)]*\))?"
    r"(?:[ \t]+(?P<value>.*?))?\s*(?:/\*\*<\s*(?P<trailing>.*?)\s*\*/)?\s*$"
)


def _cautions(doc: list[str]) -> list[str]:
    """What the documentation warns about: `\\deprecated` and `\\warning` paragraphs."""
    text = " ".join(doc)
    return [word for word in ("deprecated", "warning") if f"\\{word}" in text]


def _doc_summary(doc: list[str]) -> tuple[str, str | None]:
    """First paragraph after the `\\def` line, and the text of a `Requires:` paragraph."""
    paragraphs: list[list[str]] = [[]]
    for raw in doc:
        line = raw.strip().lstrip("/").lstrip("*").strip()
        if line.startswith("\\def") or line.startswith("\\brief"):
            line = line.split(None, 1)[1] if line.startswith("\\brief") and " " in line else ""
            if not line:
                continue
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(line)
    texts = [" ".join(p) for p in paragraphs if p]
    summary = texts[0] if texts else ""
    requires = next((t[len("Requires:"):].strip() for t in texts if t.startswith("Requires:")), None)
    return summary, requires


def extract(tree: SourceTree) -> dict[str, Any]:
    """`options` in header order, and `config_tail`: what the header does after its options
    (2.28: include config_psa.h and check_config.h), which a generated header must repeat."""
    text = tree.config_header.read_text()
    lines = text.split("\n")
    options: list[dict[str, Any]] = []
    section = ""
    doc: list[str] = []
    in_doc = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("/**") and not stripped.startswith("/**<"):
            in_doc, doc = True, [stripped[3:]]
            if stripped.endswith("*/"):
                in_doc = False
                doc = [stripped[3:-2]]
            match = _SECTION_RE.search(stripped)
            if match:
                section = match.group(1)
            continue
        if in_doc:
            match = _SECTION_RE.search(stripped)
            if match:
                section = match.group(1)
            if stripped.endswith("*/"):
                in_doc = False
                stripped = stripped[:-2]
            doc.append(stripped)
            continue
        match = _SETTING_RE.match(stripped)
        if not match or match.group("name").endswith("_H") and match.group("comment") is None:
            if stripped and not stripped.startswith("//") and not stripped.startswith("#"):
                doc = []
            continue
        summary, requires = _doc_summary(doc)
        if match.group("trailing"):
            summary = match.group("trailing")
        value = match.group("value") or None
        options.append(
            {
                "name": match.group("name"),
                "section": section,
                "default_enabled": match.group("comment") is None,
                "value": value,
                "args": match.group("args"),
                "summary": summary,
                "requires": requires,
                "cautions": _cautions(doc),
            }
        )
    return {"options": options, "config_tail": _config_tail(text, {o["name"] for o in options})}


def _config_tail(text: str, names: set[str]) -> list[cpp.Directive]:
    found = cpp.directives(text)
    last = max((i for i, d in enumerate(found) if d[1] == "define" and d[2] in names), default=-1)
    tail = found[last + 1 :]
    if tail and tail[-1][1] == "endif":  # the header's include guard
        tail = tail[:-1]
    return tail
