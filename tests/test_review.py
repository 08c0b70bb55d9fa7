"""review: golden headers against their own profiles, and the same headers with one thing
wrong, each caught with the error the device would hit."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from configgen import readers
from configgen import kb as knowledge
from configgen import profile as profiles
from configgen.advise import causes
from configgen.advise.review import review
from configgen.cli import main
from configgen.generate import generate
from configgen.kb.model import LINES
from configgen.model.facts import KeyExchangeFact
from configgen import headerfile

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*/expected-*.h"))


def line_of(path: Path) -> str:
    return path.stem.removeprefix("expected-")


@cache
def target(case: str, line: str):
    profile = profiles.load(GOLDEN / case / "profile.toml", line)
    return generate(profile, "mbedtls_config.h", None, None, offline=True)


def needed(case: str, line: str):
    return target(case, line).options


def reviewed(header, case: str, line: str):
    return review(header, needed(case, line), knowledge.load(line), causes.load(),
                  causes.security(), causes.sizes()[line], servers=target(case, line).servers)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}-{line_of(p)}")
def test_a_golden_header_needs_nothing(path):
    found = reviewed(readers.read_header(path), path.parent.name, line_of(path))
    assert not found.failing
    assert [f.kind for f in found.findings if f.kind not in ("risky", "unmaintained")] == []
    # what it weakens on purpose is said, with the reason it is needed
    assert all("needed:" in f.detail for f in found.of("risky"))


def golden(case: str, line: str):
    return readers.read_header(GOLDEN / case / f"expected-{line}.h")


def test_missing_sha1_predicts_the_parse_error_of_the_root():
    found = reviewed(headerfile.with_setting(golden("sha1-root-rsa4096-large-chain", "2.28"), "MBEDTLS_SHA1_C", False), "sha1-root-rsa4096-large-chain", "2.28")
    assert found.failing
    [missing] = found.of("missing")
    assert missing.option == "MBEDTLS_SHA1_C"
    assert missing.predicted[0] == "-0x262E X509_UNKNOWN_SIG_ALG + OID_NOT_FOUND"
    assert "sha1WithRSAEncryption" in missing.reasons[0]


def test_too_small_rsa_size_and_input_buffer():
    header = headerfile.with_setting(golden("sha1-root-rsa4096-large-chain", "2.28"), "MBEDTLS_MPI_MAX_SIZE", True, "256")
    [small] = reviewed(header, "sha1-root-rsa4096-large-chain", "2.28").of("too small")
    assert small.option == "MBEDTLS_MPI_MAX_SIZE" and "-0x3B00 PK_INVALID_PUBKEY" in small.predicted
    header = golden("mfl-small-heap", "2.28")
    need = int(header.active()["MBEDTLS_SSL_IN_CONTENT_LEN"])
    found = reviewed(headerfile.with_setting(header, "MBEDTLS_SSL_IN_CONTENT_LEN", True, str(need // 2)),
                     "mfl-small-heap", "2.28")
    [small] = found.of("too small")
    assert small.predicted[0] == "-0x7100 SSL_BAD_INPUT_DATA"


@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_a_missing_dependency_is_the_error_check_config_raises(line):
    header = golden("rsa2048-ecdhe-rsa-gcm", line)
    dependency = next(d.name for d in header.defines
                      if d.reasons and d.reasons[0].startswith("mbedTLS") and "check_config" in d.reasons[0])
    found = reviewed(headerfile.with_setting(header, dependency, False), "rsa2048-ecdhe-rsa-gcm", line)
    assert found.of("does not compile") and found.of("missing")[0].option == dependency


def test_a_missing_suite_ingredient_predicts_the_servers_alert():
    found = reviewed(headerfile.with_setting(golden("rsa2048-ecdhe-rsa-gcm", "3.6"), "MBEDTLS_GCM_C", False),
                     "rsa2048-ecdhe-rsa-gcm", "3.6")
    [missing] = found.of("missing")
    assert missing.option == "MBEDTLS_GCM_C" and missing.predicted[0].startswith("-0x7780")


def test_the_mbedtls_default_header_is_mostly_unneeded_and_risky(trees):
    for line, tree in trees.items():
        found = reviewed(readers.read_header(tree.config_header), "rsa2048-ecdhe-rsa-gcm", line)
        risky = {f.option for f in found.of("risky")}
        assert {"MBEDTLS_KEY_EXCHANGE_RSA_ENABLED", "MBEDTLS_DES_C"} <= risky
        assert len(found.of("unneeded")) > 80
        assert found.unneeded_bytes > 100_000
        camellia = next(f for f in found.of("unneeded") if f.option == "MBEDTLS_CAMELLIA_C")
        assert camellia.size and camellia.detail.endswith("KB of code)")
        assert not found.of("does not compile")


def test_the_36_default_header_walks_into_the_rsa_pss_defect(trees):
    found = reviewed(readers.read_header(trees["3.6"].config_header), "rsa2048-ecdhe-rsa-gcm", "3.6")
    [defect] = found.of("known defect")
    assert defect.option == "MBEDTLS_SSL_PROTO_TLS1_3" and found.failing
    assert defect.predicted == ("-0x6600 SSL_ILLEGAL_PARAMETER",)
    without = headerfile.with_setting(readers.read_header(trees["3.6"].config_header), "MBEDTLS_SSL_PROTO_TLS1_3", False)
    assert not reviewed(without, "rsa2048-ecdhe-rsa-gcm", "3.6").of("known defect")
    assert not reviewed(readers.read_header(trees["2.28"].config_header), "rsa2048-ecdhe-rsa-gcm",
                        "2.28").failing


def _servers(case: str, line: str, **changed):
    return [replace(s, **changed) for s in target(case, line).servers]


@pytest.mark.parametrize("header, servers, bites", [
    # the servers' facts judge, not what the target needs: a server that also speaks TLS
    # 1.3 negotiates it, one that signs with PKCS#1 v1.5 is never refused
    ("default", {}, True),
    ("default", {"versions": ("1.2", "1.3")}, False),
    ("default", {"key_exchanges": (KeyExchangeFact("ECDHE_RSA", "x25519", None, "rsa_pkcs1_sha256"),)}, False),
    # without MBEDTLS_X509_RSASSA_PSS_SUPPORT the client offers no rsa_pss_rsae_* at all
    ("no-pss", {}, False),
])
def test_the_rsa_pss_defect_bites_on_what_the_header_and_server_really_do(trees, header, servers, bites):
    text = readers.read_header(trees["3.6"].config_header)
    if header == "no-pss":
        text = headerfile.with_setting(text, "MBEDTLS_X509_RSASSA_PSS_SUPPORT", False)
    found = review(text, needed("rsa2048-ecdhe-rsa-gcm", "3.6"), knowledge.load("3.6"), causes.load(),
                   causes.security(), causes.sizes()["3.6"],
                   servers=_servers("rsa2048-ecdhe-rsa-gcm", "3.6", **servers))
    assert bool(found.of("known defect")) == bites
    assert not found.of("does not compile")


@pytest.mark.parametrize("line", LINES)
def test_a_dhe_client_key_exchange_over_the_output_buffer_is_the_dhm_defect(trees, line):
    """An 8192-bit DHE group makes a 1,030-byte ClientKeyExchange: with a 1,024-byte output
    buffer mbedtls_dhm_make_public() writes past its content length (2.28.3 and 3.6.x)."""
    dhe = _servers("rsa2048-ecdhe-rsa-gcm", line, versions=("1.2",),
                   key_exchanges=(KeyExchangeFact("DHE_RSA", None, 8192, "rsa_pkcs1_sha256"),))
    default = readers.read_header(trees[line].config_header)

    def defects(size: str):
        header = headerfile.with_setting(default, "MBEDTLS_SSL_OUT_CONTENT_LEN", True, size)
        return review(header, needed("rsa2048-ecdhe-rsa-gcm", line), knowledge.load(line), causes.load(),
                      causes.security(), causes.sizes()[line], servers=dhe).of("known defect")

    [defect] = defects("1024")
    assert defect.option == "MBEDTLS_SSL_OUT_CONTENT_LEN" and defect.predicted == ("-0x6C00 SSL_INTERNAL_ERROR",)
    assert "a ClientKeyExchange of 1,030 bytes, larger than MBEDTLS_SSL_OUT_CONTENT_LEN 1,024" in defect.detail
    assert defects("1030") == ()


@pytest.mark.parametrize("line", LINES)
def test_security_data_names_options_of_the_line(line):
    names = {o.name for o in knowledge.load(line).options}
    listed = [r for r in causes.security().risky if line in r.lines]
    assert listed and [r.name for r in listed if r.name not in names] == []


def test_cli_review(tmp_path, capsys):
    case = GOLDEN / "sha1-root-rsa4096-large-chain"
    profile = str(case / "profile.toml")
    assert main(["review", str(case / "expected-2.28.h"), "--profile", profile, "--offline"]) == 0
    broken = tmp_path / "config.h"
    broken.write_text(headerfile.with_setting(golden("sha1-root-rsa4096-large-chain", "2.28"), "MBEDTLS_SHA1_C", False).text)
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
