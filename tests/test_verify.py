"""configgen verify against real parts: golden headers compile against the real mbedTLS
sources and are measured for Cortex-M4 on both lines; a broken dependency is named by
check_config.h's own #error; handshakes with openssl s_server on 127.0.0.1 succeed, or fail
with the verify failure decoded; bad input is one line and exit 2."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from configgen import readers
from configgen import headerfile
from probe_servers import LOOPBACK, free_port, make_pki, process_server
from test_cli_foundation import _one_line_error, configgen
from test_golden import GOLDEN

CASE = GOLDEN / "rsa2048-ecdhe-rsa-gcm"  # a golden case on both lines
CERTS = GOLDEN.parent / "data" / "certs"
ROOT_CA = CERTS / "rsa2048-root.pem"  # what its server's chain leads to
SUITE = "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384"


def golden(line: str) -> Path:
    return CASE / f"expected-{line}.h"


def verify(*args: str, env: dict[str, str] | None = None):
    return configgen("verify", *args, env=env)


def case_server(case: Path = CASE):
    """The openssl s_server a golden case was recorded from, on a free port."""
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-rev", "-quiet",
            *shlex.split((case / "s_server.args").read_text())]
    return process_server(argv, port, cwd=case)


@pytest.mark.mbedtls
def test_a_golden_header_compiles_and_is_measured(tree):
    result = verify(str(golden(tree.line)), "--mbedtls-src", str(tree.root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == (f"{golden(tree.line)}: mbedTLS {tree.version} (line {tree.line} detected "
                        f"from --mbedtls-src), {tree.root.resolve()}")
    assert lines[1].startswith("  ok    check_config.h: ")
    assert lines[2] == "  ok    library: every library/*.c compiles (cc -O1)"
    size = re.match(r"  size  Cortex-M4 library: text ([\d,]+) B \([\d.]+ KiB\), data [\d,]+ B, "
                    r"bss [\d,]+ B \(arm-none-eabi-gcc -Os -mcpu=cortex-m4 ", lines[3])
    assert size and 20_000 < int(size.group(1).replace(",", "")) < 200_000, lines[3]
    assert lines[4].startswith("        bare metal as mbedTLS's footprint.sh: without ")
    linked = re.match(r"  size  Cortex-M4 firmware: text ([\d,]+) B .*--gc-sections --specs=nano.specs", lines[5])
    assert linked and int(linked.group(1).replace(",", "")) < int(size.group(1).replace(",", "")), lines[5]
    assert lines[6].startswith("        = flash ") and "static RAM" in lines[6]
    assert lines[-1] == "verified"


@pytest.mark.mbedtls
def test_json_for_ci_and_the_line_from_the_banner(tree):
    result = verify(str(golden(tree.line)), "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["ok"] is True and found["version"] == tree.version
    assert found["line_from"] == "from the header's banner"
    assert [s["name"] for s in found["steps"]] == ["check_config.h", "library"]
    assert found["footprint"]["target"] == "Cortex-M4 library" and found["footprint"]["text"] > 20_000
    assert found["handshakes"] == []


@pytest.mark.mbedtls
def test_without_the_arm_toolchain_the_footprint_is_the_hosts_and_says_so(tmp_path):
    bin_dir = tmp_path / "bin"  # the host compiler and binutils, and nothing arm-none-eabi-
    bin_dir.mkdir()
    for tool in ("cc", "ar", "size", "as", "ld"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = verify(str(golden("3.6")), env={"PATH": str(bin_dir)})
    assert result.returncode == 0, result.stderr
    size = [line for line in result.stdout.splitlines() if line.startswith("  size  ")]
    assert size and size[0].startswith("  size  host library: text ") and size[0].endswith("(cc -O1)")
    assert ("        Cortex-M4 skipped: arm-none-eabi-gcc, arm-none-eabi-ar, arm-none-eabi-size not "
            "found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)") in result.stdout


@pytest.mark.mbedtls
def test_a_broken_dependency_fails_with_check_configs_error(tree, tmp_path):
    header = headerfile.with_setting(readers.read_header(golden(tree.line)), "MBEDTLS_BIGNUM_C", False)
    broken = tmp_path / "mbedtls_config.h"
    broken.write_text(header.text)
    result = verify(str(broken), "--mbedtls-src", str(tree.root))
    assert result.returncode == 1
    assert result.stderr == ""
    assert "  FAIL  check_config.h: mbedTLS's check_config.h rejects the header\n" in result.stdout
    assert re.search(r'^        include/mbedtls/check_config\.h:\d+: #error "MBEDTLS_RSA_C defined, '
                     r'but not all prerequisites"$', result.stdout, re.MULTILINE), result.stdout
    assert "  size  not measured: the header does not build\n" in result.stdout
    assert result.stdout.splitlines()[-1] == "FAILED: check_config.h"


@pytest.mark.mbedtls
def test_a_handshake_with_openssl_s_server_succeeds():
    with case_server() as port:
        result = verify(str(golden("3.6")), "--server", f"{LOOPBACK}:{port}", "--ca", str(ROOT_CA),
                        "--name", "localhost")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  ok    client: configgen's test client (configgen/data/client.c) links\n" in result.stdout
    assert (f"  ok    handshake {LOOPBACK}:{port} as localhost: {SUITE}, one round trip\n"
            in result.stdout)
    heap = re.search(r"^        heap: peak ([\d,]+) B \([\d.]+ KiB\) on this host \(valgrind massif",
                     result.stdout, re.MULTILINE)
    assert heap and 4_000 < int(heap.group(1).replace(",", "")) < 100_000, result.stdout
    assert result.stdout.splitlines()[-1] == "verified"


@pytest.mark.mbedtls
def test_the_device_presents_its_certificate_to_a_server_that_requires_one():
    case = GOLDEN / "p256-ccm8-client-auth"
    header = str(case / "expected-3.6.h")
    trust = ("--ca", str(CERTS / "p256-root.pem"), "--name", "localhost")
    device = ("--cert", str(CERTS / "p256-device.pem"), "--key", str(CERTS / "p256-device.key"))
    with case_server(case) as port:
        presented = verify(header, "--server", f"{LOOPBACK}:{port}", *trust, *device)
        withheld = verify(header, "--server", f"{LOOPBACK}:{port}", *trust)
    assert presented.returncode == 0, presented.stdout + presented.stderr
    assert (f"  ok    handshake {LOOPBACK}:{port} as localhost: TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8, "
            "one round trip\n") in presented.stdout
    assert withheld.returncode == 1
    assert "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE" in withheld.stdout


@pytest.mark.mbedtls
def test_a_server_whose_ca_is_not_loaded_fails_with_the_verify_flags_decoded(tmp_path):
    other = make_pki(tmp_path / "other")  # an RSA-2048 root the header parses, not the server's
    with case_server() as port:
        text = verify(str(golden("2.28")), "--server", f"{LOOPBACK}:{port}", "--ca", str(other.ca),
                      "--name", "localhost")
        machine = verify(str(golden("2.28")), "--server", f"{LOOPBACK}:{port}", "--ca", str(other.ca),
                         "--name", "localhost", "--json")
    assert text.returncode == 1 and text.stderr == ""
    out = text.stdout
    assert f"  FAIL  handshake {LOOPBACK}:{port} as localhost: error -0x2700 in mbedtls_ssl_handshake\n" in out
    assert "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED" in out
    assert "verify flags 0x00000008 (mbedTLS 2.28.3)" in out
    assert "MBEDTLS_X509_BADCERT_NOT_TRUSTED: The certificate is not correctly signed by the trusted CA" in out
    assert out.splitlines()[-1] == f"FAILED: handshake with {LOOPBACK}:{port}"
    assert machine.returncode == 1
    (shake,) = json.loads(machine.stdout)["handshakes"]
    assert shake["ok"] is False and shake["code"]["code"] == -0x2700
    assert [f["flag"]["name"] for f in shake["flags"]["flags"]] == ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    header = str(golden("3.6"))
    missing = tmp_path / "nope.h"
    assert _one_line_error(verify(str(missing))) == \
        f"configgen: {missing}: no such file"
    readme = str(GOLDEN / "README.md")
    assert "this is not a C config header" in _one_line_error(verify(readme))
    assert _one_line_error(verify(header, "--mbedtls-src", str(tmp_path))).startswith(
        f"configgen: {tmp_path}: not an mbedTLS source tree")
    assert _one_line_error(verify(header, "--server", "127.0.0.1:4433")) == \
        "configgen: --server needs --ca FILE: the trust anchors the device loads"
    assert _one_line_error(verify(header, "--server", "127.0.0.1:0", "--ca", str(ROOT_CA))) == \
        "configgen: 127.0.0.1:0: expected HOST[:PORT] with a port from 1 to 65535"
    assert _one_line_error(verify(header, "--server", "127.0.0.1:4433", "--ca", readme)) == \
        f"configgen: {readme}: is neither PEM nor DER (a certificate, PKCS#7, PKCS#12 or private key)"


def test_files_and_flags_the_test_client_cannot_use_are_one_line_and_exit_2(tmp_path):
    header, server = str(golden("3.6")), ("--server", "127.0.0.1:4433")
    device_cert, device_key = str(CERTS / "p256-device.pem"), CERTS / "p256-device.key"
    assert _one_line_error(verify(header, "--ca", str(ROOT_CA), "--name", "x")) == \
        "configgen: --ca, --name: only used with --server HOST:PORT"
    assert _one_line_error(verify(header, "--cert", device_cert)) == \
        "configgen: --cert and --key go together: the device's certificate and its key"
    assert _one_line_error(verify(header, "--cert", device_cert, "--key", device_cert)) == \
        f"configgen: {device_cert}: holds no key"
    key = serialization.load_pem_private_key(device_key.read_bytes(), None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"secret")))
    assert _one_line_error(verify(header, "--cert", device_cert, "--key", str(encrypted))) == \
        f"configgen: {encrypted}: is encrypted: verify's test client loads unencrypted PEM or DER files only"
    bundle = tmp_path / "ca.p7b"
    bundle.write_bytes(pkcs7.serialize_certificates(
        [x509.load_pem_x509_certificate(ROOT_CA.read_bytes())], serialization.Encoding.PEM))
    assert _one_line_error(verify(header, *server, "--ca", str(bundle))) == \
        f"configgen: {bundle}: is pkcs7-pem: verify's test client loads PEM or DER files only"
    assert _one_line_error(verify(header, *server, "--ca", str(ROOT_CA), "--send", "")) == \
        "configgen: --send needs some text: the server answers what the device sends"


@pytest.mark.mbedtls
def test_a_header_for_the_other_line_is_refused(trees):
    other = trees["2.28"].root.resolve()  # as --mbedtls-src names it
    line = _one_line_error(verify(str(golden("3.6")), "--mbedtls-src", str(other)))
    assert line == (f"configgen: {golden('3.6')}: is a configgen header for mbedTLS 3.6, the sources "
                    f"are mbedTLS 2.28.3 ({other})")


@pytest.mark.mbedtls
def test_an_unreachable_server_is_one_line_and_exit_2():
    port = free_port()  # nothing listens there
    result = verify(str(golden("3.6")), "--server", f"{LOOPBACK}:{port}", "--ca", str(ROOT_CA))
    assert _one_line_error(result) == f"configgen: {LOOPBACK}:{port}: cannot connect: Connection refused"
    unknown = _one_line_error(verify(str(golden("3.6")), "--server", "no-such-host.invalid:443", "--ca", str(ROOT_CA)))
    assert unknown.startswith("configgen: no-such-host.invalid:443: cannot resolve host name: ")


@pytest.mark.mbedtls
def test_the_firmware_parses_the_devices_own_certificate_only_when_it_has_one():
    header = str(GOLDEN / "p256-ccm8-client-auth" / "expected-3.6.h")
    device = ("--cert", str(CERTS / "p256-device.pem"), "--key", str(CERTS / "p256-device.key"))

    def firmware(*args: str) -> int:
        result = verify(header, "--json", *args)
        assert result.returncode == 0, result.stderr
        found = json.loads(result.stdout)["firmware"]
        assert found["target"] == "Cortex-M4 firmware"
        return found["text"]

    assert firmware(*device) > firmware()


@pytest.mark.mbedtls
def test_markdown_for_a_pull_request_says_what_the_text_says(tmp_path):
    other = make_pki(tmp_path / "other")  # the handshake fails, so its error is decoded
    args = (str(golden("2.28")), "--ca", str(other.ca), "--name", "localhost")
    with case_server() as port:
        where = f"{LOOPBACK}:{port}"
        text = verify(args[0], "--server", where, *args[1:])
        shown = verify(args[0], "--server", where, *args[1:], "--format", "markdown")
    assert shown.returncode == text.returncode == 1 and shown.stderr == ""
    out = shown.stdout
    assert out.startswith(f"### Verification of `{golden('2.28')}`\n\n**Failed:** handshake with `{where}`.\n")
    for heading in ("#### Build", "#### Footprint", "#### Handshakes", f"#### Why the handshake with `{where}` failed",
                    "##### `-0x2700` (-9984)", "###### mbedTLS 2.28.3",
                    "##### Verify flags `0x00000008` (mbedTLS 2.28.3)"):
        assert f"\n{heading}\n" in out, heading
    assert f"- **FAIL** `{where}` as `localhost`: `error -0x2700 in mbedtls_ssl_handshake`" in out
    for line in text.stdout.splitlines():
        step = re.match(r"  (ok|FAIL) +([^ :]+): (.*)$", line)
        if step and not line.startswith(("  ok    handshake", "  FAIL  handshake")):
            assert f"| {step.group(2)} | {'ok' if step.group(1) == 'ok' else '**FAIL**'} | {step.group(3)} |" in out
        for size in re.findall(r"(?:text|data|bss) ([\d,]+ B)", line):
            assert f"| {size}" in out, size
        for name in re.findall(r"MBEDTLS_[A-Z0-9_]+", line):
            assert name in out, name


@pytest.mark.mbedtls
def test_markdown_shows_check_configs_errors(tree, tmp_path):
    header = headerfile.with_setting(readers.read_header(golden(tree.line)), "MBEDTLS_BIGNUM_C", False)
    broken = tmp_path / "mbedtls_config.h"
    broken.write_text(header.text)
    result = verify(str(broken), "--mbedtls-src", str(tree.root), "--format", "markdown")
    assert result.returncode == 1 and result.stderr == ""
    assert "\n**Failed:** check_config.h.\n" in result.stdout
    assert "| check_config.h | **FAIL** | mbedTLS's check_config.h rejects the header |" in result.stdout
    errors = result.stdout.partition("\ncheck_config.h:\n\n```text\n")[2].partition("\n```\n")[0]
    assert re.search(r'^include/mbedtls/check_config\.h:\d+: #error "MBEDTLS_RSA_C defined, but not all '
                     r'prerequisites"$', errors, re.MULTILINE), result.stdout
    assert "\n#### Footprint\n\nNot measured: the header does not build\n" in result.stdout
