"""explain: every code of each line's knowledge base in every spelling, composites against
mbedtls_strerror of programs built from both lines, verify flags, causes.toml, the CLI."""

from __future__ import annotations

import re

import pytest
from test_kb_errors import composite_codes, oracle  # noqa: F401  (the strerror oracle fixture)

from configgen import kb as knowledge
from configgen.advise import causes
from configgen.advise.explain import (
    AdviceInputError,
    explain_code,
    explain_flags,
    parse_code,
    parse_flags,
)
from configgen.cli import main
from configgen.kb.errcodes import strerror_text
from configgen.kb.model import LINES

KBS = {line: knowledge.load(line) for line in LINES}
EVERY = list(KBS.values())


def spellings(code: int) -> list[str]:
    magnitude = -code
    return [f"-0x{magnitude:04X}", f"0x{magnitude:04X}", f"-{magnitude}", f"{magnitude}",
            f"-0x{magnitude:x}", f"(-0x{magnitude:04X})", f"0x{(1 << 32) - magnitude:08X}",
            f"\u2212{magnitude}"]


@pytest.mark.parametrize("line", LINES)
def test_every_code_round_trips_in_every_spelling(line):
    kb = KBS[line]
    known = causes.load()
    for error in kb.errors:
        for spelling in spellings(error.code):
            assert parse_code(spelling) == error.code, spelling
        reading = explain_code(error.code, [kb], known, EVERY).readings[0]
        named = {n for p in reading.parts if p.error for n in (p.error.name, *p.aliases)}
        assert error.name in named, (error.name, reading.parts)


def test_composite_codes_split_into_named_parts():
    for kb in EVERY:
        reading = explain_code(parse_code("-0x262E"), [kb], causes.load()).readings[0]
        assert [(p.level, p.error.name) for p in reading.parts] == [
            ("high", "MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG"), ("low", "MBEDTLS_ERR_OID_NOT_FOUND")]
        assert any("MBEDTLS_SHA1_C" in c.options for c in reading.causes)
        reading = explain_code(-0x428E, [kb], causes.load()).readings[0]
        assert [p.error.name for p in reading.parts] == [
            "MBEDTLS_ERR_RSA_PUBLIC_FAILED", "MBEDTLS_ERR_MPI_NOT_ACCEPTABLE"]


def test_codes_absent_in_a_line_name_the_line_that_has_them():
    found = explain_code(-0x5D80, EVERY, causes.load())
    old, new = found.readings
    assert old.parts[0].error is None
    assert old.parts[0].elsewhere == (
        ("3.6.6", "MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME"),)
    assert new.parts[0].error.name == "MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME"
    only_new = explain_code(-0x6980, [KBS["3.6"]], causes.load(), EVERY).readings[0]
    assert only_new.parts[0].elsewhere == (("2.28.3", "MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE"),)
    # the same value, named differently per line: -0x6600 and the 3.6.6 RSA-PSS defect
    names = [r.parts[0].error.name for r in explain_code(-0x6600, EVERY, causes.load()).readings]
    assert names == ["MBEDTLS_ERR_SSL_INVALID_VERIFY_HASH", "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER"]
    assert "10668" in explain_code(-0x6600, EVERY, causes.load()).readings[1].causes[0].why


@pytest.mark.parametrize("text", ["", "x", "0x", "-0xZZ", "0", "-0x0", "0x12345", "--3", "1e3",
                                  "12 34", "0xFFFFFFFFF"])
def test_what_is_not_a_code_is_said_so(text):
    with pytest.raises(AdviceInputError):
        parse_code(text)


def test_a_code_no_line_knows_is_an_error():
    with pytest.raises(AdviceInputError, match="not an error code of mbedTLS 2.28.3, 3.6.6"):
        explain_code(-0x0A8C, EVERY, causes.load())


def test_verify_flags():
    found = explain_flags(parse_flags("0x08"), KBS["3.6"], causes.load())
    assert [f.flag.name for f in found.flags] == ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]
    assert found.flags[0].causes and found.info == (
        "The certificate is not correctly signed by the trusted CA\n")
    several = explain_flags(0x4008 | 0x10000000, KBS["2.28"], causes.load())
    assert [f.flag.name for f in several.flags] == [
        "MBEDTLS_X509_BADCERT_NOT_TRUSTED", "MBEDTLS_X509_BADCERT_BAD_MD"]
    assert several.unknown_bits == 0x10000000
    for bad in ("0", "-8", "0x100000000", "eight"):
        with pytest.raises(AdviceInputError):
            parse_flags(bad)


@pytest.mark.parametrize("line", LINES)
def test_causes_name_only_what_the_line_has(line):
    kb = KBS[line]
    errors = {e.name for e in kb.errors}
    options = {o.name for o in kb.options}
    known = causes.load()
    listed = [e for e in known.errors if line in e.lines]
    assert listed
    for entry in listed:
        assert entry.name in errors, entry.name
        assert entry.with_low is None or entry.with_low in errors, entry.with_low
        missing = [o for o in entry.cause.options + entry.cause.shrink if o not in options]
        assert missing == [], (entry.name, missing)
        assert entry.cause.check.startswith("configgen ")
    flags = {f.name for f in kb.verify_flags}
    assert all(f.name in flags for f in known.flags)
    assert all(set(e.lines) <= set(LINES) for e in known.errors)


# Compiled: what mbedtls_strerror prints for composite codes ----------------------------------


@pytest.mark.mbedtls
def test_composites_read_as_mbedtls_strerror_prints(tree, oracle):  # noqa: F811
    kb = KBS[tree.line]
    codes = [c for c in composite_codes(tree, {"errors": [vars(e) for e in kb.errors]})
             if 0 < -c <= 0x7FFF]
    printed = oracle.strerror(codes)
    wrong, unnamed = [], []
    for code, text in zip(codes, printed):
        try:
            reading = explain_code(code, [kb], causes.load(), EVERY).readings[0]
        except AdviceInputError:
            assert "UNKNOWN ERROR CODE" in text
            continue
        if reading.strerror != text:
            wrong.append((hex(code), reading.strerror, text))
        for part in reading.parts:
            if (part.error and part.level != "whole" and strerror_text(vars(part.error)) not in text
                    and not text.startswith("SSL - A fatal alert")):
                unnamed.append((hex(code), part.error.name, text))
    assert wrong == [] and unnamed == []
    assert len(codes) > 100


# The command line ------------------------------------------------------------------------------


def test_cli_explains_every_spelling(capsys):
    assert main(["explain", "-0x2700", "0x2700", "-9984", "9984", "-0x262E", "-15488"]) == 0
    out = capsys.readouterr().out
    assert out.count("MBEDTLS_ERR_X509_CERT_VERIFY_FAILED") == 4 * 2
    assert "MBEDTLS_ERR_OID_NOT_FOUND" in out and "MBEDTLS_ERR_PK_UNKNOWN_PK_ALG" in out
    assert main(["explain", "--flags", "0x08", "--mbedtls", "2.28"]) == 0
    assert "BADCERT_NOT_TRUSTED" in capsys.readouterr().out
    assert main(["explain", "-0x5D80", "--mbedtls", "2.28"]) == 0
    assert "in mbedTLS 3.6.6" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["explain"], ["explain", "banana"], ["explain", "-0x0A8C"],
                                  ["explain", "--flags", "0"]])
def test_cli_bad_input_is_one_line_and_exit_2(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("configgen: ") and "Traceback" not in err


def test_cli_markdown_says_what_the_text_says_and_json_is_format_json(capsys):
    args = ["explain", "-0x262E", "-0x5D80", "--flags", "0x0C"]

    def out(*more: str) -> str:
        assert main([*args, *more]) == 0
        return capsys.readouterr().out

    text, markdown = out(), out("--format", "markdown")
    assert markdown.startswith("### `-0x262E` (-9774)\n\n#### mbedTLS 2.28.3\n")
    for heading in ("### `-0x5D80` (-23936)", "#### mbedTLS 3.6.6",
                    "### Verify flags `0x0000000C` (mbedTLS 3.6.6)"):
        assert f"\n{heading}\n" in markdown, heading
    assert "| high | `-0x2600` | `MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG` | X509 - " in markdown
    for line in text.splitlines():
        said = line.strip()
        if said.startswith(("cause: ", "fix: ")):
            assert said in markdown, said
        elif said.startswith("check: "):
            assert f"check: `{said.removeprefix('check: ')}`" in markdown, said
        elif "mbedtls_strerror prints" in said:
            printed = said.partition(' prints "')[2].removesuffix('"')
            assert f"`mbedtls_strerror` prints `{printed}`" in markdown, said
        for name in re.findall(r"MBEDTLS_[A-Z0-9_]+", line):
            assert name in markdown, name
    assert out("--json") == out("--format", "json")
