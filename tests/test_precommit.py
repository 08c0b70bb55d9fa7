"""The pre-commit hook of .pre-commit-hooks.yaml, run by the real `pre-commit` against this
repository (installed from its local path at HEAD) in a temporary firmware project: it passes
on an up-to-date header and fails on a stale one, saying what changed in words."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASE = Path(__file__).parent / "golden" / "rsa2048-ecdhe-rsa-gcm"
CERTS = Path(__file__).parent / "data" / "certs"

pytest.importorskip("pre_commit")


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def _head() -> str | None:
    try:
        return _git("rev-parse", "HEAD", cwd=ROOT)
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


HEAD = _head()


@pytest.mark.skipif(HEAD is None, reason="not a git checkout of configgen")
def test_hook_passes_when_fresh_and_fails_in_words_when_stale(tmp_path):
    project = tmp_path / "firmware"
    project.mkdir()
    shutil.copy(CASE / "server.json", project / "server.json")
    shutil.copy(CERTS / "rsa2048-root.pem", project / "root.pem")
    profile = (CASE / "profile.toml").read_text().replace("../../data/certs/rsa2048-root.pem", "root.pem")
    (project / "tls.toml").write_text(profile)
    subprocess.run([sys.executable, "-m", "configgen", "generate", "--profile", "tls.toml",
                    "--offline", "-o", "mbedtls_config.h"], cwd=project, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {HEAD}\n    hooks:\n      - id: configgen-check\n"
        "        args: [--profile, tls.toml, -o, mbedtls_config.h]\n")
    _git("init", "-q", cwd=project)
    _git("add", ".", cwd=project)
    _git("commit", "-qm", "firmware", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project,
                              env=env, capture_output=True, text=True, timeout=900)

    fresh = hook()
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "configgen generate --check" in fresh.stdout and "Passed" in fresh.stdout

    (project / "tls.toml").write_text(profile + 'margin = "balanced"\n')
    stale = hook()
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "mbedtls_config.h is stale" in stale.stdout
    assert "MBEDTLS_SSL_OUT_CONTENT_LEN" in stale.stdout  # the diff in words names what changes
    assert "Traceback" not in stale.stdout
