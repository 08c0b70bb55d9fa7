"""The command line's foundation: help, version, source trees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from configgen import __version__, sources
from configgen.cli import COMMANDS


def configgen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "configgen", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_version_and_help():
    assert configgen("--version").stdout.strip() == f"configgen {__version__}"
    result = configgen("--help")
    assert result.returncode == 0
    for name in ("wizard", "probe", "inspect", "generate", "explain", "diagnose", "review", "diff",
                 "verify"):
        assert name in result.stdout


def test_every_command_is_built_and_has_its_help():
    for name in COMMANDS:
        result = configgen(name, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: configgen {name} ")


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("  hint:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_source_tree_option_rejects_a_missing_directory(tmp_path):
    line = _one_line_error(configgen("sources", "--mbedtls-src", str(tmp_path / "nope")))
    assert line == f"configgen: {tmp_path / 'nope'}: no such directory"


def test_source_tree_option_rejects_a_tree_that_is_not_mbedtls(tmp_path):
    (tmp_path / "include").mkdir()
    line = _one_line_error(configgen("sources", "--mbedtls-src", str(tmp_path)))
    assert "not an mbedTLS source tree" in line


def test_source_tree_option_rejects_an_unsupported_version(tmp_path):
    header = tmp_path / "include" / "mbedtls" / "build_info.h"
    header.parent.mkdir(parents=True)
    header.write_text('#define MBEDTLS_VERSION_STRING         "3.5.2"\n')
    line = _one_line_error(configgen("sources", "--mbedtls-src", str(tmp_path)))
    assert "mbedTLS 3.5.2 is not a line configgen supports (supported: 2.28, 3.6)" in line


def test_source_tree_option_reads_the_version_header_through_the_input_layer(tmp_path):
    header = tmp_path / "include" / "mbedtls" / "build_info.h"
    header.parent.mkdir(parents=True)
    header.write_bytes(b"/*" + b" " * (2 * 1024 * 1024) + b"*/\n")
    line = _one_line_error(configgen("sources", "--mbedtls-src", str(tmp_path)))
    assert line.startswith(f"configgen: {header}: is 2.1 MB; an mbedTLS header is at most 1.0 MB")


def test_environment_variable_names_a_tree_too(tmp_path):
    line = _one_line_error(configgen("sources", env={sources.ENV_SOURCE_TREES: str(tmp_path)}))
    assert "not an mbedTLS source tree" in line


@pytest.mark.mbedtls
def test_a_users_own_tree_is_detected_by_its_headers(trees):
    for line, tree in trees.items():
        result = configgen("sources", "--mbedtls-src", str(tree.root))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split("\t")[:2] == [line, tree.version]


@pytest.mark.mbedtls
def test_cached_debian_sources_come_back_quickly(trees):
    result = configgen("sources", "--no-fetch")
    assert result.returncode == 0, result.stderr
    listed = {row.split("\t")[1]: Path(row.split("\t")[2]) for row in result.stdout.splitlines()}
    assert listed == {r: sources.find_tree(r).root for r in sources.TESTED_RELEASES}
