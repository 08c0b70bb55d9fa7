"""The probe against mbedTLS's own ssl_server2 (built from the real sources): it offers suites
OpenSSL lacks, so only a probe that hand-encodes suite ids finds them."""

from __future__ import annotations

import pytest

from configgen import kb
from configgen.probe import ServerFacts, Target, Timeouts, probe
from configgen.probe.plan import candidates
from probe_servers import LOOPBACK, make_pki, ssl_server2

pytestmark = pytest.mark.mbedtls


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), "rsa")


def run(port: int, line: str) -> ServerFacts:
    tls12, tls13 = candidates(kb.load(line).suites)
    return probe(Target(LOOPBACK, port, "localhost", (), line, tls12, tls13), Timeouts(3, 3), 30)


@pytest.mark.parametrize("line, suite, suite_id, exchange", [
    ("3.6", "TLS-ECDHE-RSA-WITH-CAMELLIA-128-GCM-SHA256", 0xC08A, "ECDHE_RSA"),
    ("2.28", "TLS-DHE-RSA-WITH-CAMELLIA-256-GCM-SHA384", 0xC07D, "DHE_RSA"),
])
def test_suites_openssl_lacks(pki, line, suite, suite_id, exchange):
    with ssl_server2(pki, line, f"force_ciphersuite={suite}") as port:
        facts = run(port, line)
    assert [s.id for s in facts.tls12_suites] == [suite_id]
    assert facts.versions == ("1.2",)
    assert facts.key_exchanges[0].key_exchange == exchange


def test_default_ssl_server2_3_6(pki):
    with ssl_server2(pki, "3.6") as port:
        facts = run(port, "3.6")
    assert facts.versions == ("1.2", "1.3")
    names = {s.name for s in facts.tls12_suites}
    assert {"TLS-ECDHE-RSA-WITH-ARIA-256-CBC-SHA384",
            "TLS-DHE-RSA-WITH-CAMELLIA-256-GCM-SHA384"} <= names
    assert facts.server_preference is True  # SSL_SRV_RESPECT_CLIENT_PREFERENCE is off by default
    assert {s.id for s in facts.tls13_suites} == {0x1301, 0x1302, 0x1303, 0x1304, 0x1305}
    assert facts.intolerance.blamed == ()
