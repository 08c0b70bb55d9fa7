"""The zoo (issue 15): for each case of tests/zoo.py and each mbedTLS line, the project
profile a user would write → `generate` probing the live server → mbedTLS built with the
header → a real handshake and one round trip; or the refusal the case expects, naming its
reason. mbedTLS's default configuration runs against the same server (its result is printed
beside, not asserted). Run with -s for one row per case and line.

Each server is started once for both lines. Headers are built without their comments (the
banner and `via` lines hold ports and file hashes that change every run; the compiler
ignores them), so the build cache serves a second run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from configgen import profile as profiles
from configgen import sources
from configgen.errors import ConfiggenError
from configgen.generate import generate
from handshake import Outcome, build_client, integration_arguments, run_client
from zoo import CASES, Case, Files, names

LINES = ("2.28", "3.6")


@dataclass(frozen=True)
class Served:
    case: Case
    port: int
    files: Files
    work: Path

    def client_args(self) -> tuple[str, ...]:
        args = ["--name", "localhost", *self.case.client_args]
        if self.files.client_cert and self.files.client_key:
            args += ["--cert", str(self.files.client_cert), "--key", str(self.files.client_key)]
        return tuple(args)


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def served(request, tmp_path_factory):
    case = request.param
    work = tmp_path_factory.mktemp(case.name)
    files = case.write(work / "pki")
    with case.server(files.server, work / "server") as port:
        yield Served(case, port, files, work)


@pytest.fixture(scope="module")
def default_clients(tmp_path_factory):
    """Per line, the test client built with mbedTLS's default configuration."""
    built: dict[str, Path] = {}

    def get(line: str) -> Path:
        if line not in built:
            tree = sources.find_tree(line)
            built[line] = build_client(tree, tree.config_header.read_text(),
                                       tmp_path_factory.mktemp("default") / f"client-{line}")
        return built[line]

    return get


def _row(case: Case, line: str, generated: str, default: Outcome) -> str:
    return f"\n{case.name:36} {line:5} generated: {generated[:110]:110} | default: {default.text}"


@pytest.mark.mbedtls
@pytest.mark.parametrize("line", LINES)
def test_zoo(served, line, default_clients, tmp_path, capsys, monkeypatch):
    case = served.case
    if case.key_password:
        monkeypatch.setenv("CONFIGGEN_KEY_PASSWORD", case.key_password)
    expected = case.expect[line]
    default = run_client(default_clients(line), served.port, served.files.ca, *served.client_args())
    profile = served.work / f"tls-{line}.toml"
    profile.write_text(case.profile_text(served.files, served.port, line, served.work))
    try:
        header = generate(profiles.load(profile), "mbedtls_config.h").text
    except ConfiggenError as error:
        with capsys.disabled():
            print(_row(case, line, "refuses: " + " / ".join(str(error).splitlines()), default))
        assert expected != "ok", f"configgen refused a server it should talk to: {error}"
        assert names(str(error), expected), f"the refusal does not name {expected!r}: {error}"
        return
    tree = sources.find_tree(line)
    client = build_client(tree, header, tmp_path / "client")
    outcome = run_client(client, served.port, served.files.ca, *served.client_args(),
                         *integration_arguments(header))
    with capsys.disabled():
        print(_row(case, line, outcome.text, default))
    assert expected == "ok", f"configgen wrote a header ({outcome.text}) where it should {expected}"
    assert outcome.ok, f"the generated header fails on the device: {outcome.text}"
