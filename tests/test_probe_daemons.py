"""The probe against servers people deploy: nginx, a mosquitto broker and GnuTLS's
gnutls-serv (Debian packages)."""

from __future__ import annotations

import pytest
from probe_servers import (
    LOOPBACK,
    can_unshare_net,
    gnutls_server,
    have,
    make_pki,
    mosquitto_server,
    nginx_server,
)

from configgen import kb
from configgen.model.facts import ServerFacts
from configgen.probe import Target, Timeouts, probe
from configgen.probe.plan import candidates


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), "rsa")


def run(port: int) -> ServerFacts:
    tls12, tls13 = candidates(kb.load("3.6").suites)
    return probe(Target(LOOPBACK, port, "localhost", ("mqtt",), "3.6", tls12, tls13),
                 Timeouts(3, 3), 30)


@pytest.mark.skipif(not have("nginx"), reason="nginx is not installed")
def test_nginx_with_server_preference(pki, tmp_path):
    extra = "ssl_prefer_server_ciphers on; ssl_ecdh_curve secp384r1:X25519;"
    with nginx_server(pki, tmp_path / "nginx", "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256",
                      extra=extra) as port:
        facts = run(port)
    assert facts.versions == ("1.2", "1.3")
    assert facts.extensions.alpn_refused is True  # nginx ends the handshake on "mqtt"
    assert [s.id for s in facts.tls12_suites] == [0xCCA8, 0xC02F]
    assert facts.server_preference is True
    assert facts.tls12_curves == ("secp384r1", "x25519")
    assert set(facts.tls13_groups) == {"secp384r1", "x25519"}
    assert len(facts.certificate_chain) == 2
    assert facts.extensions.sni_required is False
    assert facts.extensions.sni_changes_chain is False


@pytest.mark.skipif(not have("mosquitto"), reason="mosquitto is not installed")
def test_mosquitto_broker_requires_a_client_certificate(pki, tmp_path):
    with mosquitto_server(pki, tmp_path / "mosquitto") as port:
        facts = run(port)
    assert "1.2" in facts.versions and "1.3" in facts.versions
    assert facts.client_auth is not None
    assert "rsa_sign" in facts.client_auth.certificate_types
    assert 0xC030 in [s.id for s in facts.tls12_suites]
    assert facts.intolerance.blamed == ()


@pytest.mark.skipif(not (have("gnutls-serv") and can_unshare_net()),
                    reason="needs gnutls-serv and a network namespace of its own (unshare --net)")
def test_gnutls_grants_max_fragment_length_to_a_tls12_device(pki):
    # GnuTLS lets record_size_limit override max_fragment_length (RFC 8449): asked as mbedTLS
    # asks it in TLS 1.2 (no record_size_limit), it grants every size.
    with gnutls_server(pki, "--disable-client-cert") as port:
        facts = run(port)
    assert facts.extensions.max_fragment_lengths == (512, 1024, 2048, 4096)
    assert facts.extensions.record_size_limit == 16384  # answered in the probe's other hellos
    assert facts.versions == ("1.0", "1.1", "1.2", "1.3")
