"""Golden headers: every case in tests/golden/ regenerates to the committed text.

A case is a folder with profile.toml, the recorded server.json and expected-<line>.h for
each mbedTLS line it covers (the profile's own line, else every line of its board).
`pytest --update-golden` rewrites the expected files; review their diff like code.
"""

from __future__ import annotations

import difflib
import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest

from configgen import __version__
from configgen import profile as profiles
from configgen.generate import generate

GOLDEN = Path(__file__).parent / "golden"
ROOT = GOLDEN.parent.parent
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "profile.toml").is_file())
OUTPUT = "mbedtls_config.h"


def _lines(case: str) -> list[str]:
    declared = profiles.read_toml(GOLDEN / case / "profile.toml").get("mbedtls")
    if declared:
        return [declared]
    return list(profiles.load(GOLDEN / case / "profile.toml").board.mbedtls)


PARAMS = [(case, line) for case in CASES for line in _lines(case)]


def _normalised(text: str) -> str:
    return text.replace(f"configgen {__version__} ", "configgen VERSION ")


@pytest.mark.parametrize(("case", "line"), PARAMS, ids=[f"{c}-{l}" for c, l in PARAMS])
def test_golden_header(case, line, request):
    profile = profiles.load(GOLDEN / case / "profile.toml", line)
    text = _normalised(generate(profile, OUTPUT, offline=True).text)
    expected_path = GOLDEN / case / f"expected-{line}.h"
    if request.config.getoption("--update-golden"):
        expected_path.write_text(text)
    expected = expected_path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(True), text.splitlines(True), "expected", "actual"))
        pytest.fail(f"{expected_path.name} differs (pytest --update-golden rewrites it):\n{diff}")


@pytest.mark.parametrize(("case", "line"), PARAMS, ids=[f"{c}-{l}" for c, l in PARAMS])
def test_golden_header_leaks_nothing_of_the_machine(case, line):
    text = generate(profiles.load(GOLDEN / case / "profile.toml", line), OUTPUT, offline=True).text
    for leak in (str(Path.home()), str(GOLDEN), os.getcwd(), getpass.getuser() + "/", sys.version.split()[0]):
        assert leak not in text, leak


def test_generating_twice_gives_the_same_bytes_whatever_the_hash_seed(tmp_path):
    case = GOLDEN / CASES[0] / "profile.toml"
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [sys.executable, "-m", "configgen", "generate", "--profile", str(case), "--offline"],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_check_says_whether_the_header_is_current(tmp_path):
    case = GOLDEN / CASES[0] / "profile.toml"
    header = tmp_path / "mbedtls_config.h"

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "configgen", "generate", "--profile", str(case), "--offline", "-o", str(header), *extra],
            capture_output=True, text=True,
        )

    assert run("--check").returncode == 1  # missing
    assert not header.exists()
    assert run().returncode == 0
    first = header.stat().st_mtime_ns
    assert run("--check").returncode == 0
    assert run().returncode == 0
    assert header.stat().st_mtime_ns == first  # unchanged text: not rewritten
    header.write_text(header.read_text().replace("#define MBEDTLS_SSL_CLI_C\n", ""))
    stale = run("--check")
    assert stale.returncode == 1 and "is stale" in stale.stderr
    assert "MBEDTLS_SSL_CLI_C" not in header.read_text()  # --check writes nothing


def test_a_board_whose_heap_cannot_hold_the_buffers_is_warned_about(tmp_path):
    """The tls13-only server does not honour max_fragment_length: on a 24 KiB board a 16 KiB
    input buffer cannot fit, which generate says in the banner and on stderr; declaring the
    application's messages small removes the cause and the warning."""
    case = GOLDEN / "tls13-only"
    board = profiles.read_toml(ROOT / "profiles" / "pico-w.toml")
    (tmp_path / "small.toml").write_text(
        (ROOT / "profiles" / "pico-w.toml").read_text()
        .replace('name = "pico-w"', 'name = "small"')
        .replace(f"heap_kib = {board['heap_kib']}", "heap_kib = 24"))
    text = (case / "profile.toml").read_text().replace('board = "pico-w"', f'board = "{tmp_path / "small.toml"}"')
    text = text.replace('snapshot = "server.json"', f'snapshot = "{case / "server.json"}"')
    text = text.replace("../../data/certs/", f"{GOLDEN.parent / 'data' / 'certs'}/")
    profile = tmp_path / "tls.toml"
    profile.write_text(text)

    result = subprocess.run([sys.executable, "-m", "configgen", "generate", "--profile", str(profile),
                             "--offline", "-o", str(tmp_path / OUTPUT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    warning = ("127.0.0.1:25004: board small has 24 KiB of heap; the record buffers take 16,896 bytes "
               "(input 16,384, output 512) and a handshake about 20 KiB more, so mbedtls_ssl_setup() "
               "or the handshake may fail with MBEDTLS_ERR_SSL_ALLOC_FAILED (-0x7F00): set "
               "[server].app_record_max if its application messages are smaller (the handshake needs "
               "512 bytes), or give TLS more heap")
    assert f"configgen: warning: {warning}\n" in result.stderr
    header = (tmp_path / OUTPUT).read_text()
    assert " * Warnings\n" in header and "MBEDTLS_ERR_SSL_ALLOC_FAILED (-0x7F00)" in header

    def warnings(server: str = "", extra: str = "") -> tuple[str, ...]:
        profile.write_text(text.replace('sni = "localhost"', 'sni = "localhost"\n' + server) + extra)
        return generate(profiles.load(profile), OUTPUT, offline=True).options.warnings

    assert warnings("app_record_max = 1024") == ()
    (large,) = warnings("app_record_max = 13000")  # it is set: the advice is more heap
    assert large.endswith("(input 13,056, output 512) and a handshake about 20 KiB more, so "
                          "mbedtls_ssl_setup() or the handshake may fail with MBEDTLS_ERR_SSL_ALLOC_FAILED "
                          "(-0x7F00): give TLS more heap")
    override = '\n[overrides.enable]\nMBEDTLS_SSL_IN_CONTENT_LEN = { value = 8192, reason = "room" }\n'
    (overridden,) = warnings("app_record_max = 1024", override)  # the header holds what was forced
    assert "(input 8,192, output 512)" in overridden
    assert overridden.endswith("lower MBEDTLS_SSL_IN_CONTENT_LEN in [overrides.enable], or give TLS more heap")


def test_the_banner_hashes_the_bytes_each_input_was_read_as(monkeypatch):
    """The profile and each certificate and snapshot are read once: the banner's digest is
    of the bytes the header was derived from, not of a second read."""
    from hashlib import sha256

    from configgen import readers

    case = GOLDEN / "p256-ccm8-client-auth"
    read: dict[str, list[bytes]] = {}
    real_readers, real_path = readers.read_bytes, Path.read_bytes

    def through_readers(path, kind, limit=None):
        data = real_readers(path, kind, limit)
        read.setdefault(Path(path).name, []).append(data)
        return data

    def directly(path):
        data = real_path(path)
        read.setdefault(path.name, []).append(data)
        return data

    monkeypatch.setattr(readers, "read_bytes", through_readers)
    monkeypatch.setattr(Path, "read_bytes", directly)
    profile = profiles.load(case / "profile.toml")
    text = generate(profile, OUTPUT, offline=True).text
    files = [profile.path, profile.servers[0].snapshot, *profile.ca, profile.client_cert]
    assert [len(read[p.name]) for p in files] == [1] * len(files)
    for path in files:
        assert f"{sha256(read[path.name][0]).hexdigest()[:16]}\n" in text
