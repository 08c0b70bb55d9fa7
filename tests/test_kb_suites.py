"""The ciphersuite knowledge base against the mbedTLS sources it is extracted from.

The guard of every suite is judged by the real preprocessor: for a configuration, the suites
whose guards hold must be exactly the suites whose names survive `cc -E` of
library/ssl_ciphersuites.c with that configuration.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from configgen import mbedbuild
from configgen.kb.extract_suites import HEADER, SOURCE, extract, parse_suites
from configgen.sources import SourceTree

EXPECTED_COUNT = {"2.28": 207, "3.6": 190}

# MBEDTLS-FACTS.md §2f, as written there ("stream/null 29" in 2.28 is STREAM 10 + NULL 19).
FACTS_BREAKDOWN: dict[str, dict[str, dict[str, int]]] = {
    "2.28": {
        "key_exchange": {
            "RSA": 27, "DHE_RSA": 23, "ECDHE_RSA": 18, "ECDHE_ECDSA": 22, "ECDH_RSA": 17,
            "ECDH_ECDSA": 17, "PSK": 24, "DHE_PSK": 24, "ECDHE_PSK": 14, "RSA_PSK": 20,
            "ECJPAKE": 1,
        },
        "cipher": {
            "AES": 79, "ARIA": 38, "CAMELLIA": 42, "CHACHA20": 7, "3DES": 10, "RC4": 10,
            "DES": 2, "NULL": 19,
        },
        "mode": {
            "CBC": 96, "GCM": 54, "CCM": 10, "CCM_8": 11, "CHACHAPOLY": 7, "STREAM": 10,
            "NULL": 19,
        },
    },
    "3.6": {
        "key_exchange": {
            "TLS1_3": 5, "RSA": 23, "DHE_RSA": 21, "ECDHE_RSA": 16, "ECDHE_ECDSA": 20,
            "ECDH_RSA": 15, "ECDH_ECDSA": 15, "PSK": 22, "DHE_PSK": 22, "ECDHE_PSK": 12,
            "RSA_PSK": 18, "ECJPAKE": 1,
        },
        "cipher": {"AES": 83, "ARIA": 38, "CAMELLIA": 42, "CHACHA20": 8, "NULL": 19},
        "mode": {"CBC": 84, "GCM": 56, "CCM": 11, "CCM_8": 12, "CHACHAPOLY": 8, "NULL": 19},
    },
}

KEYS = [
    "id", "hex", "macro", "name", "min_tls", "max_tls", "key_exchange", "cipher", "key_bits",
    "mode", "mac", "flags", "guard",
]


@cache
def _suites(tree: SourceTree) -> list[dict[str, Any]]:
    return extract(tree)["suites"]


def test_counts(tree: SourceTree) -> None:
    suites = _suites(tree)
    print(f"mbedTLS {tree.version}: {len(suites)} ciphersuites")
    assert len(suites) == EXPECTED_COUNT[tree.line]


def test_ids_and_names_unique_and_sorted(tree: SourceTree) -> None:
    suites = _suites(tree)
    ids = [suite["id"] for suite in suites]
    assert ids == sorted(set(ids))
    assert len({suite["name"] for suite in suites}) == len(suites)
    assert len({suite["macro"] for suite in suites}) == len(suites)


def test_ids_match_header(tree: SourceTree) -> None:
    header = (tree.root / HEADER).read_text()
    defined = {
        name: int(value, 16)
        for name, value in re.findall(r"#define\s+(MBEDTLS_TLS\w*)\s+(0x[0-9A-Fa-f]+)", header)
    }
    for suite in _suites(tree):
        assert defined[suite["macro"]] == suite["id"], suite["macro"]
        assert suite["hex"] == f"0x{suite['id']:04X}"


def test_entries_are_plain_and_consistent(tree: SourceTree) -> None:
    suites = _suites(tree)
    text = json.dumps({"suites": suites})
    assert json.loads(text) == {"suites": suites}
    assert str(tree.root) not in text
    for suite in suites:
        assert list(suite) == KEYS
        # The table's name is the macro's, spelled with dashes.
        assert suite["name"] == suite["macro"].removeprefix("MBEDTLS_").replace("_", "-")
        flags = set(suite["flags"])
        assert suite["flags"] == sorted(flags)
        assert ("cbc" in flags) == (suite["mode"] == "CBC")
        assert ("short_tag" in flags) == (suite["mode"] == "CCM_8")
        assert ("null_cipher" in flags) == (suite["cipher"] == "NULL")
        assert ("psk" in flags) == ("PSK" in suite["key_exchange"])
        assert (suite["key_exchange"] == "TLS1_3") == (suite["min_tls"] == "1.3")
        assert suite["guard"].startswith("(defined(MBEDTLS_SSL_TLS_C)) && ")
        assert "HAVE_SHA384" not in suite["guard"].replace("MBEDTLS_", "")


def test_breakdown_matches_facts(tree: SourceTree) -> None:
    suites = _suites(tree)
    for field, expected in FACTS_BREAKDOWN[tree.line].items():
        counts = dict(Counter(suite[field] for suite in suites))
        print(f"mbedTLS {tree.version} by {field}: {counts}")
        assert counts == expected, field


def _preprocess_names(text: str) -> set[str]:
    """The names in the ciphersuite_definitions[] table of preprocessed output."""
    start = text.find("ciphersuite_definitions[] =")
    if start < 0:
        return set()
    return set(re.findall(r'"(TLS[^"]*)"', text[start : text.index("};", start)]))


def _guard_unit(guards: dict[int, str], prologue: str) -> str:
    body = "".join(f"#if {guard}\nint s_{sid};\n#endif\n" for sid, guard in guards.items())
    return prologue + body


def _surviving_ids(text: str) -> set[int]:
    return {int(sid) for sid in re.findall(r"\bint s_(\d+);", text)}


# --- The walker on #ifdef/#ifndef/#elif/#else and file-local macros -------------------------

_SYNTH_HEADER = """
struct mbedtls_ssl_ciphersuite_t {
    int id; const char *name; int cipher; int mac; int key_exchange; int flags;
    int min_tls_version; int max_tls_version;
};
""" + "".join(f"#define MBEDTLS_TLS_S{n} 0x000{n}\n" for n in range(1, 8))

_SYNTH_SOURCE = r"""
#undef LOCAL_X
#if defined(OPT_A) || \
    defined(OPT_B)
#define LOCAL_X
#endif
#if defined(OPT_C)
#undef LOCAL_X
#endif
#if defined(OPT_C) && defined(OPT_A)
#define LOCAL_Y
#endif
static const int ciphersuite_definitions[] =
{
#ifdef OPT_A
    ENTRY(S1)
#elif defined(OPT_B) /* a comment with #if in it */
    ENTRY(S2)
#else
    ENTRY(S3)
#endif
#ifndef OPT_C
#if defined(LOCAL_X)
    ENTRY(S4)
#else
    ENTRY(S5)
#endif
#endif
#if defined LOCAL_X && !defined(LOCAL_Y)
    ENTRY(S6)
#endif
#ifdef LOCAL_Y
    ENTRY(S7)
#endif
    { 0, "", MBEDTLS_CIPHER_NONE, MBEDTLS_MD_NONE, MBEDTLS_KEY_EXCHANGE_NONE, 0, 0, 0 }
};
"""


def _synthetic_source() -> str:
    entry = (
        '{{ MBEDTLS_TLS_{0}, "TLS-{0}", MBEDTLS_CIPHER_AES_128_GCM, MBEDTLS_MD_SHA256,\n'
        "      MBEDTLS_KEY_EXCHANGE_ECDHE_RSA, 0,\n"
        "      MBEDTLS_SSL_VERSION_TLS1_2, MBEDTLS_SSL_VERSION_TLS1_2 }},"
    )
    return re.sub(r"ENTRY\((\w+)\)", lambda m: entry.format(m.group(1)), _SYNTH_SOURCE)


def _cc_e(path: Path, defines: list[str]) -> str:
    result = subprocess.run(
        ["cc", "-E", "-P", *defines, str(path)], capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C preprocessor")
@pytest.mark.parametrize("a", [False, True])
@pytest.mark.parametrize("b", [False, True])
@pytest.mark.parametrize("c", [False, True])
@pytest.mark.parametrize("y", [False, True])
def test_guards_of_synthetic_table_agree_with_cc(
    tmp_path: Path, a: bool, b: bool, c: bool, y: bool
) -> None:
    suites = parse_suites(_synthetic_source(), _SYNTH_HEADER)
    assert [s["name"] for s in suites] == [f"TLS-S{n}" for n in range(1, 8)]
    assert all("LOCAL_X" not in s["guard"] for s in suites)
    defines = [f"-D{name}" for name, on in (("OPT_A", a), ("OPT_B", b), ("OPT_C", c)) if on]
    # LOCAL_Y is never #undef'd, so a definition from outside the file reaches the table.
    defines += ["-DLOCAL_Y="] if y else []
    source = tmp_path / "table.c"
    source.write_text(_synthetic_source())
    guards = tmp_path / "guards.c"
    guards.write_text(_guard_unit({s["id"]: s["guard"] for s in suites}, ""))
    by_guard = {s["name"] for s in suites if s["id"] in _surviving_ids(_cc_e(guards, defines))}
    assert by_guard == _preprocess_names(_cc_e(source, defines))


# --- The real preprocessor on the real sources -------------------------------------------------

# (line, name, config.py edits on the default header, predicate no surviving suite may meet)
Absent = Callable[[dict[str, Any]], bool]
VARIANTS: list[tuple[str, str, list[list[str]], Absent | None]] = [
    *[(line, "default", [], None) for line in EXPECTED_COUNT],
    *[(line, "full", [["full"]], None) for line in EXPECTED_COUNT],
    *[
        (line, "full-no-rsa-kx", [["full"], ["unset", "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED"]],
         lambda s: s["key_exchange"] == "RSA")
        for line in EXPECTED_COUNT
    ],
    ("2.28", "full-no-gcm", [["full"], ["unset", "MBEDTLS_GCM_C"]], lambda s: s["mode"] == "GCM"),
    ("2.28", "full-no-sha512", [["full"], ["unset", "MBEDTLS_SHA512_C"]],
     lambda s: s["mac"] == "SHA384"),
    ("2.28", "full-sha512-no-sha384", [["full"], ["set", "MBEDTLS_SHA512_NO_SHA384"]],
     lambda s: s["mac"] == "SHA384"),
    ("2.28", "default-no-cbc", [["unset", "MBEDTLS_CIPHER_MODE_CBC"]],
     lambda s: s["mode"] == "CBC"),
    # 3.6's full preset takes algorithms from PSA_WANT_* (MBEDTLS_PSA_CRYPTO_CONFIG), so
    # unsetting a legacy module there changes nothing; trim the legacy configuration instead.
    ("3.6", "full-legacy-no-gcm",
     [["full"], ["unset", "MBEDTLS_PSA_CRYPTO_CONFIG"], ["unset", "MBEDTLS_GCM_C"]],
     lambda s: s["mode"] == "GCM"),
    ("3.6", "full-legacy-no-sha384",
     [["full"], ["unset", "MBEDTLS_PSA_CRYPTO_CONFIG"], ["unset", "MBEDTLS_SHA384_C"],
      ["unset", "MBEDTLS_SHA512_C"], ["unset", "MBEDTLS_SHA512_USE_A64_CRYPTO_IF_PRESENT"]],
     lambda s: s["mac"] == "SHA384"),
    ("3.6", "default-no-gcm", [["unset", "MBEDTLS_GCM_C"]], lambda s: s["mode"] == "GCM"),
    ("3.6", "default-no-sha384", [["unset", "MBEDTLS_SHA384_C"], ["unset", "MBEDTLS_SHA512_C"]],
     lambda s: s["mac"] == "SHA384"),
]


def _config_text(tree: SourceTree, edits: list[list[str]], work: Path) -> str:
    """The default header of the tree after `scripts/config.py` edits (e.g. ["full"])."""
    path = work / tree.config_header.name
    shutil.copyfile(tree.config_header, path)
    for edit in edits:
        subprocess.run(
            ["python3", str(tree.root / "scripts" / "config.py"), "-f", str(path), *edit],
            cwd=tree.root, check=True, capture_output=True,
        )
    return path.read_text()


def _source_includes(tree: SourceTree) -> str:
    """Every #include of ssl_ciphersuites.c, so the derived macros its guards use exist."""
    text = (tree.root / SOURCE).read_text()
    return "".join(f"{line}\n" for line in re.findall(r"^\s*#\s*include\s+\S+", text, re.MULTILINE))


@pytest.mark.mbedtls
@pytest.mark.parametrize(
    ("line", "variant", "edits", "absent"),
    VARIANTS,
    ids=[f"{line}-{name}" for line, name, _, _ in VARIANTS],
)
def test_guards_agree_with_the_preprocessor(
    trees: dict[str, SourceTree],
    tmp_path: Path,
    line: str,
    variant: str,
    edits: list[list[str]],
    absent: Absent | None,
) -> None:
    tree = trees[line]
    suites = _suites(tree)
    header = _config_text(tree, edits, tmp_path)
    try:
        assert mbedbuild.check_config(tree, header) == ""
    except mbedbuild.BuildError as error:
        pytest.fail(f"{variant} does not pass check_config.h:\n{error.output}")

    compiled = _preprocess_names(mbedbuild.preprocess(tree, header, SOURCE))
    config = mbedbuild.write_config(tree, header)
    unit = tmp_path / "guards.c"
    unit.write_text(_guard_unit({s["id"]: s["guard"] for s in suites}, _source_includes(tree)))
    result = subprocess.run(
        ["cc", "-E", "-P", f"-I{tree.include_dir}", f"-I{tree.root / 'library'}",
         f'-DMBEDTLS_CONFIG_FILE="{config}"', str(unit)],
        capture_output=True, text=True, check=False,
    )
    assert result.stderr == ""
    assert result.returncode == 0
    surviving = _surviving_ids(result.stdout)
    by_guard = {s["name"] for s in suites if s["id"] in surviving}

    print(f"mbedTLS {tree.version} {variant}: {len(compiled)} of {len(suites)} suites compiled")
    assert by_guard == compiled
    assert compiled, "the configuration compiles no suite: the comparison proves nothing"
    if absent is not None:
        assert not [s["name"] for s in suites if s["name"] in compiled and absent(s)]
        assert len(compiled) < len(suites)
