"""generate proves a header before writing it: built against real mbedTLS, a handshake and a
round trip with every live server. What a user sees when that works, when it fails (nothing
written, the failure explained), and when it cannot be tried."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_scenarios import CERTS, openssl, profile_toml
from probe_servers import LOOPBACK, free_port, process_server



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("verify-server")
    with openssl("-cert", "p256-server.pem", "-key", "p256-server.key", "-tls1_2")(work) as port:
        yield port


def _generate(tmp_path: Path, port: int, *args: str, line: str = "3.6", extra: str = "",
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "tls.toml"
    profile.write_text(profile_toml(line, port, CERTS / "p256-root.pem") + extra)
    return subprocess.run([sys.executable, "-m", "configgen", "generate", "--profile", str(profile), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL, timeout=600)


@pytest.mark.mbedtls
@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_the_banner_records_what_was_verified(server, tmp_path, line):
    result = _generate(tmp_path, server, "-o", str(tmp_path / "h.h"), line=line)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "h.h").read_text()
    assert " * Verified before writing\n" in text
    assert f"{LOOPBACK}:{server}: mbedTLS {line}." in text and "and one round trip" in text


@pytest.mark.mbedtls
def test_a_header_that_fails_on_the_server_is_not_written(server, tmp_path):
    """An input buffer forced below the server's Certificate message: the handshake fails,
    the user reads the code decoded and what to do, exit 1, and the old header is untouched."""
    old = tmp_path / "h.h"
    old.write_text("/* the previous header */\n")
    extra = '\n[overrides.enable]\nMBEDTLS_SSL_IN_CONTENT_LEN = { value = 256, reason = "squeeze" }\n'
    result = _generate(tmp_path, server, "-o", str(old), extra=extra)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"configgen: {LOOPBACK}:{server}: the generated header fails with mbedTLS 3.6.6: error -0x")
    assert "in mbedtls_ssl_handshake" in lines[0]
    assert any("nothing was written" in line for line in lines[1:])
    assert "Traceback" not in result.stderr
    assert old.read_text() == "/* the previous header */\n"
    assert not list(tmp_path.glob("h.h.*"))


def test_without_sources_it_says_so_and_marks_the_header(server, tmp_path):
    """No mbedTLS tree at hand (an empty cache): one warning line and an unverified banner;
    with --verify, exit 1 and nothing written; --no-verify says nothing at all."""
    env = {"CONFIGGEN_CACHE": str(tmp_path / "empty-cache"), "CONFIGGEN_MBEDTLS_SRC": ""}
    auto = _generate(tmp_path, server, "-o", str(tmp_path / "auto.h"), env=env)
    assert auto.returncode == 0, auto.stderr
    assert "configgen: warning: the header is unverified: no mbedTLS 3.6.6 sources" in auto.stderr
    assert " *   not verified: no mbedTLS 3.6.6 sources" in (tmp_path / "auto.h").read_text()
    required = _generate(tmp_path, server, "-o", str(tmp_path / "required.h"), "--verify", env=env)
    assert required.returncode == 1
    assert required.stderr.startswith("configgen: cannot verify the header: no mbedTLS 3.6.6 sources")
    assert not (tmp_path / "required.h").exists()
    off = _generate(tmp_path, server, "-o", str(tmp_path / "off.h"), "--no-verify", env=env)
    assert off.returncode == 0 and "unverified" not in off.stderr
    assert "Verified" not in (tmp_path / "off.h").read_text()


@pytest.mark.mbedtls
def test_a_server_that_does_not_answer_the_test_message_still_proves_the_handshake(tmp_path):
    """A server that completes the handshake but never answers what the client sends (here
    `openssl s_server` without -rev, which only prints it): the banner says the handshake
    and that the round trip was not tried, and the header is written."""
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-quiet", "-tls1_2",
            "-cert", "p256-server.pem", "-key", "p256-server.key"]
    with process_server(argv, port, cwd=CERTS):
        result = _generate(tmp_path, port, "-o", str(tmp_path / "h.h"))
    assert result.returncode == 0, result.stderr
    assert "the server did not answer the test message: round trip not tried" in (tmp_path / "h.h").read_text()
