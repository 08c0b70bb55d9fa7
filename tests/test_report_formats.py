"""diagnose, review and diff print text, JSON and Markdown (--format, --json): each format
through the command line, saying the same facts; text stays what it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import Run, run_cli

from configgen import kb as knowledge
from configgen import readers
from configgen.advise import causes
from configgen.advise.diff import diff
from configgen import headerfile

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
LOGS = sorted((DATA / "logs").glob("*.log"))
FORMATS = ("text", "json", "markdown")

# A level-3 log that shows the ClientHello and the server's answers (the committed logs are
# level 2, which does not).
HELLO_LOG = """\
ssl_tls.c:4012: |1| Mbed TLS 3.6.6
ssl_client.c:0923: |2| => write client hello
ssl_client.c:0930: |3| client hello, max version: [3:3]
ssl_client.c:0100: |3| adding server name extension: broker.example.com
ssl_client.c:0500: |3| client hello, add ciphersuite: c02f
ssl_client.c:0500: |3| client hello, add ciphersuite: c030
ssl_client.c:0600: |3| adding supported_groups extension
ssl_client.c:0601: |3| NamedGroup: secp256r1
ssl_tls12_client.c:1200: |2| => parse server hello
ssl_tls12_client.c:1300: |3| server hello, chosen ciphersuite: c02f
ssl_tls.c:4600: |2| => parse certificate
ssl_msg.c:4800: |2| got an alert message, type: [2:40]
ssl_msg.c:4810: |1| send alert level=2 message=80
ssl_msg.c:4900: |1| mbedtls_ssl_read_record() returned -30592 (-0x7780)
  ! mbedtls_ssl_handshake returned -0x7780
"""


def every_format(*argv: str) -> dict[str, Run]:
    """ARGV once per --format; --format text is the default output and --json --format json."""
    runs = {fmt: run_cli(*argv, "--format", fmt) for fmt in FORMATS}
    assert run_cli(*argv) == runs["text"]
    assert run_cli(*argv, "--json") == runs["json"]
    assert len({r.code for r in runs.values()}) == 1, runs
    return runs


def bullets(markdown: str, heading: str) -> list[str]:
    """The bullets under a Markdown heading (to the next heading), code spans taken out."""
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return [line[2:].replace("`", "") for line in lines[start:end] if line.startswith("- ")]


def diagnosed(path: Path) -> dict[str, Run]:
    runs = every_format("diagnose", str(path))
    assert runs["text"].code == 0
    return runs


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.stem)
def test_diagnose_says_the_same_in_every_format(path):
    check_diagnosis(diagnosed(path))


def test_diagnose_names_the_client_hello_in_every_format(tmp_path):
    log = tmp_path / "hello.log"
    log.write_text(HELLO_LOG)
    runs = diagnosed(log)
    check_diagnosis(runs)
    trace = json.loads(runs["json"].out)["trace"]
    assert trace["suites"] == [0xC02F, 0xC030] and trace["chosen_suite"] == 0xC02F
    assert trace["sni"] == "broker.example.com" and trace["groups"] == ["secp256r1"]
    assert trace["alerts_received"] == [[2, 40]] and trace["alerts_sent"] == [[2, 80]]
    assert ("- server: chose `0xC02F TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256`; sent its certificate"
            in runs["markdown"].out.splitlines())


def check_diagnosis(runs: dict[str, Run]) -> None:
    text = runs["text"].out.splitlines()
    head, cause_at = text[0], next(i for i, line in enumerate(text) if line.startswith("cause ("))
    cause = text[cause_at].removeprefix("cause (").partition(")")[0]
    found = json.loads(runs["json"].out)
    assert found["schema"] == 1 and found["cause"] == cause
    assert text[cause_at:] == [f"cause ({cause}): {found['summary']}", f"  fix: {found['fix']}",
                               f"  check: {found['check']}"]
    facts = [line.removeprefix("  ") for line in text[1:cause_at]]
    if found["code"] is not None:
        assert f"the application saw -0x{-found['code']:04X}" in "\n".join(facts)
    markdown = runs["markdown"].out
    assert markdown.startswith(f"### Diagnosis of an {head}\n")
    assert f"#### Cause: `{cause}`" in markdown and found["summary"] in markdown
    assert bullets(markdown, f"#### Cause: `{cause}`") == [f"**fix:** {found['fix']}",
                                                          f"check: {found['check']}"]
    if facts:
        assert bullets(markdown, "#### What the log shows") == facts
    else:
        assert "#### What the log shows" not in markdown


def review_runs(header: Path, case: str) -> dict[str, Run]:
    return every_format("review", str(header), "--profile", str(GOLDEN / case / "profile.toml"),
                        "--offline")


def test_review_says_the_same_in_every_format(tmp_path):
    case = "sha1-root-rsa4096-large-chain"
    broken = tmp_path / "config.h"
    broken.write_text(headerfile.with_setting(readers.read_header(GOLDEN / case / "expected-2.28.h"), "MBEDTLS_SHA1_C", False).text)
    runs = review_runs(broken, case)
    assert runs["text"].code == 1
    found = json.loads(runs["json"].out)
    assert found["schema"] == 1 and found["failing"] is True
    assert found["where"] == str(broken) and found["version"] == "2.28.3"
    missing = [f for f in found["findings"] if f["kind"] == "missing"]
    assert [f["option"] for f in missing] == ["MBEDTLS_SHA1_C"]
    assert missing[0]["predicted"] == ["-0x262E X509_UNKNOWN_SIG_ALG + OID_NOT_FOUND"]
    assert missing[0]["reasons"] and all(r in runs["text"].out for r in missing[0]["reasons"])
    markdown = runs["markdown"].out
    assert markdown.startswith(f"### Review of `{broken}` (mbedTLS 2.28.3)\n")
    for finding in found["findings"]:
        shown = finding["option"] or "check_config.h"
        assert f"  {shown}: {finding['detail']}" in runs["text"].out
        assert f"- `{shown}`: {finding['detail']}" in markdown
    kinds = list(dict.fromkeys(f["kind"] for f in found["findings"]))
    assert [line for line in markdown.splitlines() if line.startswith("#### ")] == [
        f"#### {kind.capitalize()} ({len([f for f in found['findings'] if f['kind'] == kind])})"
        for kind in kinds]


def test_a_clean_review_is_not_failing_in_any_format():
    case = "rsa2048-ecdhe-rsa-gcm"
    runs = review_runs(GOLDEN / case / "expected-3.6.h", case)
    assert runs["text"].code == 0
    found = json.loads(runs["json"].out)
    assert found["failing"] is False
    assert {f["kind"] for f in found["findings"]} <= {"risky", "unmaintained"}


def test_diff_says_the_same_in_every_format():
    old = GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-2.28.h"
    new = GOLDEN / "sha1-root-rsa4096-large-chain" / "expected-2.28.h"
    runs = every_format("diff", str(old), str(new))
    assert runs["text"].code == 0
    expected = diff(readers.read_header(old), readers.read_header(new), knowledge.load("2.28"),
                    causes.security())
    found = json.loads(runs["json"].out)
    assert found["schema"] == 1 and (found["old"], found["new"]) == (str(old), str(new))
    assert found["options"] == list(expected.options) and found["options"]
    assert [c["option"] for c in found["changes"]] == [c.option for c in expected.changes]
    assert [w.split()[0] for w in found["weakened_added"]] == ["SHA-1"]
    sha1 = next(c for c in found["changes"] if c["option"] == "MBEDTLS_SHA1_C")
    assert sha1["kind"] == "added" and sha1["old"] is None and sha1["new"]["active"] is True
    assert sha1["security"].startswith("weakens security")
    assert f"{len(found['options'])} options changed" in runs["text"].out
    assert f"**{len(found['options'])} options changed**" in runs["markdown"].out
    for change in found["changes"]:
        assert change["option"] in runs["text"].out
        assert f"`{change['option']}`" in runs["markdown"].out
    for entry in found["weakened_added"]:
        assert f"newly weakened on purpose: {entry}" in runs["text"].out
        assert f"> **Newly weakened on purpose:** {entry}" in runs["markdown"].out


def test_no_change_in_every_format():
    same = GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-3.6.h"
    runs = every_format("diff", str(same), str(same))
    found = json.loads(runs["json"].out)
    assert (found["options"], found["changes"], found["weakened_added"]) == ([], [], [])
    assert runs["text"].out.startswith("no option changed")
    assert "No option changed." in runs["markdown"].out
