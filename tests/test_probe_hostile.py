"""Hostile and broken servers: one clear error, exit 2, within the deadline, never a traceback;
and a server that chokes on some extensions of mbedTLS's default ClientHello."""

from __future__ import annotations

import json
import re
import time

import pytest
from probe_servers import (
    HOSTILE,
    LOOPBACK,
    have,
    hostile_server,
    intolerant_of,
    lying_server,
    make_pki,
    openssl_server,
)

from configgen import kb
from configgen.cli import main
from configgen.model.facts import ServerFacts
from configgen.probe import Target, Timeouts, probe
from configgen.model.facts import Status
from configgen.probe.plan import candidates

EXPECTED = {
    "random bytes": "sent bytes that are not TLS: not a TLS record",
    "truncated record": "closed the connection after 46 bytes, mid-record",
    "absurd length": "record length 65535 exceeds the TLS limit",
    "alert to everything": r"refused every ClientHello \(alert handshake_failure\)",
    "reset after ClientHello": "the server reset the connection",
    "never answers": "no answer within 1 s",
    "drips a byte a second": r"sent only \d bytes? within 1 s",
    "floods HelloRequests": r"sent a ServerHello, then no ServerHelloDone: sent more than \d+ (records|handshake messages) without ending its flight",
    "trickles HelloRequests": r"sent a ServerHello, then no ServerHelloDone: sent only \d+ bytes within 1 s",
    "chooses a suite never offered": r"chose suite 0x[0-9A-F]{4}, which was not offered",
    "TLS 1.3 suite in a TLS 1.2 ServerHello": "chose the TLS 1.3 suite 0x1301 in a TLS 1.2 ServerHello",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_server_gives_one_clear_error(name, capsys):
    deadline = 4
    with hostile_server(HOSTILE[name]) as port:
        start = time.monotonic()
        code = main(["probe", f"{LOOPBACK}:{port}", "--timeout", "1",
                     "--deadline", str(deadline)])
        elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    first, *rest = err.splitlines()
    assert first.startswith(f"configgen: {LOOPBACK}:{port}: ")
    assert re.search(EXPECTED[name], first)
    assert all(line.startswith("  hint: ") for line in rest) and len(rest) <= 1
    assert elapsed < deadline + 1


def test_nothing_listening(capsys):
    with hostile_server(HOSTILE["never answers"]) as port:
        pass  # closed again: nothing listens on the port now
    assert main(["probe", f"{LOOPBACK}:{port}", "--timeout", "1"]) == 2
    assert "connection refused" in capsys.readouterr().err


@pytest.mark.skipif(not have("openssl"), reason="openssl is not installed")
@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_intolerance_names_the_extensions_to_blame(tmp_path, line):
    choked = {0, 22, 23, 35}  # server_name, encrypt_then_mac, extended_master_secret, session_ticket
    pki = make_pki(tmp_path)
    with openssl_server(pki, "-tls1_2") as upstream, hostile_server(
        intolerant_of(choked, upstream)
    ) as port:
        tls12, tls13 = candidates(kb.load(line).suites)
        target = Target(LOOPBACK, port, "localhost", (), line, tls12, tls13)
        facts = probe(target, Timeouts(1, 1), 20)
    assert facts.intolerance.blamed == (
        "encrypt_then_mac", "extended_master_secret", "server_name", "session_ticket")
    assert facts.intolerance.default_hello.value == "timeout"
    assert facts.tls12_suites  # the rest of the probe ran without the blamed extensions
    assert facts.sni is None
    assert facts.extensions.extended_master_secret is None  # not asked: the server chokes on it
    assert facts.extensions.renegotiation_info is True


def test_the_deadline_cuts_connections_short(capsys):
    with hostile_server(HOSTILE["never answers"]) as port:
        start = time.monotonic()
        code = main(["probe", f"{LOOPBACK}:{port}", "--timeout", "30", "--deadline", "1.5"])
        elapsed = time.monotonic() - start
    assert code == 2
    assert "no answer within 1.5 s" in capsys.readouterr().err
    assert elapsed < 2.5


def test_progress_is_shown_on_a_terminal_only(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    with hostile_server(HOSTILE["alert to everything"]) as port:
        leader, follower = pty.openpty()
        process = subprocess.run(
            [sys.executable, "-m", "configgen", "probe", f"{LOOPBACK}:{port}", "--timeout", "1"],
            stdout=subprocess.PIPE, stderr=follower, timeout=30, check=False)
        os.close(follower)
        shown = os.read(leader, 65536).decode()
        os.close(leader)
    assert process.returncode == 2
    assert f"probing {LOOPBACK}:{port}: 1 connections" in shown
    assert shown.rstrip().splitlines()[-2].endswith("refused every ClientHello (alert handshake_failure)")


def _probe(port: int, deadline: float = 10) -> ServerFacts:
    tls12, tls13 = candidates(kb.load("3.6").suites)
    return probe(Target(LOOPBACK, port, None, (), "3.6", tls12, tls13), Timeouts(1, 1), deadline)


def _violations(facts: ServerFacts) -> dict[str, str]:
    return {a.question: a.detail for a in facts.attempts if a.status is Status.VIOLATION}


@pytest.mark.parametrize("lie, question, reason", [
    ("version never offered", "TLS 1.1", r"chose TLS 1\.2, which was not offered \(TLS 1\.1\)"),
    ("TLS 1.2 suite in a TLS 1.3 ServerHello", "default ClientHello",
     "chose the TLS 1.2 suite 0xC02F in a TLS 1.3 ServerHello"),
    ("TLS 1.3 suite in a TLS 1.2 ServerHello", "TLS 1.3",
     "chose the TLS 1.3 suite 0x1301 in a TLS 1.2 ServerHello"),
    ("key share never sent", "TLS 1.3", "answered a secp384r1 key share, which was not sent"),
    ("curve never offered", "TLS 1.2 curves", "chose curve 0x0042 for ECDHE, which was not offered"),
])
def test_impossible_answers_are_violations_never_facts(lie, question, reason):
    with hostile_server(lying_server(lie)) as port:
        facts = _probe(port)
    assert re.fullmatch(reason, _violations(facts)[question])
    assert facts.versions == ("1.2",)  # what the server really speaks, and nothing else
    assert [s.id for s in facts.tls12_suites] == [0xC02F, 0xC030]
    curves = ("x25519", "secp256r1", "secp384r1")
    if lie == "curve never offered":  # asked about secp256r1 alone, it answered 0x0042
        curves = ("x25519", "secp384r1")
    assert facts.tls12_curves == curves
    assert facts.tls13_suites == () and facts.tls13_groups == () and facts.tls13_retry is None


def test_violations_are_shown_and_recorded(capsys):
    with hostile_server(lying_server("TLS 1.3 suite in a TLS 1.2 ServerHello")) as port:
        assert main(["probe", f"{LOOPBACK}:{port}", "--timeout", "1"]) == 0
        text = capsys.readouterr().out
        assert main(["probe", f"{LOOPBACK}:{port}", "--timeout", "1", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
    assert ("violation       TLS 1.3: chose the TLS 1.3 suite 0x1301 in a TLS 1.2 ServerHello"
            in text.splitlines())
    assert {"question": "TLS 1.3", "status": "violation",
            "detail": "chose the TLS 1.3 suite 0x1301 in a TLS 1.2 ServerHello"} in data["attempts"]


def test_a_probe_cut_short_by_its_deadline_says_so(capsys):
    with hostile_server(lying_server("hangs when asked for max_fragment_length")) as port:
        start = time.monotonic()
        code = main(["probe", f"{LOOPBACK}:{port}", "--timeout", "5", "--deadline", "3"])
        elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert re.match(rf"configgen: {LOOPBACK}:{port}: the probe did not finish within its deadline "
                    r"of 3 s \(4 questions cut short, e.g. max_fragment_length: no answer within "
                    r"\d(\.\d)? s\)$", err.splitlines()[0])
    assert elapsed < 3.5
