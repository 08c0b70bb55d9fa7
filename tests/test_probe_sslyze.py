"""Cross-check with sslyze: on the same servers, both tools accept the same TLS 1.2 and
TLS 1.3 suites, for every suite both of them know."""

from __future__ import annotations

import pytest
from probe_servers import LOOPBACK, have, make_pki, openssl_server

from configgen import kb
from configgen.probe import Target, Timeouts, probe
from configgen.probe.plan import candidates

sslyze = pytest.importorskip("sslyze")
pytestmark = pytest.mark.skipif(not have("openssl"), reason="openssl is not installed")


def iana(mbedtls_name: str) -> str:
    """mbedTLS's suite name in IANA spelling (what sslyze reports)."""
    if mbedtls_name.startswith("TLS1-3-"):
        return "TLS_" + mbedtls_name[len("TLS1-3-"):].replace("-", "_")
    return mbedtls_name.replace("-", "_")


def sslyze_suites(port: int) -> tuple[set[str], set[str]]:
    """(accepted, known) suite names over TLS 1.2 and TLS 1.3."""
    from sslyze import (
        ScanCommand,
        Scanner,
        ServerNetworkLocation,
        ServerScanRequest,
        ServerScanStatusEnum,
    )

    location = ServerNetworkLocation("localhost", port, ip_address=LOOPBACK)
    request = ServerScanRequest(location, scan_commands={
        ScanCommand.TLS_1_2_CIPHER_SUITES, ScanCommand.TLS_1_3_CIPHER_SUITES})
    scanner = Scanner()
    scanner.queue_scans([request])
    (result,) = list(scanner.get_results())
    assert result.scan_status is ServerScanStatusEnum.COMPLETED, result.connectivity_error_trace
    accepted: set[str] = set()
    known: set[str] = set()
    for attempt in (result.scan_result.tls_1_2_cipher_suites, result.scan_result.tls_1_3_cipher_suites):
        assert attempt.result is not None, attempt.error_trace
        accepted |= {s.cipher_suite.name for s in attempt.result.accepted_cipher_suites}
        known |= {s.cipher_suite.name for s in attempt.result.rejected_cipher_suites}
    return accepted, known | accepted


@pytest.fixture(scope="module")
def pkis(tmp_path_factory):
    return {kind: make_pki(tmp_path_factory.mktemp(kind), kind) for kind in ("rsa", "ec")}


CONFIGS = {
    "permissive-rsa": ("rsa", ("-cipher", "ALL:@SECLEVEL=0")),
    "ccm8-ecdsa-client-auth": ("ec", ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-CCM8", "-Verify",
                                      "1")),
    "tls13-only": ("rsa", ("-tls1_3", "-ciphersuites",
                           "TLS_AES_128_CCM_8_SHA256:TLS_CHACHA20_POLY1305_SHA256")),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_same_accepted_suites_as_sslyze(pkis, name):
    kind, args = CONFIGS[name]
    if "-Verify" in args:
        args = args + ("-CAfile", str(pkis[kind].ca))
    tls12, tls13 = candidates(kb.load("3.6").suites)
    with openssl_server(pkis[kind], *args) as port:
        facts = probe(Target(LOOPBACK, port, "localhost", (), "3.6", tls12, tls13),
                      Timeouts(3, 3), 30)
        accepted, known = sslyze_suites(port)
    ours = {iana(s.name) for s in facts.tls12_suites + facts.tls13_suites}
    both_know = {iana(c.name) for c in tls12 + tls13} & known
    assert ours & both_know == accepted & both_know
    assert ours & both_know  # the comparison is not vacuous
