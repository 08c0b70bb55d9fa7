"""The golden headers work: each compiles against real mbedTLS with check_config.h clean,
links with the test client (no undefined reference), and completes a handshake and one
application-data round trip with the server the case was recorded from, on 127.0.0.1."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from configgen import mbedbuild, sources
from configgen import profile as profiles
from configgen.generate import generate
from probe_servers import LOOPBACK, free_port, process_server
from test_golden import GOLDEN, PARAMS

CLIENT = Path(__file__).parent.parent / "configgen" / "data" / "client.c"


def build_client(tree, header: str, work: Path) -> Path:
    assert mbedbuild.check_config(tree, header) == ""
    library = mbedbuild.build_library(tree, header)
    return mbedbuild.build_program(library, CLIENT, work / "client")


def client_arguments(profile, header: str) -> list[str]:
    args = ["--name", "localhost"]
    if profile.client_cert:
        args += ["--cert", str(profile.client_cert), "--key", str(profile.client_key)]
    mfl = re.search(r"MBEDTLS_SSL_MAX_FRAG_LEN_(\d+)", header)
    if mfl:
        args += ["--mfl", mfl.group(1)]
    return args


@pytest.mark.mbedtls
@pytest.mark.parametrize(("case", "line"), PARAMS, ids=[f"{c}-{l}" for c, l in PARAMS])
def test_golden_header_handshakes(case, line, tmp_path):
    folder = GOLDEN / case
    profile = profiles.load(folder / "profile.toml", line)
    header = generate(profile, "mbedtls_config.h", offline=True).text
    client = build_client(sources.find_tree(line), header, tmp_path)
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-rev", "-quiet",
            *shlex.split((folder / "s_server.args").read_text())]
    with process_server(argv, port, cwd=folder):
        result = subprocess.run(
            [str(client), LOOPBACK, str(port), str(profile.ca[0]), *client_arguments(profile, header)],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 0 and result.stdout.startswith("ok:"), result.stdout + result.stderr
