"""Error codes and X.509 verify flags of an mbedTLS tree, read the way mbedTLS reads them.

mbedTLS generates `library/error.c` (what `mbedtls_strerror()` prints) with
`scripts/generate_errors.pl` from the `#define MBEDTLS_ERR_*` lines of `include/mbedtls/*.h`
and their Doxygen comments. This module applies the same rules to the same files, taking
the script's own module lists and module-name fixes from the tree, so that for every code
`f"{module} - {description}"` is the text strerror prints for it.

Deprecated aliases written `MBEDTLS_DEPRECATED_NUMERIC_CONSTANT(-0x....)` (2.28) are skipped
by the script because strerror decodes their value under another name; they are listed here
with `alias_of` naming that code, so every name a user may meet is found.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from configgen.errors import KnowledgeBaseError
from configgen.model.explanations import ErrorCode, VerifyFlag
from configgen.sources import SourceTree

GENERATOR = "scripts/generate_errors.pl"
HEADERS = "include/mbedtls"

# The match of scripts/generate_errors.pl, translated from Perl: an optional Doxygen comment
# before the #define, the name, the value without its sign, an optional "/**<" comment after.
_ERROR_DEFINE = re.compile(
    r"""
    (?:/\*[*!](?!<)((?:[^*]|\*+[^*/])*)\*/)?
    \s*\#\s*define\s+(MBEDTLS_ERR_\w+)
    \s+-(0[Xx][0-9A-Fa-f]+)\s*
    (?:/\*[*!]<((?:[^*]|\*+[^*/])*)\*/)?
    """,
    re.VERBOSE | re.DOTALL | re.ASCII,
)
_DEPRECATED_ALIAS = re.compile(
    r"\#\s*define\s+(MBEDTLS_ERR_\w+)\s+"
    r"MBEDTLS_DEPRECATED_NUMERIC_CONSTANT\(\s*-(0[Xx][0-9A-Fa-f]+)\s*\)",
    re.ASCII,
)
_MODULE_LIST = r"@{}_level_modules\s*=\s*qw\(([^)]*)\)"
_MODULE_FIX = re.compile(
    r'\$module_name\s*=\s*"(\w+)"\s*if\s*\(\s*\$module_name\s+eq\s+"(\w+)"\s*\)', re.ASCII
)
_FLAG_DEFINE = re.compile(
    r"#\s*define\s+(MBEDTLS_X509_BAD(?:CERT|CRL)_\w+)\s+(0[xX][0-9A-Fa-f]+)", re.ASCII
)
_C_STRINGS = r'((?:"[^"\\\n]*"\s*)+)'
# 3.6: X509_CRT_ERROR_INFO(flag, "name", "text") in x509_crt.h's MBEDTLS_X509_CRT_ERROR_INFO_LIST.
_FLAG_INFO_MACRO = re.compile(
    r'X509_CRT_ERROR_INFO\(\s*(MBEDTLS_X509_BAD\w+)\s*,\s*"[^"]*"\s*,\s*' + _C_STRINGS + r"\)",
    re.ASCII,
)
# 2.28: { flag, "text" } in x509_crt.c's x509_crt_verify_strings[].
_FLAG_INFO_ARRAY = re.compile(r"\{\s*(MBEDTLS_X509_BAD\w+)\s*,\s*" + _C_STRINGS + r"\}", re.ASCII)


@dataclass(frozen=True)
class GeneratorRules:
    """What generate_errors.pl knows beyond the headers: levels and module-name fixes."""

    low_level: frozenset[str]
    high_level: frozenset[str]
    module_fixes: tuple[tuple[str, str], ...]  # ("MPI", "BIGNUM"), ...

    def module(self, name: str) -> str:
        """The module strerror prints for a code name: MBEDTLS_ERR_MPI_... → "BIGNUM"."""
        module = name.removeprefix("MBEDTLS_ERR_").split("_")[0]
        return dict(self.module_fixes).get(module, module)

    def level(self, module: str) -> str | None:
        """The script's level of a module, "low" or "high" (low wins if in both), else None."""
        if module in self.low_level:
            return "low"
        if module in self.high_level:
            return "high"
        return None


def extract(tree: SourceTree) -> dict[str, list[dict[str, Any]]]:
    """The error-code part of the knowledge base of one tree, as plain JSON types.

    "errors": every MBEDTLS_ERR_* code of include/mbedtls/*.h, sorted by magnitude then
    name; "verify_flags": every MBEDTLS_X509_BADCERT_*/BADCRL_* flag, sorted by bit.
    Raises KnowledgeBaseError where the tree breaks a rule generate_errors.pl enforces.
    """
    rules = read_rules(tree)
    errors = sorted(read_errors(tree, rules), key=lambda e: (-e.code, e.name))
    flags = sorted(read_verify_flags(tree), key=lambda f: f.bit)
    return {
        "errors": [asdict(e) for e in errors],
        "verify_flags": [asdict(f) for f in flags],
    }


def _read(tree: SourceTree, relative: str) -> str:
    path = tree.root / relative
    if not path.is_file():
        raise KnowledgeBaseError(
            f"mbedTLS {tree.version} tree lacks {relative}", where=str(tree.root)
        )
    return path.read_text(encoding="utf-8", errors="replace")


def read_rules(tree: SourceTree) -> GeneratorRules:
    """The module lists and module-name fixes of the tree's scripts/generate_errors.pl."""
    script = _read(tree, GENERATOR)
    lists = {}
    for level in ("low", "high"):
        match = re.search(_MODULE_LIST.format(level), script)
        if match is None:
            raise KnowledgeBaseError(f"no @{level}_level_modules list", where=GENERATOR)
        lists[level] = frozenset(match.group(1).split())
    fixes = tuple((wrong, right) for right, wrong in _MODULE_FIX.findall(script))
    return GeneratorRules(lists["low"], lists["high"], fixes)


def _description(text: str) -> str:
    """A Doxygen comment's content cleaned up exactly as generate_errors.pl does."""
    text = re.sub(r"^\s+", "", text, flags=re.ASCII)
    text = re.sub(r"\n( *\*)? *", " ", text)
    return re.sub(r"\.?\s+$", "", text, count=1, flags=re.ASCII)


def _header_errors(text: str, header: str, rules: GeneratorRules) -> list[ErrorCode]:
    found = []
    for match in _ERROR_DEFINE.finditer(text):
        before, name, value, after = match.groups()
        if before is not None and re.search(r"\s*\\name\s", before, flags=re.ASCII):
            before = None  # a section heading that happens to precede the #define
        if (before is None) == (after is None):
            where = "neither before nor after" if before is None else "both before and after"
            raise KnowledgeBaseError(f"description {where} {name}", where=header)
        module = rules.module(name)
        level = rules.level(module)
        if level is None:
            raise KnowledgeBaseError(
                f"{name}: module {module} is neither low- nor high-level in {GENERATOR}",
                where=header,
            )
        magnitude = int(value, 16)
        found.append(
            ErrorCode(
                -magnitude,
                f"-0x{magnitude:04X}",
                name,
                module,
                level,
                _description(after if before is None else before),
                header,
            )
        )
    return found


def _aliases(text: str, header: str, by_code: dict[int, ErrorCode]) -> list[ErrorCode]:
    found = []
    for name, value in _DEPRECATED_ALIAS.findall(text):
        target = by_code.get(-int(value, 16))
        if target is None:
            raise KnowledgeBaseError(f"{name} aliases {value}, which no code defines", where=header)
        found.append(replace(target, name=name, header=header, alias_of=target.name))
    return found


def read_errors(tree: SourceTree, rules: GeneratorRules) -> list[ErrorCode]:
    """Every MBEDTLS_ERR_* code in include/mbedtls/*.h, with strerror's module and text."""
    texts = {
        f"{HEADERS}/{path.name}": path.read_text(encoding="utf-8", errors="replace")
        for path in sorted((tree.root / HEADERS).glob("*.h"))
    }
    codes = [e for header, text in texts.items() for e in _header_errors(text, header, rules)]
    by_code: dict[int, ErrorCode] = {}
    for entry in codes:
        if entry.code in by_code:
            raise KnowledgeBaseError(
                f"duplicated error code {entry.hex}: {by_code[entry.code].name}, {entry.name}",
                where=entry.header,
            )
        by_code[entry.code] = entry
    aliases = [e for header, text in texts.items() for e in _aliases(text, header, by_code)]
    return codes + aliases


def _c_string(literals: str) -> str:
    """Adjacent C string literals (no escapes) joined as the compiler joins them."""
    return "".join(re.findall(r'"([^"]*)"', literals))


def _flag_texts(tree: SourceTree) -> dict[str, str]:
    macro = _FLAG_INFO_MACRO.findall(_read(tree, f"{HEADERS}/x509_crt.h").replace("\\\n", "\n"))
    pairs = macro or _FLAG_INFO_ARRAY.findall(_read(tree, "library/x509_crt.c"))
    return {name: _c_string(literals) for name, literals in pairs}


def read_verify_flags(tree: SourceTree) -> list[VerifyFlag]:
    """The MBEDTLS_X509_BADCERT_*/BADCRL_* flags of x509.h with their verify_info texts."""
    header = f"{HEADERS}/x509.h"
    texts = _flag_texts(tree)
    flags = []
    for name, value in _FLAG_DEFINE.findall(_read(tree, header)):
        if name not in texts:
            raise KnowledgeBaseError(f"no verify_info text for {name}", where=header)
        flags.append(VerifyFlag(int(value, 16), name, texts[name]))
    return flags
