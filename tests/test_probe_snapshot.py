"""Snapshots: JSON that round-trips, in a stable order, rejected clearly when it is not ours;
and the command line's outputs (text, --json, -o) against a real server."""

from __future__ import annotations

import json

import pytest
from probe_servers import LOOPBACK, have, make_pki, openssl_server
from test_probe_plan import ModelServer, run

from configgen.cli import main
from configgen.errors import ProbeError
from configgen.probe import snapshot
from configgen.model.facts import SCHEMA, ServerFacts
from configgen.report import markdown, server

FACTS = run(ModelServer(tls12=(0xC030, 0x0041), tls13=(0x1301,)))


def test_round_trip_is_identity_and_bytes_are_stable(tmp_path):
    path = tmp_path / "server.json"
    snapshot.save(FACTS, path)
    assert snapshot.load(path) == FACTS
    assert path.read_text() == snapshot.dumps(FACTS) == snapshot.dumps(snapshot.load(path))
    assert not (tmp_path / "server.json.new").exists()


def test_key_order_follows_the_schema():
    data = FACTS.to_json()
    assert list(data)[:3] == ["schema", "host", "port"]
    assert data["schema"] == SCHEMA
    assert data["certificate_chain"] == ["bGVhZiBjZXJ0aWZpY2F0ZQ==", "aW50ZXJtZWRpYXRl"]


@pytest.mark.parametrize("text, message", [
    ("not json", "not JSON"),
    ('{"schema": "configgen-probe/0"}', "not a configgen probe snapshot"),
    ("[]", "not a configgen probe snapshot"),
])
def test_foreign_files_are_rejected(tmp_path, text, message):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ProbeError, match=message) as error:
        snapshot.load(path)
    assert error.value.where == str(path)


@pytest.mark.parametrize("change", [
    lambda d: d.update(extra=1),
    lambda d: d.update(port="443"),
    lambda d: d.update(certificate_chain=["***"]),
    lambda d: d["extensions"].pop("alpn"),
    lambda d: d.update(attempts=[{"question": "q", "status": "bogus", "detail": ""}]),
])
def test_malformed_snapshots_are_rejected(change):
    data = json.loads(snapshot.dumps(FACTS))
    change(data)
    with pytest.raises(ProbeError, match="malformed probe snapshot"):
        ServerFacts.from_json(data)


def test_snapshots_without_later_fields_still_load():
    data = json.loads(snapshot.dumps(FACTS))
    del data["sizes"]["tls13_messages"]
    assert ServerFacts.from_json(data) == FACTS


def test_missing_keys_are_named():
    data = json.loads(snapshot.dumps(FACTS))
    del data["sizes"]["largest_record"]
    with pytest.raises(ProbeError, match=r"snapshot.sizes: missing keys \['largest_record'\]"):
        ServerFacts.from_json(data)


def test_missing_file(tmp_path):
    with pytest.raises(ProbeError, match="no such file"):
        snapshot.load(tmp_path / "absent.json")


@pytest.mark.skipif(not have("openssl"), reason="openssl is not installed")
def test_cli_text_json_and_snapshot_agree(tmp_path, capsys):
    pki = make_pki(tmp_path / "pki")
    out = tmp_path / "snap.json"
    with openssl_server(pki, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384") as port:
        assert main(["probe", f"{LOOPBACK}:{port}", "--sni", "localhost", "--json"]) == 0
        printed = capsys.readouterr().out
        assert main(["probe", f"{LOOPBACK}:{port}", "--sni", "localhost", "-o", str(out)]) == 0
        text = capsys.readouterr()
    facts = ServerFacts.from_json(json.loads(printed))
    assert snapshot.load(out) == facts
    assert "0xC030 TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384" in text.out
    assert text.err == ""  # no progress when not on a terminal
    assert text.out.splitlines()[0].startswith(f"{LOOPBACK}:{port} (SNI localhost)")


def _assert_markdown_says_what_the_text_says(shown: str, text: str) -> None:
    """Every row of the text is a bullet of the Markdown: its label, then its lines."""
    for line in text.splitlines()[1:]:
        label, value = line[:15].strip(), line[16:]
        assert (f"- **{label}**: {value}\n" if label else f"  - {value}\n") in shown, line


def test_markdown_lays_out_the_rows_of_the_text():
    found = markdown.server_facts(FACTS)
    assert found.startswith("### Server `server.example:443` (SNI `server.example`)\n\nProbed with the suites "
                            "of mbedTLS 3.6 (")
    assert "- **TLS 1.2 suites**: 2 accepted, server's order\n  - 0xC030 TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384\n" in found
    _assert_markdown_says_what_the_text_says(found, "\n".join(server.render(FACTS)))


@pytest.mark.skipif(not have("openssl"), reason="openssl is not installed")
def test_cli_markdown_says_what_the_text_says(tmp_path, capsys):
    pki = make_pki(tmp_path / "pki")
    with openssl_server(pki, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384") as port:
        where = f"{LOOPBACK}:{port}"
        assert main(["probe", where, "--sni", "localhost"]) == 0
        text = capsys.readouterr().out
        assert main(["probe", where, "--sni", "localhost", "--format", "markdown"]) == 0
        shown = capsys.readouterr()
    assert shown.err == ""
    assert shown.out.startswith(f"### Server `{where}` (SNI `localhost`)\n\nProbed with the suites of mbedTLS 3.6")
    assert "- **TLS 1.2 suites**: 1 accepted" in shown.out
    _assert_markdown_says_what_the_text_says(shown.out, text)


def test_markdown_and_the_snapshot_on_stdout_are_refused_before_probing(capsys):
    assert main(["probe", "127.0.0.1:9", "-o", "-", "--format", "markdown"]) == 2
    assert capsys.readouterr().err == ("configgen: -o - prints the snapshot, --format markdown the facts: "
                                       "stdout holds one\n  hint: write the snapshot to a file: -o SNAPSHOT.json\n")


@pytest.mark.parametrize("address", ["host:0", "host:99999", "[::1", "host:port", ":443"])
def test_bad_addresses_are_usage_errors(address, capsys):
    assert main(["probe", address]) == 2
    assert "configgen: " in capsys.readouterr().err


def test_address_forms():
    from configgen.arguments import parse_server

    assert parse_server("example.com") == ("example.com", 443)
    assert parse_server("example.com:8883") == ("example.com", 8883)
    assert parse_server("[::1]:4433") == ("::1", 4433)
    assert parse_server("::1") == ("::1", 443)


@pytest.mark.parametrize("flag, value", [("--timeout", "nan"), ("--timeout", "inf"),
                                         ("--deadline", "1e300"), ("--deadline", "0")])
def test_bad_seconds_are_usage_errors(flag, value, capsys):
    assert main(["probe", "127.0.0.1:9", flag, value]) == 2
    assert capsys.readouterr().err.startswith(f"configgen: {flag}: '{value}' is not a number of seconds")
