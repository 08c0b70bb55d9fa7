"""diff: two headers, exactly the options that changed, security-relevant first, reasons
carried; Markdown for a pull request."""

from __future__ import annotations

from pathlib import Path

from configgen import kb as knowledge
from configgen.advise import causes
from configgen.advise.diff import diff
from configgen.cli import main
from configgen.report import markdown
from configgen import readers
from configgen import headerfile

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*/expected-*.h"))


def run(old, new, line="2.28"):
    return diff(old, new, knowledge.load(line), causes.security())


def test_two_generated_headers_list_exactly_the_changed_options():
    headers = [readers.read_header(p) for p in CASES]
    for old in headers:
        for new in headers:
            if old.line_hint != new.line_hint:
                continue
            found = run(old, new, new.line_hint)
            before, after = old.active(), new.active()
            changed = {n for n in before.keys() | after.keys()
                       if (n in before, before.get(n)) != (n in after, after.get(n))}
            assert sorted(found.options) == sorted(changed)
            assert len(found.options) == len(set(found.options))
            if old is new:
                assert found.changes == ()


def test_security_first_reasons_carried_and_suites_named():
    old = readers.read_header(GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-2.28.h")
    new = old
    for name, active, value in (("MBEDTLS_SHA1_C", True, None), ("MBEDTLS_NET_C", False, None),
                                ("MBEDTLS_SSL_CIPHERSUITES", True, "MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                                ("MBEDTLS_MPI_MAX_SIZE", True, "512")):
        new = headerfile.with_setting(new, name, active, value)
    found = run(old, new)
    assert found.options == ("MBEDTLS_SHA1_C", "MBEDTLS_SSL_CIPHERSUITES", "MBEDTLS_NET_C",
                             "MBEDTLS_MPI_MAX_SIZE")
    sha1, suites, net, _ = found.changes
    assert sha1.security.startswith("weakens security") and net.security is None
    assert suites.suites_added == ("MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",)
    assert suites.suites_removed == ("MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",)
    assert net.old.reasons == ('board linux-host (profiles/linux-host.toml): network = "bsd-sockets"',)
    text = markdown.header_diff(found)
    assert text.index("#### Security-relevant") < text.index("#### Other changes")
    assert '- was: _board linux-host (profiles/linux-host.toml): network = "bsd-sockets"_' in text
    assert "suites added: MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in text


def test_weakening_in_the_banner_is_reported(capsys):
    old = GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-2.28.h"
    new = GOLDEN / "sha1-root-rsa4096-large-chain" / "expected-2.28.h"
    assert main(["diff", str(old), str(new), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "**Newly weakened on purpose:** SHA-1 parsing" in out
    assert out.index("MBEDTLS_SHA1_C") < out.index("MBEDTLS_NET_C")
    assert main(["diff", str(old), str(old)]) == 0
    assert capsys.readouterr().out.startswith("no option changed")


def test_hand_written_against_generated(trees, capsys):
    tree = trees["3.6"]
    new = GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-3.6.h"
    assert main(["diff", str(tree.config_header), str(new)]) == 0
    out = capsys.readouterr().out
    assert "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED disabled" in out
    assert "no longer weakened: RSA key exchange has no forward secrecy" in out


def test_cli_diff_bad_input(tmp_path, capsys):
    bad = tmp_path / "x.h"
    bad.write_bytes(b"\x00\xff")
    good = GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-3.6.h"
    assert main(["diff", str(bad), str(good)]) == 2
    assert capsys.readouterr().err.startswith("configgen: ")
