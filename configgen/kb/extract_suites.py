"""The ciphersuite part of the knowledge base, extracted from mbedTLS's own sources.

Every entry of `ciphersuite_definitions[]` in `library/ssl_ciphersuites.c` becomes one suite:
its id (from `#define MBEDTLS_TLS_... 0x...` in `include/mbedtls/ssl_ciphersuites.h`), the
fields of the entry decoded from their enum names, and its *guard*: the conjunction of every
`#if`/`#ifdef`/`#ifndef`/`#elif`/`#else` around the entry, as a C preprocessor expression.

Guards keep the macros as the file writes them (2.28: MBEDTLS_AES_C, MBEDTLS_SHA256_C; 3.6:
derived macros such as MBEDTLS_SSL_HAVE_AES and MBEDTLS_MD_CAN_SHA256 that the
config_adjust headers compute), with one exception: a macro the file defines for itself
(2.28's HAVE_SHA384) is replaced by the condition under which the file defines it, so a
guard names only macros the headers define. Closing guards over user options is the job of
the preprocessor engine, not of this module.

The entry's fields are matched to the members of `struct mbedtls_ssl_ciphersuite_t` by
position, so the differing layouts of 2.28 (major/minor versions, flags last) and 3.6
(flags, then `mbedtls_ssl_protocol_version`s) need no special cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from configgen.errors import KnowledgeBaseError
from configgen.kb import cpp
from configgen.sources import SourceTree

SOURCE = "library/ssl_ciphersuites.c"
HEADER = "include/mbedtls/ssl_ciphersuites.h"

_ID_RE = re.compile(r"^\s*#\s*define\s+(MBEDTLS_TLS\w*)\s+(0x[0-9A-Fa-f]+)\b", re.MULTILINE)
_STRUCT_RE = re.compile(r"struct\s+mbedtls_ssl_ciphersuite_t\s*\{(.*?)\}\s*;", re.DOTALL)
_MEMBER_RE = re.compile(r"(?:MBEDTLS_PRIVATE\(\s*(\w+)\s*\)|(\w+))\s*;")
_DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)\s*(.*)$", re.DOTALL)
_TABLE_RE = re.compile(r"\bciphersuite_definitions\s*\[\s*\]\s*=")
_DEFINED_RE = re.compile(r"\bdefined\s*(?:\(\s*(\w+)\s*\)|\s(\w+)\b)")

_BLOCK_CIPHER_RE = re.compile(r"^MBEDTLS_CIPHER_(AES|ARIA|CAMELLIA)_(\d+)_(CBC|GCM|CCM)$")
# Enum names that carry no "<ALG>_<BITS>_<MODE>" pattern. DES key sizes are the effective
# ones (56, 168), as OpenSSL reports them, not the 64/192 bits of key material.
_OTHER_CIPHERS: dict[str, tuple[str, int, str]] = {
    "MBEDTLS_CIPHER_NULL": ("NULL", 0, "NULL"),
    "MBEDTLS_CIPHER_ARC4_128": ("RC4", 128, "STREAM"),
    "MBEDTLS_CIPHER_CHACHA20_POLY1305": ("CHACHA20", 256, "CHACHAPOLY"),
    "MBEDTLS_CIPHER_DES_CBC": ("DES", 56, "CBC"),
    "MBEDTLS_CIPHER_DES_EDE3_CBC": ("3DES", 168, "CBC"),
}
# Key exchanges whose premaster secret does not come from an ephemeral (EC)DH share.
_NO_FORWARD_SECRECY = frozenset({"RSA", "ECDH_RSA", "ECDH_ECDSA", "PSK", "RSA_PSK"})


def extract(tree: SourceTree) -> dict[str, Any]:
    """The ciphersuites of one mbedTLS tree: `{"suites": [suite, ...]}`, sorted by id."""
    source = (tree.root / SOURCE).read_text(errors="replace")
    header = (tree.root / HEADER).read_text(errors="replace")
    return {"suites": parse_suites(source, header)}


def parse_suites(source: str, header: str) -> list[dict[str, Any]]:
    """Decode `ciphersuite_definitions[]` of `source` (ssl_ciphersuites.c text) into suites.

    `header` is the text of ssl_ciphersuites.h: it gives the suite ids and the layout of
    `struct mbedtls_ssl_ciphersuite_t`. Raises KnowledgeBaseError on anything unexpected.
    """
    ids = {name: int(value, 16) for name, value in _ID_RE.findall(header)}
    members = _struct_members(cpp.blank_comments(header))
    suites = [
        _suite(entry, members, ids)
        for entry in _table_entries(cpp.blank_comments(source))
        if entry.fields[0] != "0"  # the { 0, "", ... } terminator
    ]
    return sorted(suites, key=lambda suite: suite["id"])


@dataclass(frozen=True)
class _Frame:
    """One open #if group, in its current branch: the conditions of the branches before it
    (all false here) and this branch's own (None for #else)."""

    line: int
    branch: int
    earlier: tuple[str, ...]
    current: str | None

    def expr(self) -> str:
        terms = [f"!({c})" for c in self.earlier]
        if self.current is not None:
            terms.append(f"({self.current})" if self.earlier else self.current)
        return " && ".join(terms)

    def key(self) -> tuple[int, int]:
        return (self.line, self.branch)


@dataclass(frozen=True)
class _Entry:
    line: int
    fields: tuple[str, ...]
    guard: str


@dataclass
class _Walker:
    """Walks the file's logical lines, keeping the #if stack and the file-local macros."""

    stack: list[_Frame] = field(default_factory=list)
    # Per file-local macro, its #define/#undef history: (is_define, frames around it).
    local: dict[str, list[tuple[bool, tuple[_Frame, ...]]]] = field(default_factory=dict)
    # ssl_ciphersuites.c uses file-local macros only through defined(); other files may
    # test them by value, and those conditions are then kept as written.
    strict: bool = True

    def directive(self, line: int, kind: str, rest: str) -> None:
        if kind in ("if", "ifdef", "ifndef"):
            cond = {"if": rest, "ifdef": f"defined({rest})", "ifndef": f"!defined({rest})"}[kind]
            self.stack.append(_Frame(line, 0, (), self._substitute(cond, line)))
        elif kind in ("elif", "else", "endif"):
            if not self.stack:
                raise _error(line, f"#{kind} without #if")
            top = self.stack.pop()
            if kind != "endif":
                if top.current is None:
                    raise _error(line, f"#{kind} after #else")
                branch = self._substitute(rest, line) if kind == "elif" else None
                self.stack.append(
                    _Frame(top.line, top.branch + 1, (*top.earlier, top.current), branch)
                )
        elif kind in ("define", "undef"):
            name = re.match(r"\w+", rest)
            if name is None:
                raise _error(line, f"#{kind} without a name")
            self.local.setdefault(name.group(), []).append((kind == "define", tuple(self.stack)))

    def guard(self) -> str:
        return " && ".join(f"({frame.expr()})" for frame in self.stack)

    def _substitute(self, cond: str, line: int) -> str:
        """Replace `defined(LOCAL)` by when the file has LOCAL defined at this point."""
        cond = " ".join(cond.split())
        bare = set(re.findall(r"\w+", _DEFINED_RE.sub("", cond))) & self.local.keys()
        if bare and self.strict:
            name = min(bare)
            raise _error(line, f"{name}, defined in this file, is used other than by defined()")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in self.local:
                return match.group()
            return f"({self._defined_when(name, self.local[name])})"

        return _DEFINED_RE.sub(replace, cond)

    def _defined_when(self, name: str, history: list[tuple[bool, tuple[_Frame, ...]]]) -> str:
        # Frames still open here are true wherever the result is used, so they drop out.
        open_now = {frame.key() for frame in self.stack}
        state = f"defined({name})"
        for is_define, frames in history:
            exprs = [f.expr() for f in frames if f.key() not in open_now]
            cond = exprs[0] if len(exprs) == 1 else " && ".join(f"({e})" for e in exprs)
            if is_define:
                state = "1" if not cond else cond if state == "0" else f"({cond}) || ({state})"
            else:
                state = "0" if not cond else f"!({cond}) && ({state})"
        return state


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with its first line's number."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 1
    for number, line in enumerate(text.split("\n"), start=1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        result.append((start, " ".join([*pending, line])))
        pending = []
    return result


def _table_entries(text: str) -> list[_Entry]:
    walker = _Walker()
    entries: list[_Entry] = []
    depth = -1  # -1: before the table; 0: after its "="; 1: in the array; 2: in an entry
    body: list[str] = []
    entry_line, entry_guard = 0, ""
    for line, content in _logical_lines(text):
        directive = _DIRECTIVE_RE.match(content)
        if directive:
            if depth == 2:
                raise _error(line, "preprocessor directive inside a table entry")
            walker.directive(line, directive.group(1), directive.group(2).strip())
            continue
        if depth < 0:
            match = _TABLE_RE.search(content)
            if match is None:
                continue
            depth, content = 0, content[match.end() :]
        for char in content:
            if char == "{":
                depth += 1
                if depth == 2:
                    body, entry_line, entry_guard = [], line, walker.guard()
            elif char == "}":
                depth -= 1
                if depth == 1:
                    fields = tuple(f.strip() for f in "".join(body).split(","))
                    entries.append(_Entry(entry_line, fields, entry_guard))
                elif depth == 0:
                    return entries
            elif depth == 2:
                body.append(char)
    raise KnowledgeBaseError(f"no complete ciphersuite_definitions[] table in {SOURCE}")


def _struct_members(header: str) -> list[str]:
    struct = _STRUCT_RE.search(header)
    if struct is None:
        raise KnowledgeBaseError(f"no struct mbedtls_ssl_ciphersuite_t in {HEADER}")
    return [private or plain for private, plain in _MEMBER_RE.findall(struct.group(1))]


def _suite(entry: _Entry, members: list[str], ids: dict[str, int]) -> dict[str, Any]:
    if len(entry.fields) != len(members) or not re.fullmatch(r'"[^"]*"', entry.fields[1]):
        raise _error(entry.line, f"entry {entry.fields} does not match members {members}")
    fields = dict(zip(members, entry.fields))
    macro = fields["id"]
    if macro not in ids:
        raise _error(entry.line, f"{macro} has no #define in {HEADER}")
    tokens = [token.strip() for token in fields["flags"].split("|") if token.strip() != "0"]
    if not all(token.startswith("MBEDTLS_CIPHERSUITE_") for token in tokens):
        raise _error(entry.line, f"unexpected flags {fields['flags']!r}")
    flags = {token.removeprefix("MBEDTLS_CIPHERSUITE_").lower() for token in tokens}
    cipher, key_bits, mode = _cipher(fields["cipher"], entry.line)
    if mode == "CCM" and "short_tag" in flags:
        mode = "CCM_8"
    min_tls = _tls_version(fields, "min", entry.line)
    max_tls = _tls_version(fields, "max", entry.line)
    key_exchange = fields["key_exchange"].removeprefix("MBEDTLS_KEY_EXCHANGE_")
    if key_exchange == "NONE" and min_tls == "1.3":
        key_exchange = "TLS1_3"
    elif key_exchange == fields["key_exchange"] or key_exchange == "NONE":
        raise _error(entry.line, f"unexpected key exchange {fields['key_exchange']}")
    if "PSK" in key_exchange.split("_"):
        flags.add("psk")
    if key_exchange in _NO_FORWARD_SECRECY:
        flags.add("no_forward_secrecy")
    if mode == "CBC":
        flags.add("cbc")
    if cipher == "NULL":
        flags.add("null_cipher")
    mac = fields["mac"].removeprefix("MBEDTLS_MD_")
    if mac == fields["mac"]:
        raise _error(entry.line, f"unexpected MAC {fields['mac']}")
    return {
        "id": ids[macro],
        "hex": f"0x{ids[macro]:04X}",
        "macro": macro,
        "name": fields["name"].strip('"'),
        "min_tls": min_tls,
        "max_tls": max_tls,
        "key_exchange": key_exchange,
        "cipher": cipher,
        "key_bits": key_bits,
        "mode": mode,
        "mac": None if mac == "NONE" else mac,
        "flags": sorted(flags),
        "guard": entry.guard,
    }


def _cipher(enum: str, line: int) -> tuple[str, int, str]:
    match = _BLOCK_CIPHER_RE.match(enum)
    if match:
        return match.group(1), int(match.group(2)), match.group(3)
    if enum in _OTHER_CIPHERS:
        return _OTHER_CIPHERS[enum]
    raise _error(line, f"unexpected cipher {enum}")


def _tls_version(fields: dict[str, str], side: str, line: int) -> str:
    """The version as "1.2": from MBEDTLS_SSL_VERSION_TLS1_2 (3.6) or major/minor (2.28)."""
    if f"{side}_tls_version" in fields:
        match = re.fullmatch(r"MBEDTLS_SSL_VERSION_TLS(\d)_(\d)", fields[f"{side}_tls_version"])
        if match:
            return f"{match.group(1)}.{match.group(2)}"
    elif fields.get(f"{side}_major_ver") == "MBEDTLS_SSL_MAJOR_VERSION_3":
        match = re.fullmatch(r"MBEDTLS_SSL_MINOR_VERSION_(\d)", fields[f"{side}_minor_ver"])
        if match:  # SSL 3.0 is protocol 3.0; TLS 1.x is protocol 3.(x+1)
            minor = int(match.group(1))
            return "SSL3.0" if minor == 0 else f"1.{minor - 1}"
    raise _error(line, f"unexpected {side} version in {fields}")


def _error(line: int, message: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(message, where=f"{SOURCE}:{line}")
