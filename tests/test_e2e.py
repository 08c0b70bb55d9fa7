"""End to end: for each scenario and tested release (2.28.3, 3.6.6, 3.6.7: the header is
generated for the release of the tree it is built with), configgen generate (probing the live server) →
mbedTLS built with the header → a handshake and one application-data round trip with the
real server. mbedTLS's default configuration is run on the same scenario for comparison
(many fail: that is the point). Run with -s to see the matrix rows."""

from __future__ import annotations

import dataclasses

import pytest

from configgen import headerfile, sources
from configgen import kb as knowledge
from configgen.advise import causes
from configgen.advise.explain import read_code
from configgen import profile as profiles
from configgen.errors import ConfiggenError
from configgen.generate import generate
from e2e_scenarios import SCENARIOS, SMALL_MESSAGES, started
from handshake import build_client, integration_arguments, run_client

PARAMS = [(s, release) for s in SCENARIOS for release in sources.TESTED_RELEASES]


@pytest.mark.mbedtls
@pytest.mark.parametrize(("scenario", "release"), PARAMS, ids=[f"{s.name}-{r}" for s, r in PARAMS])
def test_scenario(scenario, release, tmp_path, capsys):
    tree = sources.find_tree(release)
    line = tree.line
    work = tmp_path / "work"
    with started(scenario, line, work) as run:
        default_client = build_client(tree, tree.config_header.read_text(), tmp_path / "default-client")
        default = run_client(default_client, run.port, run.files.ca, *run.client_args)
        try:
            header = generate(profiles.load(run.profile), "mbedtls_config.h", tree_version=tree.version).text
        except ConfiggenError as error:
            with capsys.disabled():
                print(f"\n{scenario.name:28} {release:6} configgen stops: {error.message[:90]}"
                      f" | default config: {default.text}")
            assert line in scenario.stops, str(error)
            assert scenario.stops[line] in str(error)
            return
        assert line not in scenario.stops, f"configgen should have stopped: {scenario.stops[line]}"
        client = build_client(tree, header, tmp_path / "client")
        outcome = run_client(client, run.port, run.files.ca, *run.client_args, *integration_arguments(header))
    with capsys.disabled():
        print(f"\n{scenario.name:28} {release:6} generated: {outcome.text} | default config: {default.text}")
    assert outcome.ok, outcome.text


@pytest.mark.mbedtls
@pytest.mark.parametrize("release", sources.TESTED_RELEASES)
def test_declared_message_size_is_what_the_input_buffer_holds(release, tmp_path):
    """[server].app_record_max sizes the input buffer to the handshake instead of a 16 KiB
    record; a server record beyond it then fails reading, with the error whose fix names
    the declaration (2.28: -0x7100 "requesting more data than fits")."""
    echo = next(s for s in SCENARIOS if s.name == "16k-records")
    scenario = dataclasses.replace(echo, app_record_max=SMALL_MESSAGES, client_args=())
    tree = sources.find_tree(release)
    line = tree.line
    with started(scenario, line, tmp_path / "work") as run:
        header = generate(profiles.load(run.profile), "mbedtls_config.h", tree_version=tree.version).text
        client = build_client(tree, header, tmp_path / "client")
        small = run_client(client, run.port, run.files.ca, *run.client_args, "--send-size", str(SMALL_MESSAGES))
        large = run_client(client, run.port, run.files.ca, *run.client_args, "--send-size", "8000")
    buffer = int(headerfile.parse(header, "mbedtls_config.h").active()["MBEDTLS_SSL_IN_CONTENT_LEN"])
    assert SMALL_MESSAGES <= buffer < 8000
    assert f"app_record_max = {SMALL_MESSAGES}" in header
    assert small.ok, small.text
    assert large.step == "mbedtls_ssl_read", large.text
    reading = read_code(large.code, knowledge.load(line), (), causes.load())
    assert any("app_record_max" in cause.fix for cause in reading.causes), reading
