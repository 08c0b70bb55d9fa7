"""`configgen inspect` end to end: text (problems first), JSON, exit codes, chain messages,
and the 3.6 extension callback compiled against real mbedTLS."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from pki import PRIVATE_POLICY_OID, UNKNOWN_EXTENSION_OID, scenarios

from configgen import cli, mbedbuild, sources
from configgen import kb as kbmod
from configgen.kb import extract_x509, model

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli")
    cases = {c.name: c for c in scenarios(NOW)}
    for case in cases.values():
        case.write(directory)
    return cases


@pytest.fixture(autouse=True)
def fresh_x509(monkeypatch, trees):
    """The CLI loads the committed KB; give it the X.509 tables extracted from the trees."""
    tables = {line: extract_x509.extract(tree)["x509"] for line, tree in trees.items()}
    monkeypatch.setattr(kbmod, "load", lambda line: dataclasses.replace(model.load(line), x509=tables[line]))


def _run(capsys, *args):
    code = cli.main(["inspect", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_ok_chain_exit_0(capsys, pki):
    case = pki["ok"]
    code, out, err = _run(capsys, case.files["chain"], "--ca", case.files["ca"], "--host", "server.example")
    assert code == 0 and err == ""
    assert out.startswith("No problems found.")
    assert "mbedTLS 2.28: verifies" in out and "mbedTLS 3.6: verifies" in out
    assert "MBEDTLS_PEM_PARSE_C" in out and "MBEDTLS_ECP_DP_SECP256R1_ENABLED" in out


@pytest.mark.parametrize("name,expected", [
    ("wrong-anchor", ("the server's chain ends at 'Test Intermediate CA', issued by "
                      "'CN=Test Root CA,O=configgen tests'; you trust 'Other Root CA'")),
    ("missing-intermediate", "the server omits the intermediate CA 'CN=Test Intermediate CA,O=configgen tests'"),
    ("host-mismatch", "the server certificate 'server.example' is for server.example, not other.example"),
    ("ca-false-issuer", "which is not a CA (basicConstraints CA:false)"),
    ("expired", "'server.example' expired on"),
    ("sha1-leaf", "default verification profile refuses (BAD_MD)"),
    ("rsa1024", "has an RSA-1024 key, which mbedTLS 2.28 and 3.6's default profile refuses (BAD_KEY)"),
    ("ed25519", "which no configuration of mbedTLS 2.28 and 3.6 can parse"),
])
def test_chain_diagnosis_problems_first_exit_1(capsys, pki, name, expected):
    case = pki[name]
    code, out, _ = _run(capsys, case.files["chain"], "--ca", case.files["ca"], "--host", case.host)
    assert code == 1
    assert out.startswith("Problems\n  error")
    assert expected in out


def test_anchor_is_intermediate_is_a_note(capsys, pki):
    case = pki["anchor-is-intermediate"]
    code, out, _ = _run(capsys, case.files["chain"], "--ca", case.files["ca"])
    assert code == 0
    assert "note    [2.28 and 3.6] the trust anchor 'Test Intermediate CA' is an intermediate CA" in out


def test_json_schema(capsys, pki):
    case = pki["wrong-anchor"]
    code, out, _ = _run(capsys, case.files["chain"], "--ca", case.files["ca"], "--json", "--at", NOW.isoformat())
    data = json.loads(out)
    assert code == 1 and data["schema"] == 1 and data["lines"] == ["2.28", "3.6"]
    assert set(data) == {"schema", "at", "host", "lines", "files", "file_needs", "verdicts", "file_verdicts", "keys",
                         "chains", "problems"}
    assert data["chains"]["3.6"]["flags"] == 8
    assert data["chains"]["3.6"]["flag_names"] == ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]
    assert [p["severity"] for p in data["problems"]] == sorted(
        (p["severity"] for p in data["problems"]), key=["error", "warning", "note"].index)
    cert = data["files"][0]["certificates"][0]
    assert "der" not in cert and cert["public_key"]["curve"] == "secp256r1"


def test_sha1_root_needs_sha1_even_as_root(capsys, pki):
    case = pki["sha1-root"]
    code, out, _ = _run(capsys, case.files["ca"], "--mbedtls", "3.6", "--json")
    data = json.loads(out)
    needs = {n["option"] for n in data["verdicts"]["3.6"][0]["needs"]}
    assert "MBEDTLS_SHA1_C" in needs and code == 0


def test_bad_date(capsys, pki):
    code, _, err = _run(capsys, pki["ok"].files["chain"], "--at", "yesterday")
    assert code == 2 and err.startswith("configgen: --at: 'yesterday' is not a date")


def test_critical_policy_text_per_version(capsys, pki):
    case = pki["critical-policy"]
    _, out, _ = _run(capsys, case.files["chain"])
    assert "define MBEDTLS_X509_ALLOW_UNSUPPORTED_CRITICAL_EXTENSION" in out and "Security warning" in out
    assert "no configuration of mbedTLS 3.6 accepts this certificate when the server sends it" in out
    assert "Extension callback" not in out  # a server's certificate: a callback cannot help


_CALLBACK_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        unsigned char buf[8192];
        size_t n = fread(buf, 1, sizeof buf, f);
        mbedtls_x509_crt crt;
        fclose(f);
        mbedtls_x509_crt_init(&crt);
        printf("%d %d\n", mbedtls_x509_crt_parse_der(&crt, buf, n),
               (mbedtls_x509_crt_free(&crt), mbedtls_x509_crt_init(&crt),
                mbedtls_x509_crt_parse_der_with_ext_cb(&crt, buf, n, 1, configgen_accept_extensions, NULL)));
        mbedtls_x509_crt_free(&crt);
    }
    return 0;
}
"""


def test_36_callback_accepts_exactly_the_oids_found(capsys, pki, tmp_path):
    """The printed callback, compiled against real 3.6: the anchor with the private critical
    policy parses through it (and not without it); another unsupported critical extension
    stays refused."""
    policy, unknown = pki["critical-policy"].chain[0], pki["unknown-critical"].chain[0]
    anchor = tmp_path / "anchor.pem"
    anchor.write_bytes(policy.pem())
    _, out, _ = _run(capsys, anchor, "--ca", anchor, "--mbedtls", "3.6", "--json")
    verdict = next(v for v in json.loads(out)["verdicts"]["3.6"] if v["role"] == "anchor")
    assert PRIVATE_POLICY_OID in verdict["callback"]
    assert any("only for certificates the application parses itself" in p["fix"] for p in verdict["problems"])
    tree = sources.find_tree("3.6")
    source = tmp_path / "callback.c"
    source.write_text(verdict["callback"] + _CALLBACK_MAIN)
    library = mbedbuild.build_library(tree, tree.config_header.read_text())
    program = mbedbuild.build_program(library, source, tmp_path / "callback")
    (tmp_path / "policy.der").write_bytes(policy.der())
    (tmp_path / "unknown.der").write_bytes(unknown.der())
    result = subprocess.run([str(program), str(tmp_path / "policy.der"), str(tmp_path / "unknown.der")],
                            capture_output=True, text=True, check=True).stdout.split("\n")
    assert result[0] == f"{-0x2080} 0"  # refused plainly, accepted through the callback
    plain, with_callback = map(int, result[1].split())
    assert plain != 0 and with_callback != 0, UNKNOWN_EXTENSION_OID


_PROBLEM = re.compile(r"^  (error|warning|note) +(\[.*)$")


def test_markdown_for_a_pull_request_says_what_the_text_says(capsys, pki):
    case = pki["wrong-anchor"]
    args = (case.files["chain"], "--ca", case.files["ca"], "--host", case.host, "--at", NOW.isoformat())
    code, text, _ = _run(capsys, *args)
    md_code, markdown, err = _run(capsys, *args, "--format", "markdown")
    assert md_code == code == 1 and err == ""
    assert markdown.startswith("### Certificates and keys for mbedTLS 2.28 and 3.6\n")
    for heading in ("#### Problems (1)", "#### Chain (host `server.example`)", "#### What the device needs",
                    "##### mbedTLS 2.28", "##### mbedTLS 3.6",
                    "##### 1. `CN=server.example,O=configgen tests`",
                    "##### 2. `CN=Test Intermediate CA,O=configgen tests`"):
        assert f"\n{heading}\n" in markdown, heading
    assert "| 3.6 | fails: flags `0x00000008` `MBEDTLS_X509_BADCERT_NOT_TRUSTED` |" in markdown
    assert "| 2.28 | sent by the server | parses | " in markdown
    for line in text.splitlines():
        said = line.strip()
        problem = _PROBLEM.match(line)
        if problem:
            assert f"- **{problem.group(1)}** {problem.group(2)}" in markdown, line
        elif said.startswith(("fix: ", "via ")):
            assert said in markdown, said
        elif said.startswith("MBEDTLS_"):  # a need: OPTION or OPTION >= VALUE
            option, _, value = said.partition(" >= ")
            assert f"- `{option}`" + (f" >= {value}" if value else "") + "\n" in markdown, said
    assert _run(capsys, *args, "--json")[1] == _run(capsys, *args, "--format", "json")[1]


def test_markdown_verdicts_of_the_devices_own_certificate_and_key(capsys):
    certs = Path(__file__).parent / "data" / "certs"
    code, markdown, _ = _run(capsys, certs / "p256-device.pem", certs / "p256-device.key",
                             "--ca", certs / "p256-root.pem", "--format", "markdown")
    assert code == 0
    assert "\nNo problems found.\n" in markdown
    assert "| 3.6 | the device's own (it matches a key given) | parses | " in markdown
    assert "| 3.6 | trust anchor | parses | " in markdown
    assert "\n##### Private key: EC secp256r1\n" in markdown
    assert f"| 3.6 | `{certs / 'p256-device.pem'}` | `MBEDTLS_ECP_DP_SECP256R1_ENABLED`, " in markdown


def test_markdown_shows_the_extension_callback(capsys, pki, tmp_path):
    anchor = tmp_path / "anchor.pem"
    anchor.write_bytes(pki["critical-policy"].chain[0].pem())
    _, out, _ = _run(capsys, anchor, "--ca", anchor, "--mbedtls", "3.6", "--json")
    callback = next(v for v in json.loads(out)["verdicts"]["3.6"] if v["role"] == "anchor")["callback"]
    _, markdown, _ = _run(capsys, anchor, "--ca", anchor, "--mbedtls", "3.6", "--format", "markdown")
    assert f"#### Extension callback for `{anchor}` (mbedTLS 3.6)\n\n```c\n{callback.rstrip()}\n```\n" in markdown
