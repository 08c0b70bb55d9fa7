"""Bad profile input gets one line naming the file, the key and the fix; exit 2; nothing
written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden" / "rsa2048-ecdhe-rsa-gcm"
GOOD = (GOLDEN / "profile.toml").read_text()


def _generate(profile: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "configgen", "generate", "--profile", str(profile), "--offline", "-o", str(output)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )


def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tls.toml"
    path.write_text(text.replace("../../data/certs/", str(GOLDEN.parent.parent / "data" / "certs") + "/")
                        .replace('"server.json"', f'"{GOLDEN / "server.json"}"'))
    return path


CASES = {
    "syntax": (GOOD + "\n[policy\n", "TOML syntax error"),
    "unknown key": ("colour = \"blue\"\n" + GOOD, "tls.toml:colour: unknown key 'colour'"),
    "unknown policy key": (GOOD.replace('at = "2026-11-23"', 'at = "2026-11-23"\nallow_md5 = true'),
                           "tls.toml:[policy].allow_md5: unknown key"),
    "wrong type": (GOOD.replace("port = 25001", 'port = "25001"'),
                   "tls.toml:[server.0].port: must be an integer, not a string"),
    "bad port": (GOOD.replace("port = 25001", "port = 70000"), "[server.0].port: must be a TCP port"),
    "unknown board": (GOOD.replace('"linux-host"', '"esp31"'), "unknown board 'esp31' (known: esp32"),
    "missing file": (GOOD.replace("rsa2048-root.pem", "nope.pem"), "nope.pem': no such file"),
    "missing snapshot": (GOOD.replace('"server.json"', '"missing.json"'), "[server.0].snapshot: 'missing.json': no such file"),
    "tls 1.3 on 2.28": (GOOD.replace('board = "linux-host"', 'board = "linux-host"\nmbedtls = "2.28"')
                        .replace('at = "2026-11-23"', 'at = "2026-11-23"\ntls = ["1.3"]'),
                        "tls.toml:[policy].tls: mbedTLS 2.28 cannot speak TLS 1.3"),
    "line the board lacks": (GOOD.replace('board = "linux-host"', 'board = "esp32"\nmbedtls = "2.28"'),
                             "board 'esp32' ships mbedTLS 3.6, not 2.28"),
    "bad tls version": (GOOD.replace('at = "2026-11-23"', 'at = "2026-11-23"\ntls = ["1.4"]'),
                        "tls.toml:[policy].tls: '1.4' is not one of '1.2', '1.3'"),
    "override not an option": (GOOD + '\n[overrides.enable]\nMBEDTLS_NOT_AN_OPTION = "why not"\n',
                               "MBEDTLS_NOT_AN_OPTION is not an option of mbedTLS"),
    "override not mbedtls": (GOOD + '\n[overrides.enable]\nDEBUG = "why not"\n',
                             "[overrides.enable].DEBUG: is not an mbedTLS option"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_profile_is_one_clear_line(tmp_path, name):
    text, expected = CASES[name]
    output = tmp_path / "mbedtls_config.h"
    result = _generate(_profile(tmp_path, text), output)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    first, *rest = result.stderr.splitlines()
    assert all(line.startswith("  hint:") for line in rest), result.stderr
    assert first.startswith("configgen: ") and expected in first, first
    assert not output.exists() and not output.with_name(output.name + ".new").exists()


def test_profile_not_a_file(tmp_path):
    result = _generate(tmp_path, tmp_path / "out.h")
    assert result.returncode == 2
    assert "is a directory, not a TOML file" in result.stderr


def test_disabling_what_the_server_needs_is_a_conflict_naming_both(tmp_path):
    text = GOOD + '\n[overrides.disable]\nMBEDTLS_GCM_C = "save flash"\n'
    result = _generate(_profile(tmp_path, text), tmp_path / "out.h")
    assert result.returncode == 2
    assert "127.0.0.1:25001" in result.stderr and "MBEDTLS_GCM_C" in result.stderr, result.stderr


def test_a_server_is_spelled_one_way_everywhere(tmp_path):
    """host:port with an IPv6 address in brackets: the profile's default name, Server.where
    and ServerFacts.where agree (the name once lacked the brackets the probe's text had)."""
    from configgen import profile as profiles
    from configgen.probe import snapshot

    loaded = profiles.load(_profile(tmp_path, GOOD.replace('host = "127.0.0.1"', 'host = "::1"')))
    (server,) = loaded.servers
    assert server.name == server.where == "[::1]:25001"
    facts = snapshot.load(GOLDEN / "server.json")
    assert facts.where == f"{facts.host}:{facts.port}"
    assert facts.__class__(**{**facts.__dict__, "host": "::1"}).where == f"[::1]:{facts.port}"
