"""The fuzz tier: bad input to every reader gets the bad-input contract (issue 11).

One property, run once per reader: for a generated input (a profile's TOML structure and
values, a probe snapshot, certificate and key files, headers, debug logs, error codes and
verify flags, HOST:PORT strings, CLI numbers and dates) the command

- exits 0, 1 (a finding) or 2 (bad input), and 2 whenever the generator made the input
  invalid on purpose;
- on exit 2 prints one line (plus hint lines) starting "configgen: " and naming the input;
- never lets an exception escape (a traceback is a bug), and finishes within its budget;
- writes nothing but its output, and leaves an existing output byte-identical when it fails.

The command line runs in-process (configgen.cli.main), so hundreds of examples take
seconds. In CI (CI=true) the examples are derandomized (a fixed seed) and bounded; for a
deeper local run set CONFIGGEN_FUZZ_EXAMPLES, e.g.

    CONFIGGEN_FUZZ_EXAMPLES=2000 pytest -q tests/test_fuzz_inputs.py --hypothesis-show-statistics

Every defect a run found is fixed, and its input is pinned below with @example.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from clirun import Run, run_cli, run_process

DATA = Path(__file__).parent / "data" / "certs"
GOLDEN = Path(__file__).parent / "golden" / "rsa2048-ecdhe-rsa-gcm"
ROOT = DATA / "rsa2048-root.pem"
PROFILE = (GOLDEN / "profile.toml").read_text()
SNAPSHOT = json.loads((GOLDEN / "server.json").read_text())
HEADER = (GOLDEN / "expected-3.6.h").read_text()
SERVER = "127.0.0.1:25001"  # the golden profile's server, named by errors in its facts
EXISTING = "/* an existing header, to be left alone */\n"
BUDGET = 20.0  # seconds one command may take on any input (the slowest, generate, takes ~0.3 s)

FUZZ = settings(
    max_examples=int(os.environ.get("CONFIGGEN_FUZZ_EXAMPLES", "40")),
    derandomize=os.environ.get("CI") == "true",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


@dataclass(frozen=True)
class Case:
    """One generated input: the command to run in a fresh directory, the name its error must
    carry, and whether the input is invalid by construction (then exit 2 is required)."""

    argv: Callable[[Path], list[str]]  # given the work directory (files written there)
    names: tuple[str, ...]  # what a refusal must name (one of): a file, a server, an option
    invalid: bool
    writes: str | None = None  # the output it may write in the work directory

    def __repr__(self) -> str:
        return f"Case({self.names!r}, invalid={self.invalid})"


# --- what bad input looks like -----------------------------------------------------------------

junk_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
junk_bytes = st.binary(max_size=2000)
nasty_strings = st.sampled_from([
    "", " ", "a b", "\x00", "\u00b2", "\u0661\u0662", "1e999", "nan", "inf", "-1", "0",
    "9" * 5000, "z" * 100_000, "0x", "-0x", "0xFFFFFFFFFFFFFFFFFFFF", "\u2212 0x2700",
    "1" * 40, "[", "]", "::", "[::1", "[::1]x", "host:", ":443", "h:65536", "h:-1",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30", "2026-13-01",
    "\ud7ff", "\ufeff1", "1_000", "+5", "0b101", "1.5", ".5", "5.", "1,5",
])
user_strings = st.one_of(nasty_strings, junk_text, st.text(string.printable, max_size=40))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


toml_leaf = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), user_strings)
toml_values = st.recursive(toml_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["host", "port", "value", "reason", "snapshot", "ca", "cert", "key", "tls", "x"]),
        inner, max_size=3)), max_leaves=8)
PROFILE_KEYS = ["board", "mbedtls", "host", "port", "sni", "alpn", "snapshot", "name",
                "app_record_max", "ca", "format", "cert", "key", "tls", "allow_sha1", "margin",
                "at", "psk", "allow_cbc"]


@st.composite
def profile_values(draw) -> Case:
    """The golden profile with one key's value replaced by another type or value."""
    lines = PROFILE.splitlines()
    keyed = [i for i, line in enumerate(lines) if " = " in line]
    index = draw(st.sampled_from(keyed))
    key = lines[index].split(" = ")[0]
    lines[index] = f"{key} = {_toml_value(draw(toml_values))}"
    return _generate_case("\n".join(lines) + "\n", invalid=False)


@st.composite
def profile_structure(draw) -> Case:
    """Tables and keys in places the schema does not have them, or missing where it does."""
    parts = draw(st.lists(st.one_of(
        st.tuples(st.sampled_from(PROFILE_KEYS), toml_values).map(lambda kv: f"{kv[0]} = {_toml_value(kv[1])}"),
        st.sampled_from(["[[server]]", "[trust]", "[client]", "[policy]", "[overrides]",
                         "[overrides.enable]", "[overrides.disable]", "[server]", "[[trust]]",
                         "server = []", "[x.y.z]", 'board = "linux-host"',
                         'MBEDTLS_MPI_MAX_SIZE = { value = "big", reason = "r" }',
                         'MBEDTLS_SHA1_C = { value = 1, reason = "r" }',
                         'MBEDTLS_SSL_IN_CONTENT_LEN = { value = 70000, reason = "r" }',
                         "x = " + "[" * 2000 + "]" * 2000]),
        junk_text), max_size=12))
    return _generate_case("\n".join(parts) + "\n", invalid=False)


@st.composite
def profile_bytes(draw) -> Case:
    data = draw(st.one_of(junk_bytes, st.builds(lambda cut: PROFILE.encode()[:cut],
                                                st.integers(0, len(PROFILE)))))
    return _generate_case(data, invalid=False)


def _absolute(text: str) -> str:
    return (text.replace("../../data/certs/", f"{DATA}/")
            .replace('"server.json"', f'"{GOLDEN / "server.json"}"'))


def _generate_case(text: str | bytes, invalid: bool, snapshot: bytes | None = None) -> Case:
    def argv(work: Path) -> list[str]:
        content = _absolute(text) if isinstance(text, str) else text
        if snapshot is not None:
            (work / "server.json").write_bytes(snapshot)
            content = (content if isinstance(content, str) else content.decode("latin-1")).replace(
                str(GOLDEN / "server.json"), str(work / "server.json"))
        path = work / "tls.toml"
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        return ["generate", "--profile", str(path), "--offline", "-o", str(work / "out.h")]

    # a value that reads well can still contradict the facts: then the server is named
    return Case(argv, ("tls.toml", SERVER) if snapshot is None else ("server.json", SERVER),
                invalid, writes="out.h")


def _json_mutation(draw, data: object, depth: int = 0) -> object:
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data)))
        how = draw(st.sampled_from(["drop", "replace", "recurse", "add"]))
        out = dict(data)
        if how == "drop":
            del out[key]
        elif how == "add":
            out[draw(junk_text)] = draw(json_values)
        elif how == "recurse":
            out[key] = _json_mutation(draw, data[key], depth + 1)
        else:
            out[key] = draw(json_values)
        return out
    if isinstance(data, list) and data and draw(st.booleans()):
        out = list(data)
        index = draw(st.integers(0, len(out) - 1))
        out[index] = _json_mutation(draw, out[index], depth + 1)
        return out
    return draw(json_values)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), user_strings),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(junk_text, inner, max_size=3)),
    max_leaves=6)


@st.composite
def snapshots(draw) -> Case:
    """The golden snapshot with one value dropped or replaced, or not JSON at all."""
    choice = draw(st.sampled_from(["mutate", "bytes", "deep"]))
    if choice == "mutate":
        data = json.dumps(_json_mutation(draw, SNAPSHOT), allow_nan=True).encode()
    elif choice == "deep":
        data = b"[" * 50_000 + b"]" * 50_000
    else:
        data = draw(junk_bytes)
    case = _generate_case(PROFILE, invalid=False, snapshot=data)
    return Case(case.argv, case.names, choice != "mutate", case.writes)


CERT_FILES = sorted(p for p in DATA.iterdir() if p.suffix in (".pem", ".key"))


@st.composite
def certificates(draw) -> Case:
    """Certificate and key files cut short, with bytes flipped, or not PEM/DER at all."""
    source = draw(st.sampled_from(CERT_FILES)).read_bytes()
    how = draw(st.sampled_from(["cut", "flip", "junk", "der-cut"]))
    if how == "cut":
        data = source[:draw(st.integers(0, len(source) - 1))]
    elif how == "flip":
        data = bytearray(source)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = bytes(data)
    elif how == "der-cut":
        data = b"\x30\x82" + draw(junk_bytes)
    else:
        data = draw(junk_bytes)
    return certificate_case(data, draw(st.booleans()), how in ("junk", "der-cut"))


def certificate_case(data: bytes, as_ca: bool, invalid: bool) -> Case:
    def argv(work: Path) -> list[str]:
        (work / "cert.pem").write_bytes(data)
        return (["inspect", str(ROOT), "--ca", str(work / "cert.pem")] if as_ca
                else ["inspect", str(work / "cert.pem")])

    return Case(argv, ("cert.pem",), invalid)


HEADER_FRAGMENTS = ["#define", "#define 123 4", "#define MBEDTLS_X (", "#define MBEDTLS_X )",
                    "/*", "*/", "#if", "#endif", "#else", "#ifdef", "#ifndef 1", "#undef",
                    "#define MBEDTLS_SSL_IN_CONTENT_LEN big", "int x;", "\\", "#", "//#define",
                    '#define MBEDTLS_CONFIG_FILE "a(b"', "#define MBEDTLS_SHA1_C /* x"]


@st.composite
def headers(draw) -> Case:
    """The golden header with fragments of C (and not C) inserted, or arbitrary bytes."""
    lines = HEADER.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        fragment = draw(st.one_of(st.sampled_from(HEADER_FRAGMENTS), junk_text))
        lines.insert(draw(st.integers(0, len(lines))), fragment + "\n")
    data = draw(st.one_of(st.just("".join(lines).encode("utf-8", "surrogatepass")), junk_bytes))
    command = draw(st.sampled_from(["diff", "review"]))

    def argv(work: Path) -> list[str]:
        (work / "config.h").write_bytes(data)
        if command == "diff":
            return ["diff", str(GOLDEN / "expected-3.6.h"), str(work / "config.h")]
        (work / "tls.toml").write_text(_absolute(PROFILE))
        return ["review", str(work / "config.h"), "--profile", str(work / "tls.toml"), "--offline"]

    return Case(argv, ("config.h",), False)


LOG_LINES = ["ssl_tls.c:1234: |2| => write client hello", "|1| <= handshake",
             "ssl_msg.c:5: |1| mbedtls_ssl_fetch_input() returned -29312 (-0x7280)",
             "! mbedtls_ssl_handshake returned -0x7780", "Last error was: -0x2700",
             "subject name      : CN=x", "verify flags 0x0008", "alloc(99999) failed",
             "got an alert message, type: [2:40]", "add ciphersuite: c02f",
             "server hello, chosen ciphersuite: c030", "adding server name extension: x"]


@st.composite
def logs(draw) -> Case:
    """Debug logs with junk between real lines, very long lines, or no mbedTLS output."""
    lines = draw(st.lists(st.one_of(st.sampled_from(LOG_LINES), junk_text,
                                    st.builds(lambda c, n: c * n, st.sampled_from("a./|(0 "),
                                              st.integers(1000, 30_000))), max_size=10))
    data = draw(st.one_of(st.just("\n".join(lines).encode("utf-8", "surrogatepass")), junk_bytes))

    def argv(work: Path) -> list[str]:
        (work / "debug.log").write_bytes(data)
        return ["diagnose", str(work / "debug.log")]

    return Case(argv, ("debug.log",), not data.strip())


def code_case(text: str, flags: bool) -> Case:
    return Case(lambda work: ["explain", f"--flags={text}"] if flags else ["explain", "--", text],
                ("",), False)


codes = st.builds(code_case, user_strings, st.booleans())


@st.composite
def servers(draw) -> Case:
    """HOST:PORT strings; verify parses them before anything else, and without --ca any valid
    one stops at '--server needs --ca' (so nothing connects anywhere)."""
    text = draw(st.one_of(user_strings, st.builds(lambda h, p: f"{h}:{p}", user_strings, user_strings)))
    return Case(lambda work: ["verify", str(GOLDEN / "expected-3.6.h"), f"--server={text}"],
                ("",), True)


@st.composite
def numbers(draw) -> Case:
    """--timeout / --deadline values that are not positive finite seconds (probe refuses
    them before it connects)."""
    text = draw(st.one_of(nasty_strings, st.floats().map(repr), junk_text).filter(_not_seconds))
    option = draw(st.sampled_from(["--timeout", "--deadline"]))
    return Case(lambda work: ["probe", "127.0.0.1:1", f"{option}={text}"], (option,), True)


def _not_seconds(text: str) -> bool:
    from configgen.errors import ConfiggenError
    from configgen.values import seconds

    try:
        seconds(text, "x")
    except ConfiggenError:
        return True
    return False


@st.composite
def dates(draw) -> Case:
    text = draw(st.one_of(nasty_strings, junk_text,
                          st.datetimes().map(lambda d: d.isoformat()),
                          st.builds(lambda d, h: f"{d.isoformat()}T00:00:00{h}",
                                    st.dates(), st.sampled_from(["+01:00", "-01:00", "Z", "+23:59"]))))
    return Case(lambda work: ["inspect", str(ROOT), f"--at={text}"], ("--at",), False)


READERS = {
    "profile-values": profile_values(),
    "profile-structure": profile_structure(),
    "profile-bytes": profile_bytes(),
    "snapshot": snapshots(),
    "certificate": certificates(),
    "header": headers(),
    "log": logs(),
    "code": codes,
    "server": servers(),
    "number": numbers(),
    "date": dates(),
}


# --- the property ------------------------------------------------------------------------------


def check_contract(case: Case, runner: Callable[..., Run] = run_cli) -> Run:
    """Run one case in a fresh directory and assert the bad-input contract."""
    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        argv = case.argv(work)
        before = set(work.iterdir())
        if case.writes:
            (work / case.writes).write_text(EXISTING)
        started = time.monotonic()
        run = runner(*argv)
        took = time.monotonic() - started
        assert took < BUDGET, f"{argv[0]} took {took:.1f} s"
        assert "Traceback" not in run.err, run.err
        assert run.code in (0, 1, 2), run
        if case.invalid:
            assert run.code == 2, (argv[:3], run.out[-300:], run.err)
        if run.code == 2:
            lines = [line for line in run.err.splitlines() if not line.startswith("  hint:")
                     and not line.startswith("configgen: warning: ")]
            assert len(lines) == 1 and lines[0].startswith("configgen: "), run.err
            assert any(name in lines[0] for name in case.names), (case.names, lines[0][:300])
            assert len(lines[0]) < 600, lines[0][:300]
        after = set(work.iterdir()) - before - ({work / case.writes} if case.writes else set())
        assert not after, sorted(p.name for p in after)
        if case.writes and run.code != 0:
            assert (work / case.writes).read_text() == EXISTING
        return run


def fuzz(strategy: st.SearchStrategy[Case], *found: Case):
    """The property over one reader's inputs; `found` pins what earlier runs found."""

    @FUZZ
    @given(case=strategy)
    def test(case: Case) -> None:
        event(f"exit {check_contract(case).code}")  # the statistics show each exit's share

    for case in found:
        test = example(case=case)(test)
    return test


def profile_case(old: str, new: str) -> Case:
    assert old in PROFILE
    return _generate_case(PROFILE.replace(old, new), invalid=True)


# What the fuzz runs found (each fixed): named after the reader whose property found it.
test_profile_values = fuzz(
    READERS["profile-values"],
    profile_case('board = "linux-host"', 'board = ""'),  # unknown board named no key
    profile_case('host = "127.0.0.1"', 'host = "\u00b2"'),  # IDNA read "²" as the host "2"
)
test_profile_structure = fuzz(READERS["profile-structure"])
test_profile_bytes = fuzz(READERS["profile-bytes"])
test_snapshot = fuzz(READERS["snapshot"])
test_certificate = fuzz(
    READERS["certificate"],
    # a PEM label echoed whole: one error line of 600+ characters
    certificate_case(b"-----BEGIN CERTIFICATE\x00----\n" + (b"QUFB" * 16 + b"\n") * 20
                     + b"-----END X-----\n", False, True),
)
test_header = fuzz(READERS["header"])
test_log = fuzz(READERS["log"])
test_code = fuzz(READERS["code"], code_case("\n", False))  # a newline echoed: two lines
test_server = fuzz(READERS["server"])
test_number = fuzz(READERS["number"])
test_date = fuzz(READERS["date"])


def test_the_same_contract_through_the_console_script():
    """A few cases through a real `python -m configgen` process (exit status, stderr)."""
    for case in (profile_case('board = "linux-host"', 'board = ""'), code_case("9" * 5000, False),
                 certificate_case(b"\x30\x82\xff", True, True)):
        check_contract(case, run_process)
