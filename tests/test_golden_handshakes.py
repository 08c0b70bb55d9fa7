"""The golden headers work: each compiles against real mbedTLS with check_config.h clean,
links with the test client (no undefined reference), and completes a handshake and one
application-data round trip with the server the case was recorded from, on 127.0.0.1."""

from __future__ import annotations

import shlex

import pytest

from configgen import sources
from configgen import profile as profiles
from configgen.generate import generate
from handshake import build_client, integration_arguments, run_client
from probe_servers import LOOPBACK, free_port, process_server
from test_golden import GOLDEN, PARAMS


@pytest.mark.mbedtls
@pytest.mark.parametrize(("case", "line"), PARAMS, ids=[f"{c}-{l}" for c, l in PARAMS])
def test_golden_header_handshakes(case, line, tmp_path):
    folder = GOLDEN / case
    profile = profiles.load(folder / "profile.toml", line)
    header = generate(profile, "mbedtls_config.h", offline=True).text
    client = build_client(sources.find_tree(line), header, tmp_path / "client")
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-rev", "-quiet",
            *shlex.split((folder / "s_server.args").read_text())]
    args = ["--name", "localhost", *integration_arguments(header)]
    if profile.client_cert:
        args += ["--cert", str(profile.client_cert), "--key", str(profile.client_key)]
    with process_server(argv, port, cwd=folder):
        outcome = run_client(client, port, profile.ca[0], *args)
    assert outcome.ok, outcome.text
