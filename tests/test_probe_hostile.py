"""Hostile and broken servers: one clear error, exit 2, within the deadline, never a traceback;
and a server that chokes on some extensions of mbedTLS's default ClientHello."""

from __future__ import annotations

import re
import time

import pytest
from probe_servers import (
    HOSTILE,
    LOOPBACK,
    have,
    hostile_server,
    intolerant_of,
    make_pki,
    openssl_server,
)

from configgen import kb
from configgen.cli import main
from configgen.probe import Target, Timeouts, probe
from configgen.probe.plan import candidates

EXPECTED = {
    "random bytes": "sent bytes that are not TLS: not a TLS record",
    "truncated record": "closed the connection after 46 bytes, mid-record",
    "absurd length": "record length 65535 exceeds the TLS limit",
    "alert to everything": r"refused every ClientHello \(alert handshake_failure\)",
    "reset after ClientHello": "the server reset the connection",
    "never answers": "no answer within 1 s",
    "drips a byte a second": r"sent only \d bytes? within 1 s",
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
