"""headerfile: existing headers read the way mbedTLS's config.py reads them, round-tripping."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configgen import headerfile
from configgen import kb as knowledge
from configgen import profile as profiles
from configgen.generate import generate
from configgen.headerfile import HeaderError, parse
from configgen.kb.model import LINES
from configgen import readers

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*/expected-*.h"))
KNOWN = {line: frozenset(o.name for o in knowledge.load(line).options) for line in LINES}


def line_of(path: Path) -> str:
    return path.stem.removeprefix("expected-")


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}-{line_of(p)}")
def test_generated_headers_round_trip_to_their_option_set(path):
    header = readers.read_header(path)
    assert header.text == path.read_text()
    assert header.line_hint == line_of(path) and header.generated
    generated = generate(profiles.load(path.parent / "profile.toml", line_of(path)),
                         "mbedtls_config.h", None, None, offline=True)
    assert header.active() == generated.options.values()
    for setting in generated.options.settings:
        assert header.define(setting.name).reasons == setting.reasons
        assert header.define(setting.name).comment == setting.derivation
    assert headerfile.guess_line(header, KNOWN) == line_of(path)
    assert [d for d in header.defines if d.conditional] == []


def test_mbedtls_default_headers_round_trip(trees):
    for line, tree in trees.items():
        header = readers.read_header(tree.config_header)
        assert header.text == tree.config_header.read_text()
        kb = knowledge.load(line)
        assert [d.name for d in header.defines] == [o.name for o in kb.options]
        assert {d.name for d in header.defines if d.active} == {
            o.name for o in kb.options if o.default_enabled}
        assert headerfile.guess_line(header, KNOWN) == line and not header.generated


def test_switching_options_keeps_everything_else():
    text = (GOLDEN / "sha1-root-rsa4096-large-chain" / "expected-2.28.h").read_text()
    header = parse(text, "h")
    off = headerfile.with_setting(header, "MBEDTLS_SHA1_C", False)
    assert "MBEDTLS_SHA1_C" not in off.active()
    assert off.define("MBEDTLS_SHA1_C").reasons == header.define("MBEDTLS_SHA1_C").reasons
    assert headerfile.with_setting(off, "MBEDTLS_SHA1_C", True).text == text
    smaller = headerfile.with_setting(header, "MBEDTLS_MPI_MAX_SIZE", True, "256")
    assert smaller.active()["MBEDTLS_MPI_MAX_SIZE"] == "256"
    added = headerfile.with_setting(header, "MBEDTLS_DEBUG_C", True)
    assert set(added.active()) - set(header.active()) == {"MBEDTLS_DEBUG_C"}
    assert len(added.lines) == len(header.lines) + 1


def test_hand_written_forms():
    header = parse(
        "#ifndef MY_CONFIG_H\n#define MY_CONFIG_H\r\n"
        "#define MBEDTLS_SSL_CLI_C\n"
        "  //  #define MBEDTLS_SHA1_C\n"
        "#  define MBEDTLS_MPI_MAX_SIZE 512 /* RSA-4096 */\n"
        "#define MBEDTLS_SSL_CIPHERSUITES \\\n  MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
        "/* #define MBEDTLS_DEBUG_C */\n"
        "#if defined(FOO)\n#define MBEDTLS_AES_C\n#endif\n#endif\n",
        "mine.h",
    )
    active = header.active()
    assert "MY_CONFIG_H" not in active and "MBEDTLS_DEBUG_C" not in active
    assert active["MBEDTLS_MPI_MAX_SIZE"] == "512"
    assert header.define("MBEDTLS_MPI_MAX_SIZE").comment == "RSA-4096"
    assert header.define("MBEDTLS_SHA1_C").active is False
    assert header.define("MBEDTLS_AES_C").conditional
    assert not header.generated and header.text.count("\r\n") == 1


@pytest.mark.parametrize("text", ['{"not": "a header"}\n', "def main():\n    pass\n", "",
                                  "/* only a comment */\n", "#include <stdio.h>\n"])
def test_what_is_not_a_config_header_is_said_so(text):
    with pytest.raises(HeaderError):
        parse(text, "x.h")


def test_binary_and_unreadable_files(tmp_path):
    binary = tmp_path / "firmware.bin"
    binary.write_bytes(b"\x7fELF\x00\x01\x02")
    with pytest.raises(HeaderError, match="binary"):
        readers.read_header(binary)
    with pytest.raises(HeaderError, match="no such file"):
        readers.read_header(tmp_path / "missing.h")
    latin = tmp_path / "latin.h"
    latin.write_bytes(b"/* caf\xe9 */\n#define MBEDTLS_AES_C\n")
    assert readers.read_header(latin).active() == {"MBEDTLS_AES_C": None}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#define MBEDTLS_X /*via*/ \\ //\n\r\t1()")) | st.characters(),
               max_size=300))
def test_parse_never_raises_anything_but_header_error(text):
    try:
        header = parse(text, "fuzz.h")
    except HeaderError:
        return
    assert header.text == text
