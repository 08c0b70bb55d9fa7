"""The wizard as a new user meets it: the real console script in a tmux terminal (send-keys,
capture-pane) against `openssl s_server` on 127.0.0.1 that asks for a client certificate."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from probe_servers import hostile_server, make_pki, never_answers, openssl_server

CONFIGGEN = str(Path(sys.executable).parent / "configgen")
NO_TERMINAL = 'configgen: no terminal to ask on; use "configgen generate --profile FILE"\n'

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One tmux server of our own (its socket in a test directory), running one command."""

    def __init__(self, socket: Path):
        self.socket = str(socket)
        self.windows = 0

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def start(self, cwd: Path, *argv: str) -> None:
        command = " ".join(argv) + '; echo "exit status $?"; sleep 120'
        if self.windows == 0:
            self.tmux("new-session", "-d", "-x", "160", "-y", "60", "-c", str(cwd), command)
        else:  # a fresh window (and screen) for the next run; capture-pane reads the current one
            self.tmux("new-window", "-c", str(cwd), command)
        self.windows += 1

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{self.screen()}")

    def answer(self, question: str, keys: str) -> str:
        """Wait for the question, type the keys and Enter (every question needs Enter)."""
        # Before it offers to write, the wizard proves the header: mbedTLS is built with it.
        shown = self.wait_for(question, 600 if question.startswith("Write") else 30)
        if keys:
            self.tmux("send-keys", "-l", keys)
        self.tmux("send-keys", "Enter")
        return shown

    def key(self, name: str) -> None:
        self.tmux("send-keys", name)

    def stop(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], check=False,
                       capture_output=True)


@pytest.fixture
def terminal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tmux]:
    tmux = Tmux(tmp_path_factory.mktemp("tmux") / "socket")
    try:
        yield tmux
    finally:
        tmux.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    pki = make_pki(tmp_path_factory.mktemp("pki"), kind="ec")
    with openssl_server(pki, "-Verify", "1", "-CAfile", str(pki.ca)) as port:
        yield port, pki.ca.parent


@pytest.fixture
def work(tmp_path: Path, server: tuple[int, Path]) -> Path:
    shutil.copytree(server[1], tmp_path / "certs")
    return tmp_path


# (question shown, keys typed before Enter)
def first_run(port: int) -> list[tuple[str, str]]:
    return [
        ("Server the device connects to", f"127.0.0.1:{port}"),
        ("Server name (SNI)", "localhost"),
        ("ALPN protocols", ""),
        ("Largest message the device receives", ""),
        ("Another server?", "n"),  # a yes/no answer waits for Enter too
        ("Board", ""),
        ("mbedTLS line", ""),
        ("Output format", ""),  # the board is an ESP32
        ("Trust anchors", "certs/ca.pem"),
        ("client certificate?", ""),  # the server asked for one: yes by default
        ("Client certificate file", "certs/client.pem"),
        ("Client private key file", "certs/ckey.pem"),
        ("Write tls.toml", "y"),
    ]


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def test_full_run_then_generate_gives_the_same_header_and_a_rerun_prefills(terminal, work, server):
    port = server[0]
    terminal.start(work, CONFIGGEN, "wizard")
    for question, keys in first_run(port):
        terminal.answer(question, keys)
    shown = terminal.wait_for("exit status 0")
    assert shown.index("Findings") < shown.index("What the header enables") < shown.index("Wrote tls.toml")
    assert "the trust anchors sign the server's chain" in shown
    assert f"127.0.0.1:{port}: TLS " in shown and "asks for a client certificate" in shown
    header = (work / "mbedtls_config.h").read_bytes()
    profile = (work / "tls.toml").read_bytes()
    assert (work / f"tls.127.0.0.1-{port}.json").is_file()

    (work / "again").mkdir()
    printed = "configgen generate --profile tls.toml --offline -o mbedtls_config.h"
    assert f"\n  {printed}\n" in shown  # what the wizard says regenerates the header
    regenerate = [CONFIGGEN, *printed.split()[1:-1], "again/mbedtls_config.h"]
    subprocess.run(regenerate, cwd=work, check=True, capture_output=True)
    assert (work / "again" / "mbedtls_config.h").read_bytes() == header

    terminal.start(work, CONFIGGEN, "wizard")
    prefilled = {
        "Server the device connects to": f"127.0.0.1:{port}",
        "Server name (SNI)": "localhost",
        "Trust anchors": "certs/ca.pem",
        "Client certificate file": "certs/client.pem",
        "Client private key file": "certs/ckey.pem",
    }
    for question, _ in first_run(port):
        shown = terminal.answer(question, "y" if question.startswith("Write") else "")
        if question in prefilled:
            line = next(line for line in shown.splitlines() if question in line)
            assert line.rstrip().endswith(prefilled[question]), line
    terminal.wait_for("exit status 0")
    assert (work / "tls.toml").read_bytes() == profile


@pytest.mark.parametrize("answered", [0, 4, 7, 10])
def test_ctrl_c_at_any_point_leaves_no_file(terminal, work, server, answered):
    before = files(work)
    terminal.start(work, CONFIGGEN, "wizard")
    steps = first_run(server[0])
    for question, keys in steps[:answered]:
        terminal.answer(question, keys)
    terminal.wait_for(steps[answered][0])
    terminal.key("C-c")
    shown = terminal.wait_for("exit status 130")
    assert "configgen: stopped by user" in shown
    assert files(work) == before
    assert not list(work.glob("*.new"))


def test_ctrl_c_while_probing_leaves_no_file(terminal, work):
    before = files(work)
    with hostile_server(never_answers) as port:
        terminal.start(work, CONFIGGEN, "wizard")
        for question, keys in first_run(port)[:4]:
            terminal.answer(question, keys)
        terminal.wait_for(f"probing 127.0.0.1:{port}: 0 connections")
        terminal.key("C-c")
        shown = terminal.wait_for("exit status 130")
    assert "configgen: stopped by user" in shown
    assert files(work) == before


def test_no_terminal_says_to_use_generate(tmp_path):
    result = subprocess.run([CONFIGGEN, "wizard"], check=False, cwd=tmp_path, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (2, NO_TERMINAL)
    assert list(tmp_path.iterdir()) == []
