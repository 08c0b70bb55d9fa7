"""The layering holds: the import contracts in pyproject.toml, and what a command loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True, no_logo=True))")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)


def test_every_import_contract_is_kept():
    result = _python(LINT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# What starting a command may load: the command that runs, nothing another command needs.
HEAVY = ("questionary", "prompt_toolkit", "cryptography", "jinja2", "configgen.wizard",
         "configgen.probe.runner", "configgen.verify")


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["explain", "--help"]])
def test_starting_loads_no_other_command(argv):
    result = _python(
        "import sys\nfrom configgen.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_generating_offline_loads_neither_the_prober_nor_the_wizard():
    profile = ROOT / "tests" / "golden" / "rsa2048-ecdhe-rsa-gcm" / "profile.toml"
    result = _python(
        "import contextlib, io, sys\nfrom configgen.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['generate', '--offline', '--profile', {str(profile)!r}])\n"
        "print(code, sorted(m for m in ('questionary', 'configgen.wizard', 'configgen.probe.runner',"
        " 'configgen.probe.transport', 'configgen.verify') if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"


def test_the_model_contract_forbids_every_other_part_of_configgen():
    """A module added beside the model must be forbidden to it too: the contract lists
    them by name, so this keeps the list whole."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    model = next(c for c in contracts if c["source_modules"] == ["configgen.model"])
    package = ROOT / "configgen"
    parts = {f"configgen.{p.stem}" for p in package.glob("*.py")} | {
        f"configgen.{p.name}" for p in package.iterdir() if (p / "__init__.py").is_file()}
    allowed = {"configgen.__init__", "configgen.__main__", "configgen.errors", "configgen.model"}
    assert sorted(parts - allowed - set(model["forbidden_modules"])) == []
