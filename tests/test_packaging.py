"""`pip install .` gives a working configgen: the wheel carries templates/, profiles/, the
knowledge base and its data, and the installed command generates the same header and
verifies it with a real handshake (the test client's source ships too)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from test_verify import ROOT_CA, case_server

ROOT = Path(__file__).parent.parent
CASE = ROOT / "tests" / "golden" / "rsa2048-ecdhe-rsa-gcm"

# Each module's own data, read the way it reads it (configgen/resources.py).
EVERY_DATA_FILE = """
from configgen import costs, footprint, handshake, kb, profile, resolve, sdk
from configgen.advise import causes
from configgen.kb import releases
from configgen.render import _environment
from configgen.sdk import espidf
kb.load("2.28"), kb.load("3.6"), releases.load(), causes.load(), causes.security(), causes.sizes()
resolve.features(), costs.next_line(), sdk.rules("zephyr.toml"), profile.board_names()
[espidf.load(r) for r in sdk.esp_idf_releases()], _environment().get_template("mbedtls_config.h.j2")
assert all(p.is_file() for p in (handshake.CLIENT, *footprint.DEVICE_CLIENT))
print("found")
"""


def test_a_data_file_missing_from_the_installation_is_named():
    from configgen import resources
    from configgen.errors import ConfiggenError

    with pytest.raises(ConfiggenError, match="configgen's data/absent.toml is missing from this installation"):
        resources.read_toml("data/absent.toml")


@pytest.mark.mbedtls
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = dist.glob("configgen-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    configgen = env_dir / "bin" / "configgen"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    version = subprocess.run([str(configgen), "--version"], capture_output=True, text=True, cwd=outside, env=env)
    assert version.returncode == 0 and version.stdout.startswith("configgen ")
    where = subprocess.run([str(python), "-c", "import configgen, sys; print(configgen.__file__)"],
                           capture_output=True, text=True, cwd=outside, env=env)
    assert str(env_dir) in where.stdout  # the installed copy, not the checkout
    data = subprocess.run([str(python), "-c", EVERY_DATA_FILE], capture_output=True, text=True,
                          cwd=outside, env=env)
    assert data.returncode == 0 and data.stdout == "found\n", data.stderr
    installed = subprocess.run([str(configgen), "generate", "--profile", str(CASE / "profile.toml"), "--offline"],
                               capture_output=True, text=True, cwd=outside, env=env)
    assert installed.returncode == 0, installed.stderr
    here = subprocess.run([sys.executable, "-m", "configgen", "generate", "--profile", str(CASE / "profile.toml"), "--offline"],
                          capture_output=True, text=True)
    assert installed.stdout == here.stdout
    with case_server() as port:
        verified = subprocess.run([str(configgen), "verify", str(CASE / "expected-3.6.h"), "--server",
                                   f"127.0.0.1:{port}", "--ca", str(ROOT_CA), "--name", "localhost"],
                                  capture_output=True, text=True, cwd=outside, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.endswith("verified\n")
