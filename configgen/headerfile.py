"""Existing config headers, read the way mbedTLS's scripts/config.py reads them.

A header is its lines, kept verbatim (the text round-trips byte for byte), plus the
settings found in them: `#define NAME [VALUE]`, active or commented out (`//#define`),
each with the `/* via ... */` lines configgen writes under an option. It reads mbedTLS
2.28's config.h, 3.6's mbedtls_config.h, hand-written headers and configgen's own
output. Only `read()` touches a file; everything else is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from configgen.errors import ConfiggenError


class HeaderError(ConfiggenError):
    """A file that is not a C config header configgen can read."""


# scripts/config.py's _define_line_regexp, less what it needs for editing.
_DEFINE = re.compile(
    r"^(?P<indent>\s*)(?P<commented>//\s*)?#\s*define\s+(?P<name>\w+)"
    r"(?P<args>\([\w\s,]*\))?(?P<sep>\s*)(?P<value>.*)$"
)
_VIA = re.compile(r"^\s*/\*\s*via\s+(?P<reason>.*?)\s*\*/\s*$")
_IFNDEF = re.compile(r"^\s*#\s*ifndef\s+(\w+)")
_GENERATED = re.compile(r"mbedTLS (\d+\.\d+) configuration for board \"([^\"]*)\"")
_WEAKENED = re.compile(r"^ \*   (?P<what>.+)$")


@dataclass(frozen=True)
class Define:
    """One `#define` of an option, as the header has it."""

    name: str
    value: str | None  # None for a flag; the text before any trailing comment otherwise
    active: bool  # False when commented out (//#define NAME)
    line: int  # 1-based line of the #define
    comment: str | None = None  # trailing /* ... */ on the same line (configgen's derivation)
    reasons: tuple[str, ...] = ()  # the "via" lines below it
    conditional: bool = False  # inside #if/#ifdef: whether it applies depends on other macros


@dataclass(frozen=True)
class Header:
    """A parsed header: the verbatim lines and the option defines among them."""

    lines: tuple[str, ...]  # with their line endings: "".join(lines) is the original text
    defines: tuple[Define, ...]
    where: str  # the file name, for messages
    line_hint: str | None = None  # "2.28" or "3.6" when the banner of configgen says so
    board: str | None = None
    weakened: tuple[str, ...] = ()  # configgen's "Weakened on purpose" entries

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def generated(self) -> bool:
        return self.line_hint is not None

    def active(self) -> dict[str, str | None]:
        """Option name -> value of every active define (the last one wins, as in C)."""
        return {d.name: d.value for d in self.defines if d.active}

    def define(self, name: str) -> Define | None:
        found = [d for d in self.defines if d.name == name]
        active = [d for d in found if d.active]
        return (active or found)[-1] if found else None

    def with_setting(self, name: str, active: bool, value: str | None = None) -> Header:
        """The header with one option switched (config.py's set/unset), other lines untouched.

        A new active option goes after the last active define (configgen's reasons stay
        with the defines they belong to)."""
        lines = list(self.lines)
        current = self.define(name)
        if current is not None:
            index = current.line - 1
            ending = _ending(lines[index])
            if active:
                shown = value if value is not None else current.value
                lines[index] = f"#define {name}{'' if shown is None else ' ' + shown}{ending}"
            elif current.active:
                lines[index] = "//" + lines[index]
        elif active:
            after = max((d.line for d in self.defines if d.active), default=len(lines))
            while after < len(lines) and _VIA.match(lines[after]):
                after += 1
            lines.insert(after, f"#define {name}{'' if value is None else ' ' + value}\n")
        return parse("".join(lines), self.where)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _split_value(rest: str) -> tuple[str | None, str | None]:
    """(value, trailing comment) of what follows the name of a #define."""
    comment = None
    found = re.search(r"/\*(.*?)\*/\s*$", rest)
    if found:
        comment = found.group(1).strip()
        rest = rest[: found.start()]
    rest = rest.split("//", 1)[0].strip()
    return (rest or None), comment


def _strip_comments(lines: Iterable[str]) -> list[str]:
    """Each line with its comments blanked (block comments may span lines)."""
    out = []
    in_block = False
    for line in lines:
        code = []
        i = 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    break
                in_block, i = False, end + 2
            elif line.startswith("/*", i):
                in_block, i = True, i + 2
            elif line.startswith("//", i):
                break
            else:
                code.append(line[i])
                i += 1
        out.append("".join(code))
    return out


def _check_is_c(code: list[str], where: str) -> None:
    continued = False
    for number, line in enumerate(code, 1):
        stripped = line.strip()
        if stripped and not continued and not stripped.startswith("#"):
            shown = stripped if len(stripped) <= 40 else stripped[:37] + "..."
            raise HeaderError(
                f"line {number} is not a preprocessor line or a comment ('{shown}'): "
                "this is not a C config header",
                where=where,
            )
        continued = stripped.endswith("\\")


def parse(text: str, where: str = "header") -> Header:
    """Parse header text. Raises HeaderError when it is not a C config header."""
    lines = tuple(text.splitlines(keepends=True))
    code = _strip_comments(line.rstrip("\r\n") for line in lines)
    _check_is_c(code, where)
    defines: list[Define] = []
    depth = 0
    guard: str | None = None
    outer = 1 if _guarded(lines) else 0
    for number, line in enumerate(lines, 1):
        bare = line.rstrip("\r\n")
        directive = code[number - 1].strip()
        found = _DEFINE.match(bare)
        if found and (found["commented"] or directive.startswith("#")):
            name = found["name"]
            if name == guard:
                guard = None
                continue
            if name.startswith(("MBEDTLS_", "PSA_WANT_")):
                value, comment = _split_value(found["value"])
                if found["args"]:
                    value = found["args"] + (f" {value}" if value else "")
                defines.append(Define(name, value, not found["commented"], number, comment,
                                      conditional=depth > outer))
            continue
        via = _VIA.match(bare)
        if via and defines and defines[-1].line + len(defines[-1].reasons) == number - 1:
            defines[-1] = replace(defines[-1], reasons=defines[-1].reasons + (via["reason"],))
            continue
        if directive.startswith("#"):
            keyword = directive[1:].strip().split(None, 1)[0] if directive[1:].strip() else ""
            if keyword.startswith("if"):
                depth += 1
                guard_match = _IFNDEF.match(directive)
                guard = guard_match.group(1) if guard_match and depth == 1 else None
            elif keyword == "endif":
                depth = max(depth - 1, 0)
    if not any(d.name.startswith("MBEDTLS_") for d in defines):
        raise HeaderError("defines no MBEDTLS_ option: this is not an mbedTLS config header",
                          where=where)
    banner = _GENERATED.search("".join(lines[:3]))
    return Header(lines, tuple(defines), where,
                  banner.group(1) if banner else None, banner.group(2) if banner else None,
                  _weakened(lines) if banner else ())


def _guarded(lines: tuple[str, ...]) -> bool:
    """Whether the header is wrapped in an include guard (#ifndef X / #define X)."""
    for line in lines:
        found = _IFNDEF.match(line)
        if found:
            return True
        if line.strip().startswith("#") and not line.strip().startswith("#if"):
            return False
    return False


def _weakened(lines: tuple[str, ...]) -> tuple[str, ...]:
    found: list[str] = []
    inside = False
    for line in lines:
        if line.startswith(" */"):
            break
        if line.rstrip() == " * Weakened on purpose":
            inside = True
        elif inside:
            entry = _WEAKENED.match(line.rstrip("\r\n"))
            if not entry:
                break
            found.append(entry["what"])
    return tuple(found)


def read(path: Path) -> Header:
    """Read and parse a header file (the only I/O here)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise HeaderError(f"cannot read it: {error.strerror}", where=str(path)) from None
    if b"\0" in data:
        raise HeaderError("is a binary file, not a C config header", where=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse(text, str(path))


def guess_line(header: Header, known: dict[str, frozenset[str]]) -> str | None:
    """The mbedTLS line a header is for: its banner's, or the line whose option names it
    uses most (`known`: line -> option names); None when that does not decide."""
    if header.line_hint:
        return header.line_hint
    names = {d.name for d in header.defines}
    scores = sorted(((len(names - options), line) for line, options in known.items()))
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        return None
    return scores[0][1] if scores else None
