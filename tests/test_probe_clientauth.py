"""A server that sends a CertificateRequest: does it require the certificate, or only ask?
Told from the server's own behaviour (a real handshake without a certificate), on both
protocol versions, against openssl s_server's -Verify (required) and -verify (asked)."""

from __future__ import annotations

import socket

import pytest

from configgen.probe import clientauth
from probe_servers import LOOPBACK, make_pki, openssl_server


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("clientauth"), "ec")


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
@pytest.mark.parametrize(("flag", "required"), [("-Verify", True), ("-verify", False)])
def test_required_is_told_from_the_servers_behaviour(pki, version, flag, required):
    with openssl_server(pki, version, flag, "1", "-CAfile", str(pki.ca)) as port:
        assert clientauth.required(LOOPBACK, port, "localhost", 5.0) is required


def test_a_server_that_is_not_tls_cannot_be_told(tmp_path):
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert clientauth.required(LOOPBACK, port, None, 0.5) is None
