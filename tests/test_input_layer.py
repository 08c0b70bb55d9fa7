"""Bad input never crashes, hangs, passes silently or leaves a file behind (issue 11).

One test per class of defect the issue found; each failed before the input layer
(configgen/readers.py, configgen/values.py, configgen/output.py) existed. The fuzz tier over
the same readers is tests/test_fuzz_inputs.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from clirun import one_line_error, run_cli, run_process

DATA = Path(__file__).parent / "data" / "certs"
GOLDEN = Path(__file__).parent / "golden" / "rsa2048-ecdhe-rsa-gcm"
ROOT = DATA / "rsa2048-root.pem"


def profile(tmp_path: Path, text: str | None = None, **replace: str) -> Path:
    """The golden RSA-2048 profile, absolute paths, with `replace` applied to its text."""
    text = text if text is not None else (GOLDEN / "profile.toml").read_text()
    text = (text.replace("../../data/certs/", f"{DATA}/")
            .replace('"server.json"', f'"{GOLDEN / "server.json"}"'))
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "tls.toml"
    path.write_text(text)
    return path


def generate(path: Path, output: Path, *more: str):
    return run_cli("generate", "--profile", str(path), "--offline", "-o", str(output), *more)


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


# --- tracebacks -------------------------------------------------------------------------------


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_inspect_at_dates_python_cannot_shift_are_refused(at):
    one_line_error(run_cli("inspect", str(ROOT), "--at", at), "--at")


def test_explain_a_decimal_of_thousands_of_digits():
    line = one_line_error(run_cli("explain", "9" * 5000), "not")
    assert "9" * 100 not in line


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e999", "ten"])
def test_probe_timeouts_must_be_finite_positive_seconds(value):
    one_line_error(run_cli("probe", "127.0.0.1:1", "--timeout", value), "--timeout")
    one_line_error(run_cli("probe", "127.0.0.1:1", "--deadline", value), "--deadline")


@pytest.mark.parametrize("server", ["127.0.0.1:\u00b2", "127.0.0.1:\u0661\u0662", "[::1]:\u00b2",
                                    "127.0.0.1:+443", "127.0.0.1: 443"])
def test_ports_are_ascii_digits(server):
    one_line_error(run_cli("probe", server), "port")


def test_verify_server_port_is_checked_the_same_way(tmp_path):
    header = GOLDEN / "expected-3.6.h"
    one_line_error(run_cli("verify", str(header), "--server", "127.0.0.1:\u00b2"), "port")


def test_profile_nested_100000_levels(tmp_path):
    path = tmp_path / "tls.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    one_line_error(generate(path, tmp_path / "out.h"), str(path))


def test_snapshot_nested_100000_levels(tmp_path):
    snap = tmp_path / "server.json"
    snap.write_text("[" * 100_000 + "]" * 100_000)
    path = profile(tmp_path, **{str(GOLDEN / "server.json"): str(snap)})
    one_line_error(generate(path, tmp_path / "out.h"), str(snap))


# --- hangs ------------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["inspect", "diagnose", "diff", "review", "generate", "verify",
                                     "inspect-ca"])
def test_a_fifo_is_refused_without_blocking(tmp_path, fifo, command):
    argv = {
        "inspect": ["inspect", str(fifo)],
        "inspect-ca": ["inspect", str(ROOT), "--ca", str(fifo)],
        "diagnose": ["diagnose", str(fifo)],
        "diff": ["diff", str(fifo), str(GOLDEN / "expected-3.6.h")],
        "review": ["review", str(fifo), "--profile", str(profile(tmp_path)), "--offline"],
        "generate": ["generate", "--profile", str(fifo), "--offline"],
        "verify": ["verify", str(fifo)],
    }[command]
    one_line_error(run_process(*argv, timeout=30), str(fifo), "not a regular file")


def test_a_fifo_as_snapshot_or_certificate_in_a_profile(tmp_path, fifo):
    path = profile(tmp_path, **{str(GOLDEN / "server.json"): str(fifo)})
    one_line_error(run_process("generate", "--profile", str(path), "--offline", timeout=30),
                   str(fifo))
    path = profile(tmp_path, **{str(ROOT): str(fifo)})
    one_line_error(run_process("generate", "--profile", str(path), "--offline", timeout=30),
                   str(fifo))


def test_files_larger_than_their_kind_are_refused(tmp_path):
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * (17 * 1024 * 1024))
    one_line_error(run_cli("diagnose", str(big)), str(big), "MB")


def test_diagnose_reads_a_long_line_in_linear_time(tmp_path):
    log = tmp_path / "debug.log"
    log.write_text("ssl_tls.c:1234: |2| => write client hello\n"
                   + "subject name      : " + "a" * 100_000 + "\n")
    started = time.monotonic()
    run = run_cli("diagnose", str(log))
    assert time.monotonic() - started < 3, "diagnose took too long on one long line"
    assert run.code == 0 and "Traceback" not in run.err


# --- nonsense accepted ------------------------------------------------------------------------


@pytest.mark.parametrize("host, expected", [('""', "host: must not be empty"),
                                            ('"a b"', "host: 'a b' is not a host name"),
                                            ('"x\\u0000y"', "host:")])
def test_generate_refuses_hosts_that_are_not_names(tmp_path, host, expected):
    path = profile(tmp_path, **{'host = "127.0.0.1"': f"host = {host}"})
    one_line_error(generate(path, tmp_path / "out.h"), "tls.toml:[server.0].host", expected)
    assert leftovers(tmp_path, {"tls.toml"}) == []


@pytest.mark.parametrize("servers", ["", "server = []\n"])
def test_generate_refuses_a_profile_without_servers(tmp_path, servers):
    text = (GOLDEN / "profile.toml").read_text()
    head, tail = text.split("[[server]]")
    text = head + servers + "[trust]" + tail.split("[trust]")[1]
    one_line_error(generate(profile(tmp_path, text), tmp_path / "out.h"), "tls.toml:server",
                   "at least one [[server]]")


@pytest.mark.parametrize("value, expected", [
    ('"big"', "'big' is not an integer"),
    ("-1", "must be"),
    ("99999999999999999999", "must be"),
    ('"0x"', "is not an integer"),
    ("1.5", "must be a string or an integer"),
])
def test_numeric_override_values_are_integers_in_range(tmp_path, value, expected):
    text = (GOLDEN / "profile.toml").read_text() + (
        f'\n[overrides.enable]\nMBEDTLS_MPI_MAX_SIZE = {{ value = {value}, reason = "big keys" }}\n')
    one_line_error(generate(profile(tmp_path, text), tmp_path / "out.h"),
                   "tls.toml:[overrides.enable.MBEDTLS_MPI_MAX_SIZE].value", expected)


def test_numeric_override_values_that_are_integers_pass(tmp_path):
    text = (GOLDEN / "profile.toml").read_text() + (
        '\n[overrides.enable]\nMBEDTLS_MPI_MAX_SIZE = { value = "512", reason = "RSA-4096" }\n')
    run = generate(profile(tmp_path, text), tmp_path / "out.h")
    assert run.code == 0, run.err
    assert "#define MBEDTLS_MPI_MAX_SIZE 512" in (tmp_path / "out.h").read_text()


def test_a_snapshot_recorded_for_another_server_is_refused(tmp_path):
    path = profile(tmp_path, **{"port = 25001": "port = 25002"})
    one_line_error(generate(path, tmp_path / "out.h"), "server.json", "127.0.0.1:25001",
                   "127.0.0.1:25002")


def test_inspect_ca_that_holds_no_certificate_is_refused():
    one_line_error(run_cli("inspect", str(DATA / "rsa2048-server.pem"), "--ca",
                           str(DATA / "rsa2048-server.key")),
                   "rsa2048-server.key", "no certificate")


@pytest.mark.parametrize("line, expected", [
    ("#define\n", "line 2"),
    ("#define 123 4\n", "line 2"),
    ("#define MBEDTLS_SSL_IN_CONTENT_LEN (4096\n", "line 2"),
    ("#define MBEDTLS_SSL_IN_CONTENT_LEN 4096)\n", "line 2"),
    ("/* never closed\n#define MBEDTLS_SHA1_C\n", "line 2"),
])
def test_headers_that_cannot_compile_are_refused_with_a_line(tmp_path, line, expected):
    header = tmp_path / "config.h"
    header.write_text("#define MBEDTLS_SSL_TLS_C\n" + line + "#define MBEDTLS_SHA256_C\n")
    run = run_cli("review", str(header), "--profile", str(profile(tmp_path)), "--offline")
    found = one_line_error(run, str(header), expected)
    assert "check_config" not in found


# --- files ------------------------------------------------------------------------------------


def test_generate_into_a_directory_leaves_nothing(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    one_line_error(generate(profile(tmp_path), target), str(target))
    assert leftovers(tmp_path, {"tls.toml", "out"}) == []
    assert list(target.iterdir()) == []


def test_failed_generation_leaves_an_existing_header_byte_identical(tmp_path):
    output = tmp_path / "mbedtls_config.h"
    assert generate(profile(tmp_path), output).code == 0
    before = output.read_bytes()
    bad = profile(tmp_path, **{"port = 25001": "port = 0"})
    one_line_error(generate(bad, output), "port")
    assert output.read_bytes() == before
    assert leftovers(tmp_path, {"tls.toml", "mbedtls_config.h"}) == []


def test_the_writer_leaves_nothing_when_writing_fails(tmp_path):
    from configgen.errors import ConfiggenError
    from configgen.output import write_if_changed

    target = tmp_path / "out.h"
    target.write_text("before\n")
    with pytest.raises((ConfiggenError, UnicodeError)):
        write_if_changed(target, "text that cannot be encoded \ud800\n")
    assert target.read_text() == "before\n"
    assert leftovers(tmp_path, {"out.h"}) == []


def test_a_write_that_fails_halfway_leaves_the_old_header_and_no_temporary_file(tmp_path):
    """The file system refuses the new header after the temporary file exists (a 1 KB file
    size limit, as a full disk would): the old header stays and nothing else is left."""
    import resource
    import signal
    import subprocess
    import sys

    output = tmp_path / "mbedtls_config.h"
    output.write_text("/* the old header */\n")

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    done = subprocess.run([sys.executable, "-m", "configgen", "generate", "--profile",
                           str(profile(tmp_path)), "--offline", "-o", str(output)],
                          capture_output=True, text=True, preexec_fn=small_files, timeout=120,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "cannot write" in done.stderr and str(output) in done.stderr
    assert output.read_text() == "/* the old header */\n"
    assert leftovers(tmp_path, {"tls.toml", "mbedtls_config.h"}) == []


def test_probe_snapshot_into_a_directory_leaves_nothing(tmp_path):
    from configgen.errors import ConfiggenError
    from configgen.probe import snapshot

    facts = snapshot.load(GOLDEN / "server.json")
    target = tmp_path / "snap"
    target.mkdir()
    with pytest.raises(ConfiggenError):
        snapshot.save(facts, target)
    assert leftovers(tmp_path, {"snap"}) == [] and list(target.iterdir()) == []


def test_a_built_tree_replaces_the_cached_one_whole(tmp_path):
    """A source tree tar unpacked (or a build cache directory) takes the place of the old one
    in one rename: the old tree goes whole, nothing is left beside it."""
    from configgen.output import move_into_place

    old, new = tmp_path / "mbedtls-3.6.6", tmp_path / "work" / "unpacked"
    (old / "library").mkdir(parents=True)
    (old / "library" / "stale.c").write_text("old\n")
    (new / "library").mkdir(parents=True)
    (new / "library" / "ssl_tls.c").write_text("new\n")
    move_into_place(new, old)
    assert [p.relative_to(old).as_posix() for p in sorted(old.rglob("*"))] == ["library", "library/ssl_tls.c"]
    assert leftovers(tmp_path, {"mbedtls-3.6.6", "work"}) == [] and list((tmp_path / "work").iterdir()) == []


def test_a_tree_that_cannot_be_put_in_place_leaves_the_old_one(tmp_path, monkeypatch):
    from configgen.errors import ConfiggenError
    from configgen.output import move_into_place

    old, new = tmp_path / "tree", tmp_path / "built"
    old.mkdir()
    (old / "kept.c").write_text("old\n")
    new.mkdir()
    real = os.replace

    def refuse_the_new_tree(src, dst):
        if Path(src) == new:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", refuse_the_new_tree)
    with pytest.raises(ConfiggenError, match="cannot write: No space left on device"):
        move_into_place(new, old)
    assert [p.name for p in old.iterdir()] == ["kept.c"]
    assert leftovers(tmp_path, {"tree", "built"}) == []


def test_a_built_file_is_refused_over_a_directory_and_leaves_both(tmp_path):
    from configgen.errors import ConfiggenError
    from configgen.output import move_into_place

    built, target = tmp_path / "libmbedtls_all.a", tmp_path / "out"
    built.write_bytes(b"!<arch>\n")
    target.mkdir()
    with pytest.raises(ConfiggenError, match="is a directory"):
        move_into_place(built, target)
    assert built.read_bytes() == b"!<arch>\n" and list(target.iterdir()) == []


# --- messages ---------------------------------------------------------------------------------


def test_diagnose_names_the_log_without_mbedtls_output(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("hello world\nnothing to see\n")
    one_line_error(run_cli("diagnose", str(log)), str(log), "no mbedTLS debug output")


def test_explain_caps_the_echoed_argument():
    line = one_line_error(run_cli("explain", "z" * 100_000))
    assert len(line) < 200 and "\u2026" in line


def test_generate_says_on_stderr_when_it_falls_back_to_the_snapshot(tmp_path):
    # nothing listens on 127.0.0.1:25001 here, so the live probe fails at once
    run = run_cli("generate", "--profile", str(profile(tmp_path)), "-o", str(tmp_path / "o.h"))
    assert run.code == 0, run.err
    assert "configgen: warning: 127.0.0.1:25001 could not be probed" in run.err
    assert "snapshot" in run.err
