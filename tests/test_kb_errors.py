"""The error-code part of the KB says what mbedTLS itself prints.

The oracle is a small C program linked against each line's library, built with mbedTLS's own
"full" configuration (scripts/config.py), in which error.c decodes every module. It reads
queries on stdin and answers each with `mbedtls_strerror()` or
`mbedtls_x509_crt_verify_info()`, so one run checks every code.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from configgen import mbedbuild
from configgen.kb.errcodes import describe, describe_flags, split, strerror_text
from configgen.kb.extract_errors import extract
from configgen.sources import SourceTree

PREFIX = "  ! "
ORACLE_SOURCE = """\
#include <stdint.h>
#include <stdio.h>
#include "mbedtls/error.h"
#include "mbedtls/x509_crt.h"

/* Reads "e <code>" or "v <flags>" lines; answers each with a NUL-terminated text. */
int main(void)
{
    static char buf[8192];
    char kind;
    long value;

    while (scanf(" %c %li", &kind, &value) == 2) {
        buf[0] = '\\0';
        if (kind == 'e') {
            mbedtls_strerror((int) value, buf, sizeof(buf));
        } else {
            mbedtls_x509_crt_verify_info(buf, sizeof(buf), PREFIX, (uint32_t) value);
        }
        fputs(buf, stdout);
        putchar('\\0');
    }
    return 0;
}
""".replace("PREFIX", json.dumps(PREFIX))


@dataclass(frozen=True)
class Oracle:
    """A program that prints what one mbedTLS build says about codes and flags."""

    program: Path

    def _ask(self, queries: list[str]) -> list[str]:
        result = subprocess.run(
            [str(self.program)],
            input="\n".join(queries) + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        answers = result.stdout.split("\0")
        assert answers[-1] == "" and len(answers) == len(queries) + 1, result.stderr
        return answers[:-1]

    def strerror(self, codes: list[int]) -> list[str]:
        return self._ask([f"e {code}" for code in codes])

    def verify_info(self, flags: list[int]) -> list[str]:
        return self._ask([f"v {value}" for value in flags])


# mbedTLS's own "full" preset, less two options whose functions only mbedTLS's test suites
# define (a program linked without them fails with undefined references).
FULL_FOR_A_PROGRAM = (
    ("full",),
    ("unset", "MBEDTLS_TEST_HOOKS"),  # 3.6: mbedtls_test_hook_error_add
    ("unset", "MBEDTLS_PSA_CRYPTO_BUILTIN_KEYS"),  # mbedtls_psa_platform_get_builtin_key
)


def full_header(tree: SourceTree, work: Path) -> str:
    """The line's default header with mbedTLS's own `scripts/config.py` edits applied."""
    header = work / tree.config_header.name
    shutil.copyfile(tree.config_header, header)
    script = tree.root / "scripts" / "config.py"
    for command in FULL_FOR_A_PROGRAM:
        subprocess.run(
            [sys.executable, str(script), "-f", str(header), *command],
            check=True,
            capture_output=True,
            text=True,
        )
    return header.read_text()


@pytest.fixture(scope="module")
def kb(tree: SourceTree) -> dict[str, Any]:
    return extract(tree)


@pytest.fixture(scope="module")
def oracle(tree: SourceTree, tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    work = tmp_path_factory.mktemp(f"strerror-{tree.line}")
    library = mbedbuild.build_library(tree, full_header(tree, work))
    source = work / "oracle.c"
    source.write_text(ORACLE_SOURCE)
    return Oracle(mbedbuild.build_program(library, source, work / "oracle", extra=("-lpthread",)))


def by_name(kb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in kb["errors"]}


def own_part(entry: dict[str, Any]) -> int:
    """The part of its own code strerror looks the entry up by (high or low)."""
    high, low = split(entry["code"])
    return high if entry["level"] == "high" else low


# Pure: the extractor against the sources themselves ---------------------------------------


def test_extract_is_plain_sorted_json(tree: SourceTree, kb: dict[str, Any]) -> None:
    assert set(kb) == {"errors", "verify_flags"}
    text = json.dumps(kb, sort_keys=True)
    assert json.loads(text) == kb
    assert json.dumps(extract(tree), sort_keys=True) == text
    assert str(tree.root) not in text
    errors = kb["errors"]
    assert errors == sorted(errors, key=lambda e: (-e["code"], e["name"]))
    assert [f["bit"] for f in kb["verify_flags"]] == sorted(f["bit"] for f in kb["verify_flags"])
    for entry in errors:
        assert entry["hex"] == f"-0x{-entry['code']:04X}"
        assert entry["level"] in ("high", "low")
        assert entry["header"].startswith("include/mbedtls/")
        assert entry["description"]


def test_every_define_is_listed(tree: SourceTree, kb: dict[str, Any]) -> None:
    headers = sorted((tree.include_dir / "mbedtls").glob("*.h"))
    define = re.compile(r"^\s*#\s*define\s+(MBEDTLS_ERR_\w+)", re.MULTILINE)
    defined = [name for path in headers for name in define.findall(path.read_text())]
    assert sorted(defined) == sorted(by_name(kb))
    x509 = (tree.include_dir / "mbedtls" / "x509.h").read_text()
    flags = re.findall(r"#\s*define\s+(MBEDTLS_X509_BAD(?:CERT|CRL)_\w+)", x509)
    assert sorted(flags) == sorted(f["name"] for f in kb["verify_flags"])
    assert sorted(f["bit"] for f in kb["verify_flags"]) == [1 << i for i in range(len(flags))]


def test_module_names_and_composites_as_documented(kb: dict[str, Any]) -> None:
    names = by_name(kb)
    assert names["MBEDTLS_ERR_MPI_ALLOC_FAILED"]["module"] == "BIGNUM"
    assert names["MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED"]["module"] == "CTR_DRBG"
    assert names["MBEDTLS_ERR_HMAC_DRBG_REQUEST_TOO_BIG"]["module"] == "HMAC_DRBG"
    verify_failed = names["MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"]
    assert (verify_failed["code"], verify_failed["level"]) == (-0x2700, "high")
    errors = kb["errors"]
    assert describe(-0x262E, errors) == (
        "X509 - Signature algorithm (oid) is unsupported : OID - OID is not found"
    )
    assert describe(-0x2562, errors) == (
        "X509 - The extension tag or value is invalid : ASN1 - ASN1 tag was of an unexpected value"
    )
    assert describe(0, errors) == ""


# Compiled: the texts are what mbedTLS prints ------------------------------------------------


@pytest.mark.mbedtls
def test_strerror_prints_every_code(tree: SourceTree, kb: dict[str, Any], oracle: Oracle) -> None:
    errors = kb["errors"]
    printed = oracle.strerror([e["code"] for e in errors])
    wrong = [
        (e["name"], describe(e["code"], errors), text)
        for e, text in zip(errors, printed)
        if describe(e["code"], errors) != text
    ]
    assert wrong == []
    # Each entry's own text is printed, except where its value lies outside the bits of its
    # level: strerror then cannot find it and prints "UNKNOWN ERROR CODE (....)".
    hidden = [e["name"] for e in errors if own_part(e) != -e["code"]]
    shown = [e["name"] for e, text in zip(errors, printed) if strerror_text(e) == text]
    assert sorted(hidden + shown) == sorted(e["name"] for e in errors)
    aliases = sum(1 for e in errors if e["alias_of"])
    high = sum(1 for e in errors if e["level"] == "high")
    print(
        f"\n{tree.version}: {len(errors)} codes ({high} high, {len(errors) - high} low, "
        f"{aliases} deprecated aliases), {len(kb['verify_flags'])} verify flags; "
        f"strerror cannot print {', '.join(hidden) or 'none'}"
    )


def composite_codes(tree: SourceTree, kb: dict[str, Any]) -> list[int]:
    """Sums of a high and a low code, plus PSA statuses and values outside the scheme."""
    names = by_name(kb)
    named = [
        ("X509_UNKNOWN_SIG_ALG", "OID_NOT_FOUND"),  # -0x262E
        ("X509_INVALID_EXTENSIONS", "ASN1_UNEXPECTED_TAG"),  # -0x2562
        ("RSA_PUBLIC_FAILED", "MPI_NOT_ACCEPTABLE"),  # -0x428E
        ("SSL_FATAL_ALERT_MESSAGE", "NET_CONN_RESET"),  # low part is not decoded
    ]
    codes = [
        names[f"MBEDTLS_ERR_{h}"]["code"] + names[f"MBEDTLS_ERR_{low}"]["code"] for h, low in named
    ]
    highs = [e["code"] for e in kb["errors"] if e["level"] == "high"]
    lows = [e["code"] for e in kb["errors"] if e["level"] == "low"]
    codes += [h + low for h in highs for low in lows[::9]]
    psa = (tree.include_dir / "psa" / "crypto_values.h").read_text()
    codes += [-int(v) for v in re.findall(r"\(\(psa_status_t\)\s*-(\d+)\)", psa)]
    return codes + [0x2700, -0x7F, -0x7F80, -0x7FFF, -0x12700]


@pytest.mark.mbedtls
def test_strerror_of_composite_codes(tree: SourceTree, kb: dict[str, Any], oracle: Oracle) -> None:
    codes = composite_codes(tree, kb)
    printed = oracle.strerror(codes)
    wrong = [
        (hex(code), describe(code, kb["errors"]), text)
        for code, text in zip(codes, printed)
        if describe(code, kb["errors"]) != text
    ]
    assert wrong == []
    assert " : " in printed[0] and " : " not in printed[3]


@pytest.mark.mbedtls
def test_verify_info_prints_every_flag(kb: dict[str, Any], oracle: Oracle) -> None:
    flags = kb["verify_flags"]
    every = sum(f["bit"] for f in flags)
    queries = [f["bit"] for f in flags] + [every, every << 1, 0x8 | 0x4000 | 0x10000000, 0]
    printed = oracle.verify_info(queries)
    for flag, text in zip(flags, printed):
        assert text == f"{PREFIX}{flag['description']}\n", flag["name"]
    wrong = [
        (hex(value), describe_flags(value, flags, PREFIX), text)
        for value, text in zip(queries, printed)
        if describe_flags(value, flags, PREFIX) != text
    ]
    assert wrong == []
