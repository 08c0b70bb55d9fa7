"""review: golden headers against their own profiles, and the same headers with one thing
wrong, each caught with the error the device would hit."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from configgen import headerfile
from configgen import kb as knowledge
from configgen import profile as profiles
from configgen.advise import causes
from configgen.advise.review import review
from configgen.cli import main
from configgen.generate import generate
from configgen.kb.model import LINES

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*/expected-*.h"))


def line_of(path: Path) -> str:
    return path.stem.removeprefix("expected-")


@cache
def needed(case: str, line: str):
    profile = profiles.load(GOLDEN / case / "profile.toml", line)
    return generate(profile, "mbedtls_config.h", None, None, offline=True).options


def reviewed(header, case: str, line: str):
    return review(header, needed(case, line), knowledge.load(line), causes.load(),
                  causes.security(), causes.sizes()[line])


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}-{line_of(p)}")
def test_a_golden_header_needs_nothing(path):
    found = reviewed(headerfile.read(path), path.parent.name, line_of(path))
    assert not found.failing
    assert [f.kind for f in found.findings if f.kind not in ("risky", "unmaintained")] == []
    # what it weakens on purpose is said, with the reason it is needed
    assert all("needed:" in f.detail for f in found.of("risky"))


def golden(case: str, line: str):
    return headerfile.read(GOLDEN / case / f"expected-{line}.h")


def test_missing_sha1_predicts_the_parse_error_of_the_root():
    found = reviewed(golden("sha1-root-rsa4096-large-chain", "2.28").with_setting(
        "MBEDTLS_SHA1_C", False), "sha1-root-rsa4096-large-chain", "2.28")
    assert found.failing
    [missing] = found.of("missing")
    assert missing.option == "MBEDTLS_SHA1_C"
    assert missing.predicted[0] == "-0x262E X509_UNKNOWN_SIG_ALG + OID_NOT_FOUND"
    assert "sha1WithRSAEncryption" in missing.reasons[0]


def test_too_small_rsa_size_and_input_buffer():
    header = golden("sha1-root-rsa4096-large-chain", "2.28").with_setting(
        "MBEDTLS_MPI_MAX_SIZE", True, "256")
    [small] = reviewed(header, "sha1-root-rsa4096-large-chain", "2.28").of("too small")
    assert small.option == "MBEDTLS_MPI_MAX_SIZE" and "-0x3B00 PK_INVALID_PUBKEY" in small.predicted
    header = golden("mfl-small-heap", "2.28")
    need = int(header.active()["MBEDTLS_SSL_IN_CONTENT_LEN"])
    found = reviewed(header.with_setting("MBEDTLS_SSL_IN_CONTENT_LEN", True, str(need // 2)),
                     "mfl-small-heap", "2.28")
    [small] = found.of("too small")
    assert small.predicted[0] == "-0x7100 SSL_BAD_INPUT_DATA"


@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_a_missing_dependency_is_the_error_check_config_raises(line):
    header = golden("rsa2048-ecdhe-rsa-gcm", line)
    dependency = next(d.name for d in header.defines
                      if d.reasons and d.reasons[0].startswith("mbedTLS") and "check_config" in d.reasons[0])
    found = reviewed(header.with_setting(dependency, False), "rsa2048-ecdhe-rsa-gcm", line)
    assert found.of("does not compile") and found.of("missing")[0].option == dependency


def test_a_missing_suite_ingredient_predicts_the_servers_alert():
    found = reviewed(golden("rsa2048-ecdhe-rsa-gcm", "3.6").with_setting("MBEDTLS_GCM_C", False),
                     "rsa2048-ecdhe-rsa-gcm", "3.6")
    [missing] = found.of("missing")
    assert missing.option == "MBEDTLS_GCM_C" and missing.predicted[0].startswith("-0x7780")


def test_the_mbedtls_default_header_is_mostly_unneeded_and_risky(trees):
    for line, tree in trees.items():
        found = reviewed(headerfile.read(tree.config_header), "rsa2048-ecdhe-rsa-gcm", line)
        risky = {f.option for f in found.of("risky")}
        assert {"MBEDTLS_KEY_EXCHANGE_RSA_ENABLED", "MBEDTLS_DES_C"} <= risky
        assert len(found.of("unneeded")) > 80
        assert found.unneeded_bytes > 100_000
        camellia = next(f for f in found.of("unneeded") if f.option == "MBEDTLS_CAMELLIA_C")
        assert camellia.size and camellia.detail.endswith("KB of code)")
        assert not found.of("does not compile")


def test_the_36_default_header_walks_into_the_rsa_pss_defect(trees):
    found = reviewed(headerfile.read(trees["3.6"].config_header), "rsa2048-ecdhe-rsa-gcm", "3.6")
    [defect] = found.of("known defect")
    assert defect.option == "MBEDTLS_SSL_PROTO_TLS1_3" and found.failing
    assert defect.predicted == ("-0x6600 SSL_ILLEGAL_PARAMETER",)
    without = headerfile.read(trees["3.6"].config_header).with_setting("MBEDTLS_SSL_PROTO_TLS1_3", False)
    assert not reviewed(without, "rsa2048-ecdhe-rsa-gcm", "3.6").of("known defect")
    assert not reviewed(headerfile.read(trees["2.28"].config_header), "rsa2048-ecdhe-rsa-gcm",
                        "2.28").failing


@pytest.mark.parametrize("line", LINES)
def test_security_data_names_options_of_the_line(line):
    names = {o.name for o in knowledge.load(line).options}
    listed = [r for r in causes.security().risky if line in r.lines]
    assert listed and [r.name for r in listed if r.name not in names] == []
    errors = {e.name for e in knowledge.load(line).errors}
    for defect in causes.security().defects:
        if defect.line == line:
            named = defect.header + defect.not_needed + defect.needed_any
            assert set(named) <= names and defect.error in errors


def test_cli_review(tmp_path, capsys):
    case = GOLDEN / "sha1-root-rsa4096-large-chain"
    profile = str(case / "profile.toml")
    assert main(["review", str(case / "expected-2.28.h"), "--profile", profile, "--offline"]) == 0
    broken = tmp_path / "config.h"
    broken.write_text(golden("sha1-root-rsa4096-large-chain", "2.28")
                      .with_setting("MBEDTLS_SHA1_C", False).text)
    capsys.readouterr()
    assert main(["review", str(broken), "--profile", profile, "--offline"]) == 1
    out = capsys.readouterr().out
    assert "MBEDTLS_SHA1_C" in out and "-0x262E" in out
    assert main(["review", str(broken), "--profile", profile, "--offline",
                 "--format", "markdown"]) == 1
    assert "#### Missing (1)" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"\x00\x01binary", b"", b"not C at all\n",
                                     b'{"json": true}'])
def test_cli_review_bad_header_is_one_line_exit_2(tmp_path, capsys, content):
    bad = tmp_path / "bad.h"
    bad.write_bytes(content)
    profile = str(GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "profile.toml")
    assert main(["review", str(bad), "--profile", profile, "--offline"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("configgen: ") and len(err.strip().splitlines()) == 1


def test_cli_review_refuses_a_header_of_the_other_line(capsys):
    case = GOLDEN / "rsa2048-ecdhe-rsa-gcm"
    assert main(["review", str(case / "expected-2.28.h"), "--profile", str(case / "profile.toml"),
                 "--offline", "--mbedtls", "3.6"]) == 2
    assert "is a header for mbedTLS 2.28, the profile builds for 3.6" in capsys.readouterr().err
