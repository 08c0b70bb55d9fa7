"""The wizard's question logic, in-process: keys through a prompt_toolkit pipe, no terminal,
no network (the probe replays a golden snapshot), as questionary's own tests drive prompts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from configgen import profile as profiles
from configgen import sources
from configgen.errors import ConfiggenError
from configgen.generate import generate
from configgen.model.facts import ServerFacts
from configgen.probe import Target, snapshot
from configgen.wizard import Declined, Wizard
from configgen.wizard.answers import State, existing_answers
from configgen.wizard.findings import findings
from configgen.wizard.prompts import Terminal, ask
from configgen.wizard.questions import (
    FILE_QUESTIONS,
    PLATFORM_QUESTIONS,
    SOURCE_TREE,
    Kind,
    Question,
    check_address,
    check_app_record_max,
    check_certificates,
    check_key,
    more_servers,
    server_questions,
    write_files,
)

ROOT = Path(__file__).parent
CASE = ROOT / "golden" / "p256-ccm8-client-auth"
CERTS = ROOT / "data" / "certs"
ENTER, DOWN, CTRL_C = "\r", "\x1b[B", "\x03"

# address, SNI, ALPN, largest message, another server?, board, line, output format (the board
# is an ESP32), CA, client cert?, cert, key, write? (a yes/no answer needs Enter too)
FIRST_RUN = ["127.0.0.1:25003\r", "localhost\r", ENTER, ENTER, "n\r", ENTER, ENTER, ENTER, "ca.pem\r",
             "y\r", "device.pem\r", "device.key\r", "y\r"]
RERUN = [ENTER, ENTER, ENTER, ENTER, "n\r", ENTER, ENTER, ENTER, ENTER, "y\r", ENTER, ENTER, "y\r"]


def replay(target: Target, progress) -> ServerFacts:
    progress(1, "replayed")
    return dataclasses.replace(snapshot.load(CASE / "server.json"), host=target.host, port=target.port)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(CERTS / "p256-root.pem", tmp_path / "ca.pem")
    shutil.copy(CERTS / "p256-device.pem", tmp_path / "device.pem")
    shutil.copy(CERTS / "p256-device.key", tmp_path / "device.key")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def keys() -> Iterator:
    with create_pipe_input() as pipe:
        yield pipe


def run_wizard(pipe, keys: list[str], directory: Path):
    pipe.send_text("".join(keys))
    wizard = Wizard(directory / "tls.toml", directory / "mbedtls_config.h",
                    Terminal(pipe, DummyOutput()), replay)
    return wizard.run()


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_full_run_writes_a_profile_generate_reproduces(work, keys, capsys):
    result = run_wizard(keys, FIRST_RUN, work)
    shown = capsys.readouterr().out
    assert "127.0.0.1:25003: TLS 1.2, 1 suite(s) accepted" in shown
    assert "ok       127.0.0.1:25003  the trust anchors sign the server's chain" in shown
    assert "MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8" in shown
    loaded = profiles.load(work / "tls.toml")
    assert loaded.board.name == "esp32" and loaded.mbedtls == "3.6"
    (server,) = loaded.servers
    assert (server.host, server.port, server.sni) == ("127.0.0.1", 25003, "localhost")
    assert server.snapshot == work / "tls.127.0.0.1-25003.json"
    assert loaded.client_cert == work / "device.pem" and loaded.ca == (work / "ca.pem",)
    header = (work / "mbedtls_config.h").read_text()
    assert header == result.text
    assert generate(loaded, "mbedtls_config.h", offline=True).text == header
    assert "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED" in header


def test_a_yes_no_answer_and_its_enter_answer_one_question(keys):
    # Answered on the key press alone, "n" + Enter also answered the next question: the stray
    # Enter took its default (before writing: it confirmed writing the profile and header).
    questions = [Question("more", Kind.CONFIRM, "Another server?", "no: that was the last"),
                 Question("name", Kind.TEXT, "Name", "anything")]
    keys.send_text("n\r" + "next\r")
    state = State({})
    state.ask(questions, Terminal(keys, DummyOutput()))
    assert state.answered == {"more": False, "name": "next"}


YES_NO = [q for q in (*server_questions(0), more_servers(0), *PLATFORM_QUESTIONS, *FILE_QUESTIONS,
                      write_files(Path("tls.toml"), 1, Path("mbedtls_config.h"))) if q.kind is Kind.CONFIRM]


@pytest.mark.parametrize("question", YES_NO, ids=lambda q: q.name)
def test_every_yes_no_question_waits_for_enter(keys, question):
    # A single key press never answers: "n" alone leaves the question open (the "y" after it
    # changes the answer), Enter gives it, and nothing is left over for the next question.
    keys.send_text("ny\r" + "next\r")
    terminal = Terminal(keys, DummyOutput())
    assert ask(question, {question.name: False}, terminal) is True
    assert ask(Question("name", Kind.TEXT, "Name", "anything"), {}, terminal) == "next"


def test_rerun_prefills_every_answer_and_changes_nothing(work, keys):
    run_wizard(keys, FIRST_RUN, work)
    before = listing(work)
    run_wizard(keys, RERUN, work)
    assert listing(work) == before


def test_two_servers_two_snapshots(work, keys):
    second = ["127.0.0.1:25004\r", "localhost\r", "mqtt, x-amzn-mqtt-ca\r", "1024\r"]
    run_wizard(keys, FIRST_RUN[:4] + ["y\r"] + second + FIRST_RUN[4:], work)
    loaded = profiles.load(work / "tls.toml")
    assert [(s.port, s.alpn, s.app_record_max) for s in loaded.servers] == [
        (25003, (), None), (25004, ("mqtt", "x-amzn-mqtt-ca"), 1024)]
    assert sorted(p.name for p in work.glob("*.json")) == [
        "tls.127.0.0.1-25003.json", "tls.127.0.0.1-25004.json"]


def test_existing_profile_as_answers(work, keys):
    run_wizard(keys, FIRST_RUN, work)
    assert existing_answers(work / "tls.toml") == {
        "board": "esp32", "mbedtls": "3.6", "server.0.address": "127.0.0.1:25003",
        "server.0.sni": "localhost", "server.0.alpn": "", "server.0.app_record_max": "",
        "server.more.0": False,
        "server.0.snapshot": "tls.127.0.0.1-25003.json", "trust.ca": "ca.pem",
        "trust.format": "pem", "client": True, "client.cert": "device.pem",
        "client.key": "device.key", "policy.psk": False,
    }


def test_rerun_keeps_what_the_wizard_does_not_ask(work, keys):
    run_wizard(keys, FIRST_RUN, work)
    profile = work / "tls.toml"
    extra = '\n# bring-up\n[overrides.enable]\nMBEDTLS_DEBUG_C = "debug logs"\n\n[policy]\nat = "2026-11-23"\n'
    profile.write_text(profile.read_text() + extra)
    run_wizard(keys, RERUN, work)
    assert profile.read_text().endswith(extra)
    assert "MBEDTLS_DEBUG_C" in (work / "mbedtls_config.h").read_text()


def test_declining_leaves_nothing(work, keys):
    before = listing(work)
    with pytest.raises(Declined):
        run_wizard(keys, FIRST_RUN[:-1] + ["n\r"], work)
    assert listing(work) == before


def test_ctrl_c_at_the_last_question_restores_the_old_profile(work, keys):
    run_wizard(keys, FIRST_RUN, work)
    before = listing(work)
    with pytest.raises(KeyboardInterrupt):
        run_wizard(keys, RERUN[:2] + ["mqtt\r"] + RERUN[3:-1] + [CTRL_C], work)
    assert listing(work) == before


def test_ctrl_c_at_a_question_writes_nothing(work, keys):
    before = listing(work)
    with pytest.raises(KeyboardInterrupt):
        run_wizard(keys, FIRST_RUN[:7] + [CTRL_C], work)
    assert listing(work) == before


def test_chain_the_anchors_do_not_sign_stops_and_leaves_nothing(work, keys, capsys):
    shutil.copy(CERTS / "rsa2048-root.pem", work / "ca.pem")
    before = listing(work)
    with pytest.raises(ConfiggenError, match="does not verify against the trust anchors"):
        run_wizard(keys, FIRST_RUN, work)
    assert listing(work) == before
    table = capsys.readouterr().out.split("Findings\n")[1].splitlines()
    assert table[0].split()[:2] == ["error", "127.0.0.1:25003"]


def critical_policies_root(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "policy root")])
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    policy = x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), None)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.CertificatePolicies([policy]), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_findings_put_problems_first(work, keys, capsys):
    critical_policies_root(work / "ca.pem")
    with pytest.raises(ConfiggenError):
        run_wizard(keys, FIRST_RUN, work)
    table = capsys.readouterr().out.split("Findings\n")[1].split("\n\n")[0].splitlines()
    severities = [row.split()[0] for row in table]
    assert severities == sorted(severities, key=["error", "warning", "note", "ok"].index)
    assert any("critical" in row and "certificatePolicies" in row for row in table), table
    assert any("policy root" in row and row.split()[0] == "error" for row in table), table


def test_sha1_root_is_a_finding():
    case = ROOT / "golden" / "sha1-root-rsa4096-large-chain"
    rows = findings(profiles.load(case / "profile.toml"), [snapshot.load(case / "server.json")], None)
    assert rows[0].severity == "warning" and rows[0].message.startswith("SHA-1 root:")
    assert rows[-1].severity == "ok"


def test_line_detected_from_a_source_tree(work, keys, capsys):
    tree = sources.cached_tree("3.6")
    if tree is None:
        pytest.skip("no mbedTLS 3.6 tree in the cache (configgen sources 3.6)")
    run_wizard(keys, FIRST_RUN[:6] + [DOWN + ENTER, f"{tree.root}\r"] + FIRST_RUN[7:], work)
    assert profiles.load(work / "tls.toml").mbedtls == "3.6"
    assert f"{tree.root}: mbedTLS 3.6.6" in capsys.readouterr().out
    assert SOURCE_TREE not in (work / "tls.toml").read_text()


def test_rerun_keeps_a_board_named_by_path(work, keys):
    shutil.copy(ROOT.parent / "profiles" / "esp32.toml", work / "myboard.toml")
    run_wizard(keys, FIRST_RUN, work)
    profile = work / "tls.toml"
    profile.write_text(profile.read_text().replace('board = "esp32"', 'board = "myboard.toml"'))
    run_wizard(keys, RERUN, work)
    assert 'board = "myboard.toml"' in profile.read_text()


def test_missing_client_certificate_is_the_first_finding(work, keys, capsys):
    no_client = FIRST_RUN[:9] + ["n\r"]
    with pytest.raises(ConfiggenError, match="asks for a client certificate"):
        run_wizard(keys, no_client, work)
    table = capsys.readouterr().out.split("Findings\n")[1].splitlines()
    assert "the server asks for a client certificate and you gave none" in table[0]


def test_key_password_is_asked_checked_and_never_written(work, keys, capsys):
    key = serialization.load_pem_private_key((work / "device.key").read_bytes(), None)
    (work / "device.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret-pw")))
    wrong_then_right = ["wrong\r", "\x15s3cret-pw\r"]  # Ctrl-U clears the refused answer
    run_wizard(keys, FIRST_RUN[:-1] + wrong_then_right + ["y\r"], work)
    assert "ok       device.key       EC secp256r1 key of the client certificate" in capsys.readouterr().out
    assert not any(b"s3cret" in data for data in listing(work).values())


def test_layers_existing_profile_over_facts_over_board():
    facts = snapshot.load(CASE / "server.json")
    fresh = State({}, facts={0: facts}).layered()
    assert fresh["client"] is True  # the server asks for one
    assert fresh["board"] == profiles.board_names()[0]
    kept = State({"client": False, "board": "pico-w"}, facts={0: facts}).layered()
    assert kept["client"] is False
    assert kept["mbedtls"] == profiles.load_board("pico-w").mbedtls[0]
    assert State({}, {"mbedtls": "2.28"}).layered()["mbedtls"] == "2.28"


def test_validators_are_the_tools_own_checks(work):
    assert check_address("127.0.0.1:8883") is None
    assert "port from 1 to 65535" in check_address("host:99999")
    assert check_app_record_max("") is None and check_app_record_max("4096") is None
    assert check_app_record_max("16385") == check_app_record_max("0") == "must be 1-16384 bytes"
    assert check_app_record_max("big") == check_app_record_max("²") == check_app_record_max("１２") == (
        "a number of bytes, or empty when unknown")
    assert check_certificates("ca.pem") is None
    assert check_certificates("missing.pem") == "missing.pem: no such file"
    assert check_key("ca.pem") == "holds no key"
    assert check_key("device.key") is None


def test_client_file_questions_only_when_the_device_presents_one():
    asked = [q.name for q in FILE_QUESTIONS if q.when({"client": False})]
    assert asked == ["trust.ca", "client"]


def test_esp32_board_asks_the_output_format_and_the_profile_keeps_it(work, keys, capsys):
    esp_idf = FIRST_RUN[:7] + [DOWN + ENTER] + FIRST_RUN[8:]
    result = run_wizard(keys, esp_idf, work)
    loaded = profiles.load(work / "tls.toml")
    assert (loaded.format, loaded.esp_idf) == ("esp-idf", "v5.5.5")
    assert (work / "mbedtls_config.h").read_text() == result.text  # the wizard shows the header
    assert "--format header" in result.command
    assert "--format esp-idf -o DIR writes its files" in capsys.readouterr().out
    assert existing_answers(work / "tls.toml")["format"] == "esp-idf"
    before = listing(work)
    run_wizard(keys, RERUN, work)  # pre-filled: Enter keeps esp-idf
    assert listing(work) == before
    formats = next(q for q in PLATFORM_QUESTIONS if q.name == "format")
    assert formats.when({"board": "esp32"}) and not formats.when({"board": "linux-host"})
