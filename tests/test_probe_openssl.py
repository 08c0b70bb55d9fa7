"""The probe against openssl s_server on 127.0.0.1, each configured to provoke one fact."""

from __future__ import annotations

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from probe_servers import LOOPBACK, have, make_pki, openssl_server

from configgen import kb
from configgen.model.facts import ServerFacts
from configgen.probe import Target, Timeouts, probe
from configgen.probe.plan import candidates

pytestmark = pytest.mark.skipif(not have("openssl"), reason="openssl is not installed")

TLS12_3_6, TLS13_3_6 = candidates(kb.load("3.6").suites)
DER = Encoding.DER


@pytest.fixture(scope="module")
def rsa(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("rsa"), "rsa")


@pytest.fixture(scope="module")
def ecc(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("ec"), "ec")


def run(port: int, sni: str | None = "localhost", alpn: tuple[str, ...] = (),
        line: str = "3.6") -> ServerFacts:
    tls12, tls13 = candidates(kb.load(line).suites)
    target = Target(LOOPBACK, port, sni, alpn, line, tls12, tls13)
    return probe(target, Timeouts(3, 3), 30)


def ids(suites) -> list[int]:
    return [s.id for s in suites]


def test_tls12_only_one_suite(rsa):
    with openssl_server(rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384") as port:
        facts = run(port)
    assert facts.versions == ("1.2",)
    assert ids(facts.tls12_suites) == [0xC030]
    assert facts.tls13_suites == ()
    assert facts.server_preference is None  # one suite: no order to speak of
    (exchange,) = facts.key_exchanges
    assert exchange.key_exchange == "ECDHE_RSA" and exchange.curve == "x25519"
    assert set(facts.tls12_curves) == {"x25519", "secp256r1", "secp384r1", "secp521r1", "x448"}
    assert facts.client_auth is None
    leaf = x509.load_pem_x509_certificate(rsa.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(rsa.ca.read_bytes())
    assert facts.certificate_chain == (leaf.public_bytes(DER), ca.public_bytes(DER))
    sizes = facts.sizes
    assert sizes is not None and sizes.largest_message is not None
    assert sizes.largest_message.message == "Certificate"
    assert sizes.largest_message.size == 4 + 3 + sum(3 + len(c) for c in facts.certificate_chain)
    assert facts.extensions.extended_master_secret is True
    assert facts.extensions.renegotiation_info is True
    assert facts.extensions.max_fragment_lengths == (512, 1024, 2048, 4096)
    assert facts.intolerance.blamed == ()
    assert facts.attempts == ()


def test_every_curve_of_a_server_with_a_p256_certificate_is_found(ecc):
    # OpenSSL signs with its P-256 key only for a client that offers P-256: a device verifying
    # that certificate offers it in every hello, so the probe keeps it in every offer.
    with openssl_server(ecc, "-tls1_2", "-groups", "P-521:X448:P-256:P-384:X25519") as port:
        facts = run(port)
    assert facts.tls12_curves == ("x25519", "secp256r1", "secp384r1", "secp521r1", "x448")


def test_with_its_own_order_the_curves_a_p256_device_can_get(ecc):
    # Preferring P-256 to X25519 and P-521, the server never gives those to a device that
    # offers P-256, as it must: they are not reported, the ones ahead of it are, in order.
    with openssl_server(ecc, "-tls1_2", "-serverpref",
                        "-groups", "P-384:X448:P-256:X25519:P-521") as port:
        facts = run(port)
    assert facts.tls12_curves == ("secp384r1", "x448", "secp256r1")


def test_ccm8_only_with_required_client_certificate(ecc):
    with openssl_server(ecc, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-CCM8",
                        "-Verify", "1", "-CAfile", str(ecc.ca)) as port:
        facts = run(port)
    assert ids(facts.tls12_suites) == [0xC0AE]
    auth = facts.client_auth
    assert auth is not None
    assert "ecdsa_sign" in auth.certificate_types
    assert "ecdsa_secp256r1_sha256" in auth.signature_schemes
    ca = x509.load_pem_x509_certificate(ecc.ca.read_bytes())
    assert auth.authorities == (ca.subject.public_bytes(),)
    assert facts.key_exchanges[0].signature_scheme == "ecdsa_secp256r1_sha256"


def test_tls13_only(rsa):
    with openssl_server(rsa, "-tls1_3", "-ciphersuites",
                        "TLS_AES_128_CCM_8_SHA256:TLS_AES_256_GCM_SHA384",
                        "-groups", "P-384:X25519") as port:
        facts = run(port)
    assert facts.versions == ("1.3",)
    assert facts.tls12_suites == ()
    assert sorted(ids(facts.tls13_suites)) == [0x1302, 0x1305]
    assert set(facts.tls13_groups) == {"secp384r1", "x25519"}
    assert facts.tls13_retry is False
    leaf = x509.load_pem_x509_certificate(rsa.cert.read_bytes())
    assert facts.certificate_chain[0] == leaf.public_bytes(DER)  # decrypted from TLS 1.3
    sizes = facts.sizes
    assert sizes is not None and sizes.messages == ()
    assert [m.message for m in sizes.tls13_messages] == [
        "EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"]
    assert sizes.largest_message == sizes.tls13_messages[1]
    assert sizes.largest_message.size == 4 + 1 + 3 + sum(3 + len(c) + 2
                                                         for c in facts.certificate_chain)


def test_tls13_hello_retry_request(rsa):
    with openssl_server(rsa, "-tls1_3", "-groups", "P-384") as port:
        facts = run(port)
    assert facts.tls13_groups == ("secp384r1",)
    assert facts.tls13_retry is True
    assert len(facts.certificate_chain) == 2  # read with a secp384r1 share after the retry


def test_tls13_client_certificate_request_and_alpn(ecc):
    with openssl_server(ecc, "-tls1_3", "-Verify", "1", "-CAfile", str(ecc.ca),
                        "-alpn", "mqtt") as port:
        facts = run(port, alpn=("x-amzn-mqtt-ca", "mqtt"))
    auth = facts.client_auth
    assert auth is not None and auth.certificate_types == ()
    assert "ecdsa_secp256r1_sha256" in auth.signature_schemes
    ca = x509.load_pem_x509_certificate(ecc.ca.read_bytes())
    assert auth.authorities == (ca.subject.public_bytes(),)
    assert facts.extensions.alpn == "mqtt"
    assert facts.extensions.alpn_refused is False


def openssl_ids(cipher_string: str, *more: str) -> set[int]:
    out = subprocess.run(["openssl", "ciphers", "-V", *more, cipher_string],
                         capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        high, low = line.split()[0].split(",")
        found.add(int(high, 16) << 8 | int(low, 16))
    return found


def test_permissive_server_accepts_exactly_what_openssl_lists(rsa):
    with openssl_server(rsa, "-cipher", "ALL:@SECLEVEL=0") as port:
        facts = run(port)
    assert facts.versions == ("1.0", "1.1", "1.2", "1.3")
    rsa_auth = {c.id for c in TLS12_3_6 if c.key_exchange in ("RSA", "DHE_RSA", "ECDHE_RSA")}
    expected = openssl_ids("ALL:@SECLEVEL=0", "-tls1_2") & rsa_auth
    assert set(ids(facts.tls12_suites)) == expected
    assert len(expected) > 40
    assert facts.server_preference is False
    assert sorted(ids(facts.tls13_suites)) == [0x1301, 0x1302, 0x1303]
    dhe = next(k for k in facts.key_exchanges if k.key_exchange == "DHE_RSA")
    assert dhe.dh_prime_bits == 2048
    assert facts.extensions.encrypt_then_mac is True
    assert facts.extensions.session_ticket is True


def test_server_preference_order(rsa):
    order = ["ECDHE-RSA-CHACHA20-POLY1305", "AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
             "DHE-RSA-AES128-GCM-SHA256"]
    with openssl_server(rsa, "-tls1_2", "-serverpref", "-cipher", ":".join(order),
                        "-no_ticket", "-no_etm") as port:
        facts = run(port)
    assert facts.server_preference is True
    assert ids(facts.tls12_suites) == [0xCCA8, 0x009C, 0xC030, 0x009E]
    assert facts.extensions.session_ticket is False


def test_max_fragment_length_and_split_certificate(rsa):
    with openssl_server(rsa, "-tls1_2", "-max_send_frag", "512") as port:
        facts = run(port)
    sizes = facts.sizes
    assert sizes is not None and sizes.largest_record <= 512
    certificate = next(m for m in sizes.messages if m.message == "Certificate")
    assert certificate.records > 1 and certificate.size > 1500
    assert facts.extensions.max_fragment_lengths == (512, 1024, 2048, 4096)


def test_sni_selects_another_chain(rsa, ecc):
    with openssl_server(rsa, "-tls1_2", "-servername", "localhost", "-cert2", str(ecc.cert),
                        "-key2", str(ecc.key)) as port:
        facts = run(port)
    assert facts.extensions.sni_required is False
    assert facts.extensions.sni_changes_chain is True
    ecc_leaf = x509.load_pem_x509_certificate(ecc.cert.read_bytes())
    assert facts.certificate_chain[0] == ecc_leaf.public_bytes(DER)


def test_alpn_choice(rsa):
    with openssl_server(rsa, "-tls1_2", "-alpn", "mqtt") as port:
        facts = run(port, alpn=("x-amzn-mqtt-ca", "mqtt"))
    assert facts.extensions.alpn == "mqtt"


def test_mbedtls_2_28_candidates(rsa):
    with openssl_server(rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:AES256-SHA") as port:
        facts = run(port, line="2.28")
    assert facts.mbedtls == "2.28"
    assert sorted(ids(facts.tls12_suites)) == [0x0035, 0xC013]


def test_tls13_only_server_seen_with_the_2_28_line(rsa):
    with openssl_server(rsa, "-tls1_3") as port:
        facts = run(port, line="2.28")
    assert facts.versions == ("1.3",)  # a fact about the server, though 2.28 cannot speak it
    assert facts.tls12_suites == ()
    assert {s.name for s in facts.tls13_suites} == {
        "TLS1-3-AES-128-GCM-SHA256", "TLS1-3-AES-256-GCM-SHA384", "TLS1-3-CHACHA20-POLY1305-SHA256"}


@pytest.mark.parametrize("suite, group", [
    ("TLS_AES_128_CCM_8_SHA256", "P-256"),
    ("TLS_AES_128_CCM_SHA256", "P-521"),
    ("TLS_CHACHA20_POLY1305_SHA256", "X448"),
])
def test_tls13_flight_decrypts_with_every_suite(rsa, suite, group):
    with openssl_server(rsa, "-tls1_3", "-ciphersuites", suite, "-groups", group) as port:
        facts = run(port)
    leaf = x509.load_pem_x509_certificate(rsa.cert.read_bytes())
    assert facts.certificate_chain[0] == leaf.public_bytes(DER)


@pytest.mark.parametrize("server", [
    ("-cipher", "ALL:@SECLEVEL=0"),
    ("-serverpref", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:DHE-RSA-AES256-SHA256",
     "-groups", "P-384:X25519:P-256"),
], ids=["client order", "server order"])
def test_concurrency_changes_nothing_but_the_time(rsa, server):
    with openssl_server(rsa, *server) as port:
        target = Target(LOOPBACK, port, "localhost", (), "3.6", TLS12_3_6, TLS13_3_6)
        alone = probe(target, Timeouts(3, 3), 60, pool=1)
        together = probe(target, Timeouts(3, 3), 60)
    assert together == alone
    assert len(alone.tls12_suites) > 1 and len(alone.tls12_curves) > 1


def test_psk_suites_only_when_the_device_has_a_key(rsa):
    with openssl_server(rsa, "-tls1_2", "-nocert", "-psk", "1a2b3c4d", "-psk_hint", "device",
                        "-cipher", "PSK-AES128-GCM-SHA256:DHE-PSK-AES256-GCM-SHA384",
                        chain=False) as port:
        tls12, tls13 = candidates(kb.load("3.6").suites, psk=True)
        target = Target(LOOPBACK, port, "localhost", (), "3.6", tls12, tls13)
        facts = probe(target, Timeouts(3, 3), 30)
    assert sorted(ids(facts.tls12_suites)) == [0x00A8, 0x00AB]
    assert {k.key_exchange for k in facts.key_exchanges} == {"PSK", "DHE_PSK"}
    assert facts.certificate_chain == ()
