"""The X.509 part of the knowledge base, extracted from mbedTLS's own sources.

What an mbedTLS build can parse is decided by lookup tables compiled in under `#if`s:

- `library/oid.c`: signature algorithms (`oid_sig_alg[]`), public-key algorithms
  (`oid_pk_alg[]`), named curves (`oid_ecp_grp[]`, `oid_ecp_grp_algid[]`), hashes
  (`oid_md_alg[]`) and the extension types the parser knows (`oid_x509_ext[]`);
- `library/ecp.c`: the curves of the ECP module with TLS group id and size
  (`ecp_supported_curves[]`);
- `library/pk.c`: which key types have an implementation (`mbedtls_pk_info_from_type`);
- `library/x509_crt.c`: which extension types `x509_get_crt_ext` handles, the certificate
  policies it accepts, and the option that lets unsupported critical extensions through;
- `library/x509.c`: whether RSASSA-PSS signature parameters are parsed at all.

Each entry's `guard` is the conjunction of every `#if` around it (the whole stack, file-level
ones included), as the file writes it: closing a guard over user options is the job of the
preprocessor engine (cpp.py). OIDs are decoded from the `MBEDTLS_OID_*` string macros of
`include/mbedtls/oid.h`. The only thing computed rather than read is a hash's `option`: the
configuration option whose removal from (or addition to) the default configuration decides
that hash's guard, found by running the configuration headers with cpp.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from configgen.errors import KnowledgeBaseError
from configgen.kb import cpp, extract_options
from configgen.kb import extract as kb_extract
from configgen.kb.cpp import blank_comments
from configgen.kb.extract_suites import _logical_lines, _Walker
from configgen.sources import SourceTree

OID_C = "library/oid.c"
ECP_C = "library/ecp.c"
PK_C = "library/pk.c"
X509_C = "library/x509.c"
X509_CRT_C = "library/x509_crt.c"
OID_H = "include/mbedtls/oid.h"
X509_H = "include/mbedtls/x509.h"
X509_CRT_H = "include/mbedtls/x509_crt.h"
EXT_CALLBACK = "mbedtls_x509_crt_parse_der_with_ext_cb"

# mbedTLS's pk type of a signature algorithm, as the scheme name configgen uses.
_SCHEMES = {
    "MBEDTLS_PK_RSA": "rsa_pkcs1v15",
    "MBEDTLS_PK_ECDSA": "ecdsa",
    "MBEDTLS_PK_RSASSA_PSS": "rsassa_pss",
}

_DESCRIPTOR_RE = re.compile(
    r"(?:OID_DESCRIPTOR|ADD_LEN)\s*\(\s*(MBEDTLS_OID_\w+)\s*\)?\s*,\s*\"([^\"]*)\"\s*,\s*\"([^\"]*)\""
)
_ENUM_RE = re.compile(r"\b(MBEDTLS_(?:MD|PK|ECP_DP|OID_X509_EXT)_\w+)")
_CASE_RE = re.compile(r"^\s*case\s+(\w+)\s*:")
_STRING_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|(\w+)')
_POLICY_RE = re.compile(r"MBEDTLS_OID_CMP\s*\(\s*(MBEDTLS_OID_\w+)\s*,")


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    guard: str
    alternative: bool = False  # in an #elif/#else branch of some enclosing #if


def extract(tree: SourceTree) -> dict[str, Any]:
    """`{"x509": {...}}`: the tables above of one tree, each list sorted."""
    oids = _oid_macros((tree.root / OID_H).read_text(errors="replace"))
    aliases = _aliases((tree.root / X509_H).read_text(errors="replace"))
    oid_c = _lines(tree, OID_C)
    hashes = _hashes(_table(oid_c, "oid_md_alg"), oids)
    hash_names = {h["md"]: h["name"] for h in hashes}
    _add_hash_options(tree, hashes)
    extensions = _extensions(
        _table(oid_c, "oid_x509_ext"), _cases(_lines(tree, X509_CRT_C), "x509_get_crt_ext"),
        oids, aliases,
    )
    crt_text = (tree.root / X509_CRT_C).read_text(errors="replace")
    groups = _groups(tree, oid_c, oids)
    groups_by_dp = {g["dp"]: g["name"] for g in groups}
    return {
        "x509": {
            "signature_algorithms": _signatures(
                _table(oid_c, "oid_sig_alg"), oids, hash_names, _pss_guard(tree)
            ),
            "pk_types": _pk_types(
                _table(oid_c, "oid_pk_alg"), _cases(_lines(tree, PK_C), "mbedtls_pk_info_from_type"),
                oids,
            ),
            "groups": groups,
            "extensions": extensions,
            "hashes": sorted(hashes, key=lambda h: h["name"]),
            "policies": _policies(crt_text, oids),
            "critical_extension_option": _critical_option(tree, crt_text),
            "default_profile": _profile(_lines(tree, X509_CRT_C), hash_names, groups_by_dp),
            "extension_callback": _ext_callback(tree),
            # x509_crt_verify_name() compares a host given as an IP address with iPAddress
            # subjectAltName entries only where x509_crt.c has x509_crt_check_san_ip (3.x).
            "hostname_matches_ip_san": bool(re.search(r"\bx509_crt_check_san_ip\s*\(", crt_text)),
        }
    }


# --- reading C files ------------------------------------------------------------------------


def _lines(tree: SourceTree, path: str) -> list[_Line]:
    """Every non-directive logical line of a C file with the #if stack around it."""
    walker = _Walker(strict=False)  # pk.c tests MBEDTLS_PK_MAX_EC_PUBKEY_RAW_LEN by value
    text = blank_comments((tree.root / path).read_text(errors="replace"))
    result: list[_Line] = []
    for number, content in _logical_lines(text):
        directive = re.match(r"^\s*#\s*(\w+)\s*(.*)$", content, re.DOTALL)
        if directive:
            walker.directive(number, directive.group(1), directive.group(2).strip())
        elif content.strip():
            alternative = any(frame.earlier for frame in walker.stack)
            result.append(_Line(number, content, walker.guard(), alternative))
    return result


def _table(lines: list[_Line], name: str) -> list[_Line]:
    """The entries of `static const ... name[] = { {...}, ... };`, one per entry."""
    start = next((i for i, l in enumerate(lines) if re.search(rf"\b{name}\s*\[\s*\]\s*=", l.text)), None)
    if start is None:
        raise KnowledgeBaseError(f"no table {name}[] found")
    entries: list[_Line] = []
    depth, first = 0, lines[start]
    body: list[str] = []
    for line in lines[start:]:
        text = line.text.split("=", 1)[1] if line is lines[start] else line.text
        for char in text:
            if char == "{":
                depth += 1
                if depth == 2 and not body:
                    first = line
            if depth >= 2:
                body.append(char)
            if char == "}":
                depth -= 1
                if depth == 1:
                    entries.append(_Line(first.number, "".join(body), first.guard))
                    body = []
                elif depth == 0:
                    return entries
    raise KnowledgeBaseError(f"table {name}[] does not end")


def _cases(lines: list[_Line], function: str) -> dict[str, str]:
    """`case X:` labels in a function's body → the guard around each."""
    start = next(
        (i for i, l in enumerate(lines) if re.search(rf"^\w[\w\s\*]*\b{function}\s*\(", l.text)), None
    )
    if start is None:
        raise KnowledgeBaseError(f"no function {function}() found")
    cases: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if line.text.startswith("}"):
            return cases
        match = _CASE_RE.match(line.text)
        if match:
            cases[match.group(1)] = line.guard
    raise KnowledgeBaseError(f"function {function}() does not end")


def _oid_macros(header: str) -> dict[str, str]:
    """Every `MBEDTLS_OID_*` string macro of oid.h, decoded to a dotted OID where it is one."""
    bodies = {
        d[2]: d[4] for d in cpp.directives(header) if d[1] == "define" and d[3] is None
    }
    raw: dict[str, bytes] = {}

    def value(name: str) -> bytes | None:
        if name in raw:
            return raw[name]
        body = bodies.get(name)
        if body is None:
            return None
        out = b""
        for literal, ident in _STRING_RE.findall(body):
            part = _c_string(literal) if not ident else value(ident)
            if part is None:
                return None
            out += part
        raw[name] = out
        return out

    decoded: dict[str, str] = {}
    for name in bodies:
        data = value(name)
        if data:
            dotted = _dotted(data)
            if dotted:
                decoded[name] = dotted
    return decoded


def _c_string(literal: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        if literal[i] == "\\" and literal[i + 1] == "x":
            j = i + 2
            while j < len(literal) and j < i + 4 and literal[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(literal[i + 2 : j], 16))
            i = j
        elif literal[i] == "\\" and literal[i + 1] in "01234567":
            j = i + 1
            while j < len(literal) and j < i + 4 and literal[j] in "01234567":
                j += 1
            out.append(int(literal[i + 1 : j], 8))
            i = j
        else:
            out.append(ord(literal[i]))
            i += 1
    return bytes(out)


def _dotted(data: bytes) -> str | None:
    """DER contents of an OBJECT IDENTIFIER → "1.2.840.113549.1.1.11" (None if malformed)."""
    arcs: list[int] = []
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs or data[-1] & 0x80:
        return None
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def _aliases(header: str) -> dict[str, str]:
    """Object-like macros defined as another identifier (x509.h's MBEDTLS_X509_EXT_*)."""
    return {
        d[2]: d[4].strip()
        for d in cpp.directives(header)
        if d[1] == "define" and d[3] is None and re.fullmatch(r"\w+", d[4].strip() or "-")
    }


def _and(*guards: str) -> str:
    parts = [g for g in guards if g]
    return " && ".join(f"({g})" if len(parts) > 1 else g for g in parts)


def _descriptor(entry: _Line, oids: dict[str, str]) -> tuple[str, str, str]:
    match = _DESCRIPTOR_RE.search(entry.text)
    if match is None or match.group(1) not in oids:
        raise KnowledgeBaseError(f"{OID_C}:{entry.number}: unexpected table entry {entry.text!r}")
    return oids[match.group(1)], match.group(2), match.group(3)


def _enums(entry: _Line) -> list[str]:
    after = _DESCRIPTOR_RE.sub("", entry.text)
    return _ENUM_RE.findall(after)


def _entries(table: list[_Line]) -> Iterator[_Line]:
    return (e for e in table if _DESCRIPTOR_RE.search(e.text))  # skips the NULL terminator


# --- the tables -----------------------------------------------------------------------------


def _hashes(table: list[_Line], oids: dict[str, str]) -> list[dict[str, Any]]:
    hashes = []
    for entry in _entries(table):
        oid, short, description = _descriptor(entry, oids)
        (md,) = _enums(entry)
        hashes.append(
            {"name": description, "md": md.removeprefix("MBEDTLS_MD_"), "oid": oid,
             "short_name": short, "guard": entry.guard}
        )
    return hashes


def _add_hash_options(tree: SourceTree, hashes: list[dict[str, Any]]) -> None:
    """Set each hash's `option`: the one option that alone decides its guard from the default
    configuration (removing it when the hash is on by default, adding it when it is off).
    Options that decide every hash at once (MBEDTLS_MD_C, MBEDTLS_OID_C) are not that option;
    among several, the one the guard names itself."""
    options = extract_options.extract(tree)
    entry = kb_extract._ENTRY[tree.line]
    files = kb_extract.preprocessor_files(tree, entry + options["config_tail"])
    defaults = {o["name"]: o["value"] for o in options["options"] if o["default_enabled"]}
    flags = [o["name"] for o in options["options"] if o["value"] is None and o["args"] is None]

    def holding(config: dict[str, str | None]) -> set[str]:
        outcome = cpp.run(files, entry, cpp.config_directives(config, options["config_tail"]))
        return {h["md"] for h in hashes if outcome.holds(h["guard"])}

    base = holding(defaults)
    deciders: dict[str, set[str]] = {h["md"]: set() for h in hashes}
    for name in flags:
        trial = dict(defaults)
        if name in trial:
            del trial[name]
        else:
            trial[name] = None
        for md in base ^ holding(trial):
            deciders[md].add(name)
    common = set.intersection(*(deciders[md] for md in base)) if base else set()
    for item in hashes:
        found = sorted(deciders[item["md"]] - common)
        if len(found) > 1:  # e.g. MBEDTLS_PSA_CRYPTO_CONFIG also turns MD2 on in 2.28
            found = sorted(set(found) & cpp.identifiers(item["guard"]))
        if len(found) != 1:
            raise KnowledgeBaseError(
                f"{OID_C}: cannot tell which option provides {item['name']} "
                f"(guard {item['guard']!r}; candidates {found})"
            )
        item["option"] = found[0]


def _signatures(
    table: list[_Line], oids: dict[str, str], hash_names: dict[str, str], pss_guard: str
) -> list[dict[str, Any]]:
    result = []
    for entry in _entries(table):
        oid, short, description = _descriptor(entry, oids)
        md, pk = _enums(entry)
        if pk not in _SCHEMES:
            raise KnowledgeBaseError(f"{OID_C}:{entry.number}: unexpected key type {pk}")
        scheme = _SCHEMES[pk]
        md = md.removeprefix("MBEDTLS_MD_")
        result.append(
            {
                "oid": oid,
                "name": short,
                "description": description,
                # RSASSA-PSS names its hash in the parameters (md NONE here).
                "hash": None if md == "NONE" else hash_names.get(md, md),
                "scheme": scheme,
                "guard": _and(entry.guard, pss_guard) if scheme == "rsassa_pss" else entry.guard,
            }
        )
    return sorted(result, key=lambda s: (s["oid"], s["name"]))


def _pss_guard(tree: SourceTree) -> str:
    """x509.c parses RSASSA-PSS parameters only under its #if; without it, a PSS signature's
    (always present) parameters make the certificate fail to parse."""
    for line in _lines(tree, X509_C):
        if re.search(r"pk_alg\s*==\s*MBEDTLS_PK_RSASSA_PSS", line.text):
            return line.guard
    raise KnowledgeBaseError(f"{X509_C}: no RSASSA-PSS branch found")


def _pk_types(table: list[_Line], cases: dict[str, str], oids: dict[str, str]) -> list[dict[str, Any]]:
    result = []
    for entry in _entries(table):
        oid, short, description = _descriptor(entry, oids)
        (pk,) = _enums(entry)
        implemented = cases.get(pk)
        result.append(
            {
                "oid": oid,
                "name": short,
                "description": description,
                "pk": pk.removeprefix("MBEDTLS_PK_"),
                "guard": _and(entry.guard, implemented) if implemented is not None else "0",
            }
        )
    return sorted(result, key=lambda p: p["oid"])


def _groups(tree: SourceTree, oid_c: list[_Line], oids: dict[str, str]) -> list[dict[str, Any]]:
    option_names = {o["name"] for o in extract_options.extract(tree)["options"]}
    by_dp: dict[str, tuple[str | None, str]] = {}
    for table in ("oid_ecp_grp", "oid_ecp_grp_algid"):
        if any(re.search(rf"\b{table}\s*\[\s*\]\s*=", l.text) for l in oid_c):
            for entry in _entries(_table(oid_c, table)):
                oid, _, _ = _descriptor(entry, oids)
                (dp,) = _enums(entry)
                by_dp[dp] = (oid, entry.guard)
    groups = []
    for entry in _table(_lines(tree, ECP_C), "ecp_supported_curves"):
        match = re.match(r"\{\s*(MBEDTLS_ECP_DP_\w+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*\"([^\"]+)\"", entry.text)
        if match is None:
            continue  # the { MBEDTLS_ECP_DP_NONE, 0, 0, NULL } terminator
        dp, tls_id, bits, name = match.groups()
        own = cpp.identifiers(entry.guard) & option_names
        options = sorted(o for o in own if o.startswith("MBEDTLS_ECP_DP_"))
        if len(options) != 1:
            raise KnowledgeBaseError(f"{ECP_C}:{entry.number}: no single option guards {name}")
        curve_oid, guard = by_dp.get(dp, (None, "0"))
        groups.append(
            {
                "name": name,
                "dp": dp.removeprefix("MBEDTLS_ECP_DP_"),
                "tls_id": int(tls_id),
                "bits": int(bits),
                "option": options[0],
                "oid": curve_oid,
                "guard": guard,  # "0": no certificate key on this curve parses
                "ecp_guard": entry.guard,
            }
        )
    return sorted(groups, key=lambda g: g["tls_id"])


def _profile(
    crt_lines: list[_Line], hash_names: dict[str, str], groups: dict[str, str]
) -> dict[str, Any]:
    """`mbedtls_x509_crt_profile_default`, the profile mbedtls_x509_crt_verify() applies:
    allowed signature hashes, key types and curves ("any" for 0xFFFFFFF), minimum RSA bits.
    The initializer's first branch is read where an #if offers alternatives (3.6: the
    curve list with ECC keys, 0 without)."""
    start = next(
        (i for i, l in enumerate(crt_lines) if "mbedtls_x509_crt_profile_default" in l.text
         and "=" in l.text), None
    )
    if start is None:
        raise KnowledgeBaseError(f"{X509_CRT_C}: no mbedtls_x509_crt_profile_default")
    text = ""
    for line in crt_lines[start + 1 :]:
        if line.text.startswith("}"):
            break
        if not line.alternative:
            text += line.text
    fields = [f.strip() for f in text.strip().lstrip("{").split(",") if f.strip()]
    if len(fields) != 4:
        raise KnowledgeBaseError(f"{X509_CRT_C}: unexpected default profile {fields}")

    def allowed(field: str, prefix: str, names: dict[str, str]) -> str | list[str]:
        if field.upper() == "0XFFFFFFF":
            return "any"
        return sorted(names[m] for m in re.findall(rf"{prefix}(\w+)", field))

    return {
        "hashes": allowed(fields[0], "MBEDTLS_MD_", hash_names),
        "pk": allowed(fields[1], "MBEDTLS_PK_", {}),
        "curves": allowed(fields[2], "MBEDTLS_ECP_DP_", groups),
        "rsa_min_bits": int(fields[3]),
    }


def _extensions(
    table: list[_Line], cases: dict[str, str], oids: dict[str, str], aliases: dict[str, str]
) -> list[dict[str, Any]]:
    handled = {aliases.get(label, label): guard for label, guard in cases.items()}
    result = []
    for entry in _entries(table):
        oid, short, description = _descriptor(entry, oids)
        (ext_type,) = _enums(entry)
        if ext_type not in handled:
            continue  # known to the OID layer only: critical → -0x2080 in x509_get_crt_ext
        result.append(
            {
                "oid": oid,
                "name": short,
                "description": description,
                "guard": _and(entry.guard, handled[ext_type]),
            }
        )
    return sorted(result, key=lambda e: e["oid"])


def _policies(crt_text: str, oids: dict[str, str]) -> list[str]:
    """Policy OIDs x509_get_certificate_policies accepts (anyPolicy in 2.28 and 3.6)."""
    body = re.search(
        r"static int x509_get_certificate_policies\(.*?\n}\n", crt_text, re.DOTALL
    )
    if body is None:
        raise KnowledgeBaseError(f"{X509_CRT_C}: no x509_get_certificate_policies()")
    return sorted(oids[name] for name in _POLICY_RE.findall(body.group()) if name in oids)


def _critical_option(tree: SourceTree, crt_text: str) -> str | None:
    """The option x509_get_crt_ext tests to let unsupported critical extensions through."""
    body = re.search(r"static int x509_get_crt_ext\(.*?\n}\n", crt_text, re.DOTALL)
    if body is None:
        raise KnowledgeBaseError(f"{X509_CRT_C}: no x509_get_crt_ext()")
    names = {o["name"] for o in extract_options.extract(tree)["options"]}
    tested = {
        name
        for d in cpp.directives(body.group())
        if d[1] in ("if", "ifdef", "ifndef")
        for name in cpp.identifiers(d[2])
    } & names
    if len(tested) > 1:
        raise KnowledgeBaseError(f"{X509_CRT_C}: x509_get_crt_ext() tests {sorted(tested)}")
    return min(tested) if tested else None


def _ext_callback(tree: SourceTree) -> str | None:
    header = (tree.root / X509_CRT_H).read_text(errors="replace")
    return EXT_CALLBACK if re.search(rf"^int\s+{EXT_CALLBACK}\s*\(", header, re.MULTILINE) else None
