"""Existing config headers, read the way mbedTLS's scripts/config.py reads them.

A header is its lines, kept verbatim (the text round-trips byte for byte), plus the
settings found in them: `#define NAME [VALUE]`, active or commented out (`//#define`),
each with the `/* via ... */` lines configgen writes under an option. It reads mbedTLS
2.28's config.h, 3.6's mbedtls_config.h, hand-written headers and configgen's own
output. Pure: configgen/readers.py's `read_header()` reads the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from configgen.errors import ConfiggenError
from configgen.model.header import Define, Header
from configgen.values import echo


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


def _strip_comments(lines: Iterable[str], where: str = "header") -> list[str]:
    """Each line with its comments blanked (block comments may span lines); HeaderError
    naming the line where a block comment opens that never closes."""
    out = []
    in_block = False
    opened = 0
    for number, line in enumerate(lines, 1):
        code = []
        i = 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    break
                in_block, i = False, end + 2
            elif line.startswith("/*", i):
                in_block, i, opened = True, i + 2, number
            elif line.startswith("//", i):
                break
            else:
                code.append(line[i])
                i += 1
        out.append("".join(code))
    if in_block:
        raise HeaderError(f"line {opened}: a comment opens here and never closes (/* without */)",
                          where=where)
    return out


_NAMED = re.compile(r"#\s*(?:define|undef|ifdef|ifndef)\b\s*(?P<name>\S*)(?P<rest>.*)$")


def _check_is_c(code: list[str], where: str) -> None:
    """Every line is a comment or a preprocessor line a C compiler accepts: each #define,
    #undef, #ifdef and #ifndef names a macro, a macro's value has balanced parentheses,
    and every #if has its #endif."""
    continued = False
    depth: list[int] = []  # lines of the open #if's
    for number, line in enumerate(code, 1):
        stripped = line.strip()
        if stripped and not continued and not stripped.startswith("#"):
            raise HeaderError(
                f"line {number} is not a preprocessor line or a comment ('{echo(stripped, 40)}'): "
                "this is not a C config header",
                where=where,
            )
        if stripped.startswith("#") and not continued:
            _check_directive(stripped, number, depth, where)
        continued = stripped.endswith("\\")
    if depth:
        raise HeaderError(f"line {depth[-1]}: this #if has no #endif", where=where)


def _check_directive(directive: str, number: int, depth: list[int], where: str) -> None:
    keyword = (directive[1:].split(None, 1) or [""])[0]
    named = _NAMED.match(directive)
    if named:
        name = re.match(r"[A-Za-z_]\w*", named["name"])
        if name is None:
            shown = f"'{echo(named['name'], 40)}' is not a macro name" if named["name"] else "names no macro"
            raise HeaderError(f"line {number}: #{keyword} {shown}", where=where)
        rest = named["name"][name.end():] + named["rest"]
        if keyword == "define" and not rest.endswith("\\"):
            balance = 0
            for char in re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', "", rest):
                balance += {"(": 1, ")": -1}.get(char, 0)
                if balance < 0:
                    break
            if balance:
                raise HeaderError(f"line {number}: unbalanced parenthesis in the value of "
                                  f"{name.group(0)}", where=where)
    if keyword.startswith("if"):
        depth.append(number)
    elif keyword in ("elif", "else", "endif") and not depth:
        raise HeaderError(f"line {number}: #{keyword} without #if", where=where)
    elif keyword == "endif":
        depth.pop()


def parse(text: str, where: str = "header") -> Header:
    """Parse header text. Raises HeaderError when it is not a C config header."""
    lines = tuple(text.splitlines(keepends=True))
    code = _strip_comments((line.rstrip("\r\n") for line in lines), where)
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


def with_setting(header: Header, name: str, active: bool, value: str | None = None) -> Header:
    """The header with one option switched (config.py's set/unset), other lines untouched.

    A new active option goes after the last active define (configgen's reasons stay
    with the defines they belong to)."""
    lines = list(header.lines)
    current = header.define(name)
    if current is not None:
        index = current.line - 1
        ending = _ending(lines[index])
        if active:
            shown = value if value is not None else current.value
            lines[index] = f"#define {name}{'' if shown is None else ' ' + shown}{ending}"
        elif current.active:
            lines[index] = "//" + lines[index]
    elif active:
        after = max((d.line for d in header.defines if d.active), default=len(lines))
        while after < len(lines) and _VIA.match(lines[after]):
            after += 1
        lines.insert(after, f"#define {name}{'' if value is None else ' ' + value}\n")
    return parse("".join(lines), header.where)
