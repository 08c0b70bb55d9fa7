"""diagnose: real debug logs of failing handshakes (ssl_client2 and configgen's client, both
lines, debug levels 1-4, made at test time on 127.0.0.1), each diagnosed to its real cause,
also after a forum has mangled it; and a parser that never raises on arbitrary text."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import make_pki
from test_diagnose_scenarios import SCENARIOS, device_client, produce

from configgen import kb as knowledge
from configgen import sources
from configgen.advise import causes
from configgen.advise.diagnose import diagnose, read_log
from configgen.advise.explain import AdviceInputError
from configgen.cli import main
from configgen.kb.model import LINES

EVERY = [knowledge.load(line) for line in LINES]
COMMITTED = Path(__file__).parent / "data" / "logs"
FLAGS = [(f.bit, f.description) for f in EVERY[-1].verify_flags]
LEVELS = (1, 2, 3, 4)


def diagnosed(text: str):
    return diagnose(read_log(text, FLAGS), EVERY, causes.load())


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[tuple[str, str, int], str]:
    """Every scenario on both lines at debug levels 1-4: (scenario, line, level) -> log."""
    work = tmp_path_factory.mktemp("logs")
    pki, other, ec = make_pki(work / "rsa"), make_pki(work / "other"), make_pki(work / "ec", "ec")
    found = {}
    for line in LINES:
        client = device_client(line, work)
        for scenario in SCENARIOS:
            for level in LEVELS:
                found[scenario.name, line, level] = produce(scenario.name, line, level, pki,
                                                            other, ec, client)
    return found


def expected(name: str, line: str) -> str:
    scenario = next(s for s in SCENARIOS if s.name == name)
    return scenario.cause if scenario.only in (None, line) else "no-failure"


def slug(scenario: str, line: str) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '-', scenario.lower()).strip('-')}-{line}.log"


@pytest.mark.mbedtls
def test_committed_logs_are_these_scenarios(logs, request):
    """tests/data/logs holds the debug level 2 logs, so that the fast tier diagnoses real
    logs too; `pytest --update-golden` rewrites them (the source tree path taken out)."""
    if request.config.getoption("--update-golden"):
        for (name, line, level), text in logs.items():
            if level == 2:
                root = f"{sources.find_tree(line).root}/"
                (COMMITTED / slug(name, line)).write_text(text.replace(root, ""))
    assert sorted(p.name for p in COMMITTED.glob("*.log")) == sorted(
        slug(s.name, line) for s in SCENARIOS for line in LINES)


@pytest.mark.parametrize("path", sorted(COMMITTED.glob("*.log")), ids=lambda p: p.stem)
def test_committed_real_logs_diagnose(path):
    scenario = next(s for s in SCENARIOS for line in LINES if slug(s.name, line) == path.name)
    line = path.stem.rsplit("-", 1)[1]
    text = path.read_text()
    for mangle in (str, everything):
        assert diagnosed(mangle(text)).cause == expected(scenario.name, line), mangle


@pytest.mark.mbedtls
def test_every_real_log_is_diagnosed_to_its_cause(logs):
    wrong = [(key, diagnosed(text).cause, diagnosed(text).summary) for key, text in logs.items()
             if diagnosed(text).cause != expected(key[0], key[1])]
    assert wrong == []
    assert len(logs) == len(SCENARIOS) * len(LINES) * len(LEVELS)


# What forums do to a pasted log -------------------------------------------------------------


def ellipses(text: str) -> str:
    return text.replace("...", "\u2026")


def curly_quotes(text: str) -> str:
    text = re.sub(r"'([^'\n]*)'", "\u2018\\1\u2019", text)
    return re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)


def wrapped(text: str) -> str:
    return "\n".join(textwrap.fill(line, 60, break_long_words=False) if line else ""
                     for line in text.splitlines())


def prefixes_stripped(text: str) -> str:
    return re.sub(r"\S*\.[ch]:\d{4}: \|\d\| ", "", text)


def everything(text: str) -> str:
    return "> " + wrapped(curly_quotes(ellipses(prefixes_stripped(text)))).replace("\n", "\n> ")


@pytest.mark.mbedtls
@pytest.mark.parametrize("mangle", [ellipses, curly_quotes, wrapped, prefixes_stripped, everything])
def test_mangled_logs_still_diagnose(logs, mangle):
    wrong = [(key, diagnosed(mangle(text)).cause) for key, text in logs.items()
             if diagnosed(mangle(text)).cause != expected(key[0], key[1])]
    assert wrong == []


@pytest.mark.mbedtls
def test_the_client_hello_and_server_answers_are_reconstructed(logs):
    no_suite = read_log(logs["no shared suite", "3.6", 3], FLAGS)
    assert no_suite.suites == (0xC02F,) and no_suite.sni == "localhost"
    assert no_suite.line == "3.6" and no_suite.version == "3.6.6"
    assert no_suite.alerts_received == ((2, 40),) and not no_suite.certificate_seen
    summary = diagnosed(logs["no shared suite", "2.28", 3]).summary
    assert "alert 40" in summary and "0xC02F TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256" in summary
    assert "SNI 'localhost'" in diagnosed(logs["EOF after ClientHello", "2.28", 3]).summary
    client_auth = read_log(logs["server demands a client certificate", "2.28", 3], FLAGS)
    assert client_auth.chosen_suite is not None and "parse certificate request" in client_auth.steps
    assert "CN=localhost, O=configgen tests" in client_auth.subjects
    wrong_ca = diagnosed(logs["wrong CA", "3.6", 2])
    assert wrong_ca.trace.verify_flags == 0x08 and wrong_ca.code == -0x2700
    assert "issued by 'CN=configgen test CA rsa, O=configgen tests'" in wrong_ca.fix
    sha1 = diagnosed(logs["SHA-1 root without SHA1_C", "2.28", 1])
    assert sha1.code == -0x262E and "MBEDTLS_SHA1_C" in sha1.fix
    assert read_log(logs["record too large for the buffer", "3.6", 1], FLAGS).notable == (
        "requesting more data than fits",)


@pytest.mark.mbedtls
def test_cli_diagnose(logs, tmp_path, capsys):
    log = tmp_path / "forum.txt"
    log.write_text(everything(logs["no shared suite", "2.28", 3]))
    assert main(["diagnose", str(log)]) == 0
    out = capsys.readouterr().out
    assert "cause (no-common-suite)" in out and "configgen probe" in out
    assert "ClientHello: max version [3:3]; suites (1): 0xC02F" in out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(
    list("=> <=skip parse write certificate request returned (-0x7780) -30592 |1| ssl_tls.c:0042: "
         "add ciphersuite: c02f alert type: [2:40] f_recv() 0 Mbed TLS 3.6.6 alloc( bytes) failed\n"))
    | st.characters(), max_size=400))
def test_the_log_reader_never_raises_on_arbitrary_text(text):
    try:
        trace = read_log(text, FLAGS)
    except AdviceInputError:
        return
    diagnose(trace, EVERY, causes.load())


@pytest.mark.parametrize("content", [b"", b"   \n", b"\x00\x01\x02binary", b"hello world\n"])
def test_cli_bad_logs_are_one_line_exit_2(tmp_path, capsys, content):
    log = tmp_path / "log.txt"
    log.write_bytes(content)
    assert main(["diagnose", str(log)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("configgen: ") and "Traceback" not in err


@pytest.mark.mbedtls
def test_cli_diagnose_reads_stdin(logs):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "configgen", "diagnose", "-"],
                            input=logs["wrong CA", "2.28", 1], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and "cause (untrusted-chain)" in result.stdout
