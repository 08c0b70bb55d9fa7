"""The probe against mbedTLS's own programs, built from the real sources: ssl_server2 offers
suites OpenSSL lacks, so only a probe that hand-encodes suite ids finds them; ssl_client2
shows the ClientHello the intolerance check replays."""

from __future__ import annotations

import subprocess

import pytest
from probe_servers import (
    LOOPBACK,
    hostile_server,
    make_pki,
    mbedtls_program,
    read_client_hello,
    ssl_server2,
)

from configgen import kb
from configgen.model.facts import ServerFacts
from configgen.probe import Target, Timeouts, probe
from configgen.probe.defaults import default_hello
from configgen.probe.hello import encode
from configgen.probe.plan import candidates

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


@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_default_hello_is_what_ssl_client2_sends(pki, line):
    from tlslite.messages import ClientHello
    from tlslite.utils.codec import Parser

    recorded: list[bytes] = []
    with hostile_server(lambda conn: recorded.append(read_client_hello(conn))) as port:
        subprocess.run([str(mbedtls_program(line, "ssl_client2")), f"server_addr={LOOPBACK}",
                        f"server_port={port}", "server_name=localhost", f"ca_file={pki.ca}",
                        "debug_level=0"], capture_output=True, timeout=30, check=False)
    tls12, tls13 = candidates(kb.load(line).suites)
    ours = encode(default_hello(line, tuple(c.id for c in tls12), tuple(c.id for c in tls13),
                                "localhost"))
    real, mine = (ClientHello().parse(Parser(bytearray(data[6:]))) for data in (recorded[0], ours))
    assert sorted(e.extType for e in real.extensions) == sorted(e.extType for e in mine.extensions)
    assert set(real.cipher_suites) <= set(mine.cipher_suites)
    for ext in (10, 13):  # supported_groups, signature_algorithms: same lists, same order
        assert bytes(real.getExtension(ext).extData) == bytes(mine.getExtension(ext).extData)
    if line == "3.6":
        assert [s.group for s in real.getExtension(51).client_shares] == [29]
