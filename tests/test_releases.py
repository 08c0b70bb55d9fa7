"""Patch-level facts (configgen/kb/releases.toml): ranges, sources that exist in the unpacked
trees, the release a header targets (tree > board SDK > tested release), the banner, 2.28's
end of life in generate and review, the advisor per release, derive per release (offline,
from a recorded snapshot of a server that splits its Certificate message), 4.x refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from configgen import headerfile, sources
from configgen import profile as profiles
from configgen.advise import causes
from configgen.advise.diagnose import diagnose, read_log
from configgen.advise.explain import explain_code
from configgen.cli import main
from configgen.errors import KnowledgeBaseError, ResolveConflict
from configgen.generate import generate
from configgen.kb import changes, releases
from configgen import kb as knowledge
from configgen.values import line_of

GOLDEN = Path(__file__).parent / "golden"
CERTS = Path(__file__).parent / "data" / "certs"
KB = {line: knowledge.load(line) for line in ("2.28", "3.6")}


def test_ranges():
    assert releases.version_in(">=3.6.3", "3.6.10") and not releases.version_in(">=3.6.3", "3.6.2")
    assert releases.version_in("==3.6.6", "3.6.6") and not releases.version_in("==3.6.6", "3.6.7")
    assert not releases.version_in(">=3.6.3", "2.28.10")


def test_the_facts_of_each_release():
    pico, trixie, sid, bookworm = (releases.facts_for(r) for r in ("3.6.2", "3.6.6", "3.6.7", "2.28.3"))
    assert not pico.has("handshake-reassembly") and not pico.has("hostname-required")
    assert trixie.has("handshake-reassembly") and trixie.has("hostname-required")
    assert [d.id for d in trixie.defects] == ["rsa-pss-tls12-server-key-exchange",
                                              "dhm-client-key-exchange-overflow"]
    assert [d.id for d in sid.defects] == ["dhm-client-key-exchange-overflow"]
    assert [d.id for d in releases.defects_for("2.28.3")] == ["dhm-client-key-exchange-overflow"]
    assert not bookworm.has("handshake-reassembly")
    assert "2.28.10 (2025-03-24)" in bookworm.end_of_life and "4.1 LTS" in bookworm.end_of_life
    assert trixie.end_of_life is None


@pytest.mark.parametrize("bad, says", [
    ('[[fact]]\nid = "x"\n', "lacks"),
    ('[[fact]]\nid="x"\nkind="defect"\nholds="3.6"\nsays=""\nfix=""\nerror=""\ncheck=""\nsource=[]\nchecked=[]\n',
     "PEP 440"),
    ('[[fact]]\nid="x"\nkind="capability"\nholds=">=1"\nsays=""\nfix=""\nerror=""\ncheck=""\nsource=[]\nchecked=[]\n',
     "capability"),
    ('[[fact]]\nid="x"\nkind="requirement"\nholds=">=1"\nsays=""\nfix=""\nerror=""\ncheck=""\nsource=[]\nchecked=[]\n'
     '[fact.bites]\nheader=[]\nkey_exchanges=[]\n', "only a defect"),
])
def test_a_malformed_fact_is_named(bad, says):
    with pytest.raises(KnowledgeBaseError, match=says):
        releases.parse(bad)


def test_every_source_line_exists_in_the_unpacked_trees():
    """`mbedtls-X.Y.Z/path:N[-M]` sources name a file of a tested tree and lines it has."""
    cited = [s for f in releases.load().facts for s in f.source + (f.bites.source if f.bites else ())] + [
        s for line in releases.load().lines for s in line.source]
    seen = 0
    for source in cited:
        for release, path, first, last in re.findall(r"mbedtls-(\d+\.\d+\.\d+)/([\w./-]+):(\d+)(?:-(\d+))?", source):
            tree = sources.find_tree(release)
            lines = (tree.root / path).read_text(errors="replace").splitlines()
            assert int(last or first) <= len(lines), source
            seen += 1
    assert seen >= 8


def test_every_fact_names_options_and_errors_of_the_lines_it_holds_for():
    """The errors, the options a bite reads and the facts code names by id are the knowledge
    base's and releases.toml's own; each [fact.log] cause is diagnose's name for one fact."""
    known = releases.load()
    for fact in known.facts:
        for kb in (k for k in KB.values() if fact.holds_for(k.version)):
            assert fact.error in {e.name for e in kb.errors}, (fact.id, kb.version)
            if fact.bites:
                exchanges = [f"MBEDTLS_KEY_EXCHANGE_{k}_ENABLED" for k in fact.bites.key_exchanges]
                named = [*fact.bites.header, *exchanges, *([fact.bites.exceeds] if fact.bites.exceeds else [])]
                assert [n for n in named if kb.option(n) is None] == [], (fact.id, kb.version)
    causes_named = [f.log.cause for f in known.facts if f.log]
    assert len(causes_named) == len(set(causes_named))
    assert releases.HANDSHAKE_REASSEMBLY in {f.id for f in known.facts if f.kind == "capability"}


def test_the_cited_changelog_lines_say_what_the_facts_say():
    changelog = (sources.find_tree("3.6.7").root / "ChangeLog").read_text().splitlines()
    assert "Support re-assembly of fragmented handshake messages" in changelog[461]
    assert "mbedtls_ssl_set_hostname() has not been called" in changelog[402]
    assert "Fixes #10668." in changelog[107]
    assert changelog[2].startswith("= Mbed TLS 3.6.7 branch released 2026-07-07")


def test_the_target_release_is_the_tree_else_the_board_else_the_tested_release():
    pico = profiles.load_board("pico-w")
    assert releases.target("3.6", "3.6.6", "pico-w", pico.sdk).release == "3.6.2"
    assert releases.target("2.28", "2.28.3", "pico-w", pico.sdk).release == "2.28.8"
    assert releases.target("3.6", "3.6.6", "pico-w", pico.sdk, "3.6.7").release == "3.6.7"
    nothing = releases.target("2.28", "2.28.3", "esp8266", profiles.load_board("esp8266").sdk)
    assert nothing.release == "2.28.3" and "names no 2.28 release" in nothing.how
    assert {b: [s.mbedtls for s in profiles.load_board(b).sdk] for b in profiles.board_names()} == {
        "esp32": ["3.6.6"], "esp8266": [], "linux-host": ["3.6.6", "2.28.3"],
        "pico-w": ["3.6.2", "2.28.8"], "stm32f4-nucleo": ["3.6.4"]}


def test_a_board_release_of_another_line_is_refused(tmp_path):
    board = (Path(profiles.__file__).parent.parent / "profiles" / "esp8266.toml").read_text()
    path = tmp_path / "b.toml"
    path.write_text(board + '\n[[sdk]]\nname = "X"\nversion = "1"\nmbedtls = "3.6.6"\nsource = "s"\n')
    with pytest.raises(profiles.ProfileError, match=r"\[sdk.0\].mbedtls: '3.6.6' is not of a line"):
        profiles.load_board(str(path))


def test_the_banner_names_the_release_and_where_it_came_from():
    profile = profiles.load(GOLDEN / "tls13-only" / "profile.toml")
    text = generate(profile, "mbedtls_config.h", offline=True).text
    assert "Target release: mbedTLS 3.6.2, board pico-w: pico-sdk 2.2.0 ships it" in text
    # 3.6.2 predates the hostname requirement: no note claiming it
    assert "-0x5D80" not in text
    text = generate(profile, "mbedtls_config.h", offline=True, tree_version="3.6.7").text
    assert "Target release: mbedTLS 3.6.7, read from the tree" in text and "-0x5D80" in text


def test_generate_says_228_is_unmaintained_in_one_stderr_line(tmp_path, capsys):
    out = tmp_path / "h.h"
    assert main(["generate", "--profile", str(GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "profile.toml"),
                 "--mbedtls", "2.28", "--offline", "-o", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    eol = [line for line in err if "no longer maintained" in line]
    assert len(eol) == 1 and "2.28.10 (2025-03-24)" in eol[0] and "3.6 LTS" in eol[0]
    assert " * End of life: mbedTLS 2.28 is no longer maintained" in out.read_text()
    assert main(["review", str(out), "--profile", str(GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "profile.toml"),
                 "--mbedtls", "2.28", "--offline"]) == 0
    said = capsys.readouterr().out
    assert "unmaintained (1)" in said and "4.1 LTS (until March 2029)" in said


def test_explain_per_release():
    known = causes.load()
    whys = lambda code, release: [c.why for c in explain_code(  # noqa: E731
        code, [KB[line_of(release)]], known, release=releases.facts_for(release)).readings[0].causes]
    assert any("10668" in why for why in whys(-0x6600, "3.6.6"))
    assert not any("10668" in why for why in whys(-0x6600, "3.6.7"))
    assert any("3.6.2 cannot reassemble" in why for why in whys(-0x7080, "3.6.2"))
    assert not any("reassemble" in why for why in whys(-0x7080, "3.6.6"))
    assert any("past its end" in why for why in whys(-0x6C00, "3.6.7"))


def test_the_hostname_requirement_is_explained_once_and_only_where_it_holds():
    """It was written twice (releases.toml and causes.toml, the latter for every 3.6): 3.6.3
    introduced the error ("Default behavior changes", mbedtls-3.6.7/ChangeLog:402-411)."""
    reading = lambda release: explain_code(  # noqa: E731
        -0x5D80, [KB["3.6"]], causes.load(), release=releases.facts_for(release)).readings[0]
    [cause] = reading("3.6.6").causes
    assert "MBEDTLS_SSL_CLI_ALLOW_WEAK_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME" in cause.fix
    assert reading("3.6.2").causes == ()


def test_explain_release_cli(capsys):
    assert main(["explain", "-0x7080", "--release", "3.6.2"]) == 0
    assert "mbedTLS 3.6.2 cannot reassemble" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        main(["explain", "-0x7080", "--release", "4.1.0"])
    assert stopped.value.code == 2 and "4.x is not supported yet" in capsys.readouterr().err


_RSA_PSS_LOG = """ssl_client.c:0: |2| => write client hello
ssl_tls12_client.c:0: |2| => parse server key exchange
ssl_tls12_client.c:0: |1| bad server key exchange message
ssl_tls.c:0: |1| mbedtls_ssl_handshake() returned -26112 (-0x6600)
"""


def test_diagnose_names_the_defect_only_for_the_release_that_has_it():
    trace = read_log(_RSA_PSS_LOG)
    every = list(KB.values())
    assert diagnose(trace, every, causes.load()).cause == "rsa-pss-tls12-defect"  # 3.6.6 by default
    assert diagnose(trace, every, causes.load(), releases.facts_for("3.6.7")).cause != "rsa-pss-tls12-defect"


_SPLIT_LOG = """ssl_cli.c:0: |2| => parse certificate
ssl_msg.c:2979: |1| TLS handshake fragmentation not supported
ssl_tls.c:0: |1| mbedtls_ssl_handshake() returned -28800 (-0x7080)
"""


@pytest.mark.parametrize("log, device", [
    (_SPLIT_LOG, "this mbedTLS"),
    ("mbed TLS 3.6.2 client\n" + _SPLIT_LOG.replace("ssl_cli.c", "ssl_tls12_client.c"), "mbedTLS 3.6.2"),
])
def test_diagnose_names_a_split_handshake_message_with_the_capability_fact(log, device):
    found = diagnose(read_log(log), list(KB.values()), causes.load())
    reassembly = releases.facts_for("2.28.3").fact(releases.HANDSHAKE_REASSEMBLY)
    assert found.cause == "fragmented-handshake" and (found.fix, found.check) == (reassembly.fix, reassembly.check)
    assert found.summary == (f"the server split a handshake message over several records: {device} "
                             f"{reassembly.lacking}")


def test_diagnose_reads_the_defect_from_a_level_1_log():
    """Debug level 1 shows no handshake steps, only the defect's message."""
    level_1 = "\n".join(line for line in _RSA_PSS_LOG.splitlines() if "|2|" not in line)
    assert diagnose(read_log(level_1), [KB["3.6"]], causes.load()).cause == "rsa-pss-tls12-defect"


def test_generate_warns_of_a_defect_an_override_walks_into_as_review_fails_it(tmp_path, capsys):
    """derive never turns TLS 1.3 on for a TLS 1.2-only server; an override can, and then the
    header says so, as review does (the same ReleaseFacts.walked_into)."""
    case = GOLDEN / "rsa2048-ecdhe-rsa-gcm"
    text = (case / "profile.toml").read_text().replace('"../../data/certs/', f'"{CERTS}/')
    text = text.replace('snapshot = "server.json"', f'snapshot = "{case / "server.json"}"')
    profile = tmp_path / "p.toml"
    profile.write_text(text + '\n[overrides.enable]\n'
                       'MBEDTLS_SSL_PROTO_TLS1_3 = "try TLS 1.3"\n'
                       'MBEDTLS_X509_RSASSA_PSS_SUPPORT = "PSS certificates"\n')
    generated = generate(profiles.load(profile), "h.h", offline=True)
    [warning] = [w for w in generated.options.warnings if "10668" in w]
    assert warning.startswith("mbedTLS 3.6.6: with TLS 1.3 compiled in") and "speaks no TLS 1.3" in warning
    assert warning.endswith(releases.facts_for("3.6.6").fact("rsa-pss-tls12-server-key-exchange").fix)
    assert " * Warnings\n" in generated.text
    header = tmp_path / "h.h"
    header.write_text(generated.text)
    assert main(["review", str(header), "--profile", str(profile), "--offline"]) == 1
    assert "known defect (1)" in capsys.readouterr().out


def _split_snapshot_profile(tmp_path: Path, board: str, line: str) -> Path:
    """A project profile replaying a snapshot whose Certificate message spans 5 records."""
    snapshot = json.loads((GOLDEN / "sha1-root-rsa4096-large-chain" / "server.json").read_text())
    sizes = snapshot["sizes"]
    for message in [sizes["largest_message"], *sizes["messages"]]:
        if message["message"] == "Certificate":
            message["records"] = 5
    sizes["largest_record"] = 1024
    (tmp_path / "server.json").write_text(json.dumps(snapshot))
    (tmp_path / "p.toml").write_text(
        f'board = "{board}"\nmbedtls = "{line}"\n\n[[server]]\nhost = "127.0.0.1"\nport = 25002\n'
        'sni = "localhost"\nsnapshot = "server.json"\n\n'
        f'[trust]\nca = ["{CERTS / "sha1-rsa4096-root.pem"}"]\n\n[policy]\nat = "2026-11-23"\n')
    return tmp_path / "p.toml"


@pytest.mark.parametrize("board, line, release, refuses", [
    ("pico-w", "3.6", "3.6.2", True),
    ("stm32f4-nucleo", "3.6", "3.6.4", False),
    ("linux-host", "3.6", "3.6.6", False),
    ("linux-host", "2.28", "2.28.3", True),
])
def test_derive_refuses_a_split_certificate_only_without_reassembly(tmp_path, board, line, release, refuses):
    profile = profiles.load(_split_snapshot_profile(tmp_path, board, line))
    if refuses:
        with pytest.raises(ResolveConflict, match=f"mbedTLS {re.escape(release)} cannot reassemble"):
            generate(profile, "h.h", offline=True)
    else:
        text = generate(profile, "h.h", offline=True).text
        assert f"Target release: mbedTLS {release}" in text


def test_kb_changes_between_366_and_367():
    from configgen.kb import extract
    found = changes.changes(extract.extract(sources.find_tree("3.6.6")),
                            extract.extract(sources.find_tree("3.6.7")))
    assert "option added: MBEDTLS_PKCS7_ALLOW_WEAK_SIGNATURES" in found
    assert "x509 default_profile hashes: added 'SHA-3-256'" in found
    assert not [f for f in found if f.startswith(("suite", "error", "verify flag"))]


def test_sources_fetches_every_tested_release(capsys):
    assert main(["sources", "--no-fetch"]) == 0
    printed = [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()]
    assert printed == ["2.28.3", "3.6.6", "3.6.7"]


@pytest.fixture()
def tree_41(tmp_path) -> Path:
    """A fake 4.x tree: only the version header (enough to test the refusal)."""
    (tmp_path / "include" / "mbedtls").mkdir(parents=True)
    (tmp_path / "include" / "mbedtls" / "build_info.h").write_text('#define MBEDTLS_VERSION_STRING "4.1.0"\n')
    return tmp_path


@pytest.mark.parametrize("command", [
    ["sources", "--mbedtls-src", "{tree}"],
    ["generate", "--profile", str(GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "profile.toml"), "--offline",
     "--mbedtls-src", "{tree}", "-o", "{out}"],
    ["verify", str(GOLDEN / "rsa2048-ecdhe-rsa-gcm" / "expected-3.6.h"), "--mbedtls-src", "{tree}"],
])
def test_a_4x_tree_is_refused_in_one_line(tree_41, tmp_path, capsys, command):
    out = tmp_path / "out.h"
    argv = [a.format(tree=tree_41, out=out) for a in command]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    [line] = captured.err.splitlines()
    assert "mbedTLS 4.1.0: 4.x is not supported yet" in line and "generate --format esp-idf" in line


def test_a_golden_header_round_trips_with_its_banner():
    text = (GOLDEN / "tls13-only" / "expected-3.6.h").read_text()
    assert "Target release: mbedTLS 3.6.2" in text
    assert headerfile.parse(text, "expected-3.6.h").active()


def test_kb_check_and_diff_on_367(capsys, tmp_path):
    assert main(["kb", "check", "3.6.7"]) == 1
    out = capsys.readouterr().out
    assert "(extracted from 3.6.6) differs from mbedTLS 3.6.7:" in out
    assert "  option added: MBEDTLS_PKCS7_ALLOW_WEAK_SIGNATURES" in out
    assert main(["kb", "diff", "3.6.6", "3.6.7"]) == 0
    assert capsys.readouterr().out.startswith("mbedtls: 3.6.6 -> 3.6.7\noption added:")
    assert main(["kb", "extract", "3.6.7"]) == 2  # would overwrite the 3.6.6 knowledge base
    assert "kb diff 3.6.6 3.6.7" in capsys.readouterr().err
