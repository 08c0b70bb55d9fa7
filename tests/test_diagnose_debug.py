"""generate --debug: MBEDTLS_DEBUG_C with its reason, what it costs (measured again here),
and the C snippet without which no debug log reaches anyone (compiled against both lines)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from configgen import headerfile, mbedbuild
from configgen import kb as knowledge
from configgen import profile as profiles
from configgen.advise import causes, debughelp
from configgen.advise.diff import diff
from configgen.cli import main
from configgen.generate import generate

CASE = Path(__file__).parent / "golden" / "rsa2048-ecdhe-rsa-gcm"


def generated(line: str, debug: bool) -> str:
    profile = profiles.load(CASE / "profile.toml", line)
    return generate(profile, "mbedtls_config.h", None, None, offline=True, debug=debug).text


@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_debug_adds_exactly_debug_c_with_its_reason(line):
    plain, debug = (headerfile.parse(generated(line, d), "h") for d in (False, True))
    found = diff(plain, debug, knowledge.load(line), causes.security())
    assert found.options == ("MBEDTLS_DEBUG_C",)
    assert debughelp.REASON in debug.define("MBEDTLS_DEBUG_C").reasons[0]
    assert "--offline --debug" in debug.text


@pytest.mark.parametrize("board", sorted(p.stem for p in (CASE.parents[2] / "profiles").glob("*.toml")))
def test_the_snippet_names_the_calls_people_miss(board):
    text = debughelp.snippet(board)
    assert "mbedtls_ssl_conf_dbg(&conf, tls_debug, NULL);" in text
    assert "mbedtls_debug_set_threshold(" in text


@pytest.mark.mbedtls
def test_the_snippet_compiles_and_the_cost_is_what_the_message_says(trees, tmp_path):
    for line, tree in trees.items():
        sizes = []
        for debug in (False, True):
            library = mbedbuild.build_library(tree, generated(line, debug), cflags=("-Os",))
            total = subprocess.run(["size", "-t", str(library.archive)], capture_output=True,
                                   text=True, check=True).stdout.splitlines()[-1]
            sizes.append(int(total.split()[0]))
        assert abs((sizes[1] - sizes[0]) - debughelp.COST[line]) < 0.15 * debughelp.COST[line]
        top, calls = debughelp.snippet("linux-host").split("/* after mbedtls_ssl_config_defaults")
        source = tmp_path / f"snippet-{line}.c"
        source.write_text(top + '#include "mbedtls/ssl.h"\nint main(void)\n{\n'
                          "    mbedtls_ssl_config conf;\n    mbedtls_ssl_config_init(&conf);\n"
                          "    /* after mbedtls_ssl_config_defaults" + calls + "    return 0;\n}\n")
        mbedbuild.build_program(library, source, tmp_path / f"snippet-{line}")


def test_cli_generate_debug_prints_the_snippet(capsys):
    assert main(["generate", "--profile", str(CASE / "profile.toml"), "--offline", "--debug"]) == 0
    captured = capsys.readouterr()
    assert "#define MBEDTLS_DEBUG_C" in captured.out
    assert "mbedtls_debug_set_threshold(3);" in captured.err and "KB of code" in captured.err
