"""The configuration-header interpreter agrees with the real compiler.

For a spread of configurations — mbedTLS's own presets and example configs, and broken ones
— cpp.run must raise an #error exactly when check_config.h stops the compiler, and derive
exactly the macros the compiler derives.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from configgen import mbedbuild
from configgen.kb import closure, cpp, extract
from configgen.kb.model import from_dict
from kb_support import preset


@pytest.fixture(scope="module")
def kbs(trees):
    """Knowledge bases built from the trees' options and headers alone (no suites/errors)."""
    built = {}
    for line, tree in trees.items():
        data = extract.extract_structure(tree)
        data.update({"suites": [], "errors": [], "verify_flags": [], "x509": {}})
        built[line] = (tree, from_dict(data))
    return built


def test_expression_evaluation():
    macros = cpp.Macros({"A": (None, "1"), "B": (None, "A + 2"), "F": (("x",), "x * 2")})
    assert macros.evaluate("defined(A) && !defined(C)") == 1
    assert macros.evaluate("B == 3 && F(B) == 6") == 1
    assert macros.evaluate("('A' != 65) || 0x10 < 010") == 0
    assert macros.evaluate("(A ? 5 : 6) == 5 && UNDEFINED == 0") == 1


def _real_macros(tree, header_text: str) -> set[str] | None:
    """Names the compiler has defined after the configuration headers, or None if #error."""
    config = mbedbuild.write_config(tree, header_text)
    entry = '"mbedtls/build_info.h"' if tree.line == "3.6" else "MBEDTLS_CONFIG_FILE"
    with tempfile.TemporaryDirectory() as work:
        unit = Path(work) / "unit.c"
        unit.write_text(f"#include {entry}\n")
        result = subprocess.run(
            ["cc", "-E", "-dM", f"-I{tree.include_dir}", f'-DMBEDTLS_CONFIG_FILE="{config}"',
             str(unit)],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        return None
    names = {line.split()[1].split("(")[0] for line in result.stdout.splitlines()}
    return {
        n for n in names
        if n.startswith(("MBEDTLS_", "PSA_WANT_")) and not n.endswith("_H")
        and not n.startswith(_COMPILER_DECIDED)
    }


# Decided by the compiler's own predefined macros (__GNUC__, __x86_64__), not by the config.
_COMPILER_DECIDED = ("MBEDTLS_COMPILER_IS_", "MBEDTLS_ARCH_IS_", "MBEDTLS_GCC_VERSION")


def _assert_agrees(tree, kb, text: str, name: str) -> None:
    """The interpreter raises an #error exactly when the compiler does, and otherwise
    derives the same MBEDTLS_/PSA_WANT_ macros."""
    real = _real_macros(tree, text)
    outcome = cpp.run(kb.preprocessor_files, kb.preprocessor_entry, cpp.directives(text))
    assert (real is None) == bool(outcome.errors), f"{name}: {outcome.errors}"
    if real is not None:
        ours = {
            n for n in outcome.macros.table
            if n.startswith(("MBEDTLS_", "PSA_WANT_")) and not n.endswith("_H")
        }
        assert ours - {"MBEDTLS_CONFIG_FILE"} == real - {"MBEDTLS_CONFIG_FILE"}, name


def _configs(tree):
    default = tree.config_header.read_text()
    yield "default", default
    for name in ("full", "baremetal"):
        yield name, preset(tree, name)
    for path in sorted((tree.root / "configs").glob("config-*.h")):
        text = path.read_text()
        # Left out: configs that include files of their own (3.6's TF-M profile) or rely on
        # -Iinclude/mbedtls (2.28's symmetric-only); neither is how a user config works.
        if '#include "../' not in text and '#include "check_config.h"' not in text:
            yield path.name, text
    yield "default without MD_C", default.replace("#define MBEDTLS_MD_C\n", "//#define MBEDTLS_MD_C\n")
    yield "default without BIGNUM_C", default.replace(
        "#define MBEDTLS_BIGNUM_C\n", "//#define MBEDTLS_BIGNUM_C\n"
    )


@pytest.mark.mbedtls
@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_interpreter_matches_compiler(kbs, line):
    tree, kb = kbs[line]
    checked = 0
    for name, text in _configs(tree):
        _assert_agrees(tree, kb, text, name)
        checked += 1
    print(f"mbedTLS {tree.version}: interpreter agrees with the compiler on {checked} configs")


@pytest.mark.mbedtls
def test_closure_passes_check_config(kbs):
    """Closing a few wants over the rules gives headers the real check_config accepts."""
    wants = {
        "2.28": ["defined(MBEDTLS_SSL_CLI_C) && defined(MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED)"],
        "3.6": [
            "defined(MBEDTLS_SSL_CLI_C) && defined(MBEDTLS_SSL_PROTO_TLS1_3)",
            "defined(MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED) && defined(MBEDTLS_MD_CAN_SHA384)",
        ],
    }
    for line, exprs in wants.items():
        tree, kb = kbs[line]
        for expr in exprs:
            options = closure.enable(kb, {}, [expr])
            header = "".join(
                f"#define {k}{'' if v is None else ' ' + v}\n" for k, v in sorted(options.items())
            )
            header += "".join(cpp.render(d) + "\n" for d in kb.config_tail)
            assert mbedbuild.check_config(tree, header) == ""
            assert kb.evaluate(options).holds(expr)


@pytest.mark.mbedtls
@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_interpreter_matches_compiler_without_each_default_option(kbs, line):
    """Drop each default-on option in turn: #error and derived macros still agree."""
    tree, kb = kbs[line]
    default = tree.config_header.read_text()
    agreed = 0
    for option in kb.options:
        if not option.default_enabled or not option.is_flag:
            continue
        text = default.replace(f"\n#define {option.name}\n", f"\n//#define {option.name}\n")
        _assert_agrees(tree, kb, text, f"without {option.name}")
        agreed += 1
    print(f"mbedTLS {tree.version}: agrees without each of {agreed} default options")
