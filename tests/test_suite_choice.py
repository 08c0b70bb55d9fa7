"""Suites and groups are chosen by what they cost the device, as the board weighs it.

Against one real server that accepts both DHE-RSA and ECDHE-RSA (RSA-2048): the default
priority (future, flash, compute, heap) prefers the key exchange mbedTLS 4.0 still has,
ECDHE-RSA; a board that puts flash first takes DHE-RSA, smaller but twice the computation;
and the via line says what the runner-up would cost. Offline, from the same facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from configgen import costs, headerfile
from configgen import profile as profiles
from configgen.generate import generate
from configgen.prove import Mode
from e2e_scenarios import CERTS, openssl
from probe_servers import LOOPBACK

BOARD = (Path(__file__).parent.parent / "profiles" / "linux-host.toml").read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("choice")
    with openssl("-cert", "rsa2048-server.pem", "-key", "rsa2048-server.key", "-tls1_2", "-cipher",
                 "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")(work) as port:
        yield port


def _chosen(tmp_path: Path, port: int, line: str, priority: str | None) -> str:
    board = tmp_path / "board.toml"
    board.write_text(BOARD.replace('name = "linux-host"', 'name = "weighed"').replace(
        "accelerated = []\n", "accelerated = []\n" + (f"priority = {priority}\n" if priority else "")))
    profile = tmp_path / "tls.toml"
    profile.write_text(f'board = "{board}"\nmbedtls = "{line}"\n\n[[server]]\nhost = "{LOOPBACK}"\n'
                       f'port = {port}\nsni = "localhost"\napp_record_max = 1024\n\n'
                       f'[trust]\nca = ["{CERTS / "rsa2048-root.pem"}"]\n')
    header = generate(profiles.load(profile), "mbedtls_config.h", verify=Mode.OFF).text
    return headerfile.parse(header, "h").active()["MBEDTLS_SSL_CIPHERSUITES"] + "\n" + header


@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_the_board_priority_decides_between_dhe_and_ecdhe(server, tmp_path, line):
    default = _chosen(tmp_path, server, line, None)
    assert default.startswith("MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n")
    assert "runner-up 0x009E TLS-DHE-RSA-WITH-AES-128-GCM-SHA256" in default
    assert f"removed in mbedTLS {costs.next_line()}" in default
    flash_first = _chosen(tmp_path, server, line, '["flash", "compute", "heap"]')
    assert flash_first.startswith("MBEDTLS_TLS_DHE_RSA_WITH_AES_128_GCM_SHA256\n")
    compute_first = _chosen(tmp_path, server, line, '["compute", "flash"]')
    assert compute_first.startswith("MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n")
    assert "MBEDTLS_ECP_DP_CURVE25519_ENABLED" in compute_first  # the cheapest group to compute


def test_a_dh_prime_beyond_the_measured_sizes_costs_more():
    small, _ = costs.handshake("2.28", "DHE_RSA", 2048)
    large, _ = costs.handshake("2.28", "DHE_RSA", 8192)
    assert small and large and large > 8 * small


def test_a_board_priority_names_known_criteria(tmp_path):
    board = tmp_path / "board.toml"
    board.write_text(BOARD.replace("accelerated = []\n", 'accelerated = []\npriority = ["speed"]\n'))
    with pytest.raises(profiles.ProfileError, match="priority"):
        profiles.load_board(str(board))
