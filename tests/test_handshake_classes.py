"""The defect classes of "Right on servers and chains nobody here wrote", each against a real
`openssl s_server`: configgen generate probes it live, the header is built, and configgen's
client completes a handshake and one round trip with it; or configgen refuses, naming the
reason. Each case failed before the fix named in its `what`. The wider matrix of servers and
shapes is tests/test_zoo.py; the handshake model's arithmetic is tested without a network at
the end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from configgen import handshake_model, headerfile, sources
from configgen import profile as profiles
from configgen.model.certificates import CertFacts
from configgen.errors import ConfiggenError
from configgen.generate import generate
from configgen.inspect import parse
from e2e_scenarios import CERTS, Files, Scenario, _committed, _ec_pki, openssl, started
from handshake import build_client, integration_arguments, run_client
from pki import Issued, _pem_key, issue

LINES = ("2.28", "3.6")


def _written(work: Path, folder: str, chain: list[Issued], ca: Issued) -> Files:
    """The server's chain (leaf first) and key, and the anchor, as PEM files in `work/folder`."""
    where = work / folder
    if not (where / "ca.pem").is_file():
        where.mkdir(parents=True, exist_ok=True)
        (where / "ca.pem").write_bytes(ca.pem())
        (where / "cert.pem").write_bytes(chain[0].pem())
        (where / "chain.pem").write_bytes(b"".join(c.pem() for c in chain[1:]) or ca.pem())
        (where / "key.pem").write_bytes(_pem_key(chain[0].key))
    return Files(where / "ca.pem")


def _pki(folder: str, make):
    """Files from `make(now) -> (chain, ca)`, written once per work folder."""
    def files(work: Path) -> Files:
        if not (work / folder / "ca.pem").is_file():
            chain, ca = make(dt.datetime.now(dt.timezone.utc))
            return _written(work, folder, chain, ca)
        return Files(work / folder / "ca.pem")
    return files


def _server(folder: str, make, *args: str):
    files = _pki(folder, make)

    def start(work: Path):
        files(work)
        return openssl("-cert", f"{folder}/cert.pem", "-cert_chain", f"{folder}/chain.pem",
                       "-key", f"{folder}/key.pem", *args, cwd=work)(work)
    return start, files


def _mixed(now):
    root = issue("RSA Root", "rsa2048", None, now, ca=True)
    middle = issue("EC Intermediate", "p256", root, now, ca=True)
    leaf = issue("localhost", "p256", middle, now, san=("localhost",))
    return [leaf, middle], root


def _ed25519(now):
    root = issue("Ed Root", "ed25519", None, now, ca=True)
    return [issue("localhost", "ed25519-leaf", root, now, san=("localhost",))], root


def _sha1_intermediate(now):
    root = issue("SHA-1 Test Root", "rsa2048", None, now, ca=True)
    middle = issue("SHA-1 Intermediate", "rsa2048-mid", root, now, ca=True, sig_hash=hashes.SHA1)
    leaf = issue("localhost", "rsa2048-leaf", middle, now, san=("localhost",))
    return [leaf, middle], root


def _huge_chain(now):
    root = issue("Big Root", "p256", None, now, ca=True)
    names = tuple(f"host-{i:04d}.configgen.example" for i in range(1000)) + ("localhost",)
    return [issue("localhost", "p256-big", root, now, san=names)], root


_mixed_server, _mixed_files = _server("mixed", _mixed, "-tls1_2")
_ed_server, _ed_files = _server("ed25519", _ed25519, "-tls1_2")
_sha1_server, _sha1_files = _server("sha1mid", _sha1_intermediate, "-tls1_2", "-cipher", "DEFAULT:@SECLEVEL=0")
_huge_server, _huge_files = _server("huge", _huge_chain, "-tls1_2")

CASES = (
    Scenario("requested-not-required", "class 1: a CertificateRequest, but an empty Certificate is accepted",
             "linux-host",
             openssl("-cert", "p256-server.pem", "-key", "p256-server.key", "-tls1_2",
                     "-verify", "1", "-CAfile", "p256-root.pem"),
             _committed("p256-root.pem")),
    Scenario("dhe-rsa4096-client-key-exchange", "class 2: a 4096-bit DH group: the ClientKeyExchange is 518 bytes",
             "linux-host",
             openssl("-cert", "rsa4096-server.pem", "-cert_chain", "rsa4096-intermediate.pem",
                     "-key", "rsa4096-server.key", "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"),
             _committed("sha1-rsa4096-root.pem")),
    Scenario("rsa-root-ecdsa-intermediate", "class 3: PKCS#1 v1.5 verifies the intermediate though all below is EC",
             "linux-host", _mixed_server, _mixed_files),
    Scenario("tls13-rsa-server", "class 4: TLS 1.3 CertificateVerify with an RSA key is RSA-PSS",
             "linux-host",
             openssl("-cert", "rsa2048-server.pem", "-key", "rsa2048-server.key", "-tls1_3"),
             _committed("rsa2048-root.pem"), stops={"2.28": "mbedTLS 2.28 speaks 1.2"}),
    Scenario("ed25519-server", "class 5: an algorithm mbedTLS does not implement is named",
             "linux-host", _ed_server, _ed_files,
             stops={"2.28": "Ed25519", "3.6": "Ed25519"}),
    Scenario("sha1-intermediate-allowed", "class 5: allow_sha1 cannot change the verification profile: code must",
             "linux-host", _sha1_server, _sha1_files, policy="allow_sha1 = true\n"),
    Scenario("certificate-message-over-16k", "class 6: no input buffer holds a 25 KB Certificate message",
             "linux-host", _huge_server, _huge_files,
             stops={"2.28": "no configuration of mbedTLS 2.28 allows more than 16,384 bytes",
                    "3.6": "no configuration of mbedTLS 3.6 allows more than 16,384 bytes"}),
)
PARAMS = [(s, line) for s in CASES for line in LINES]


@pytest.mark.mbedtls
@pytest.mark.parametrize(("case", "line"), PARAMS, ids=[f"{s.name}-{l}" for s, l in PARAMS])
def test_generated_header_handshakes_or_refuses_with_the_reason(case, line, tmp_path):
    tree = sources.find_tree(line)
    with started(case, line, tmp_path / "work") as run:
        try:
            header = generate(profiles.load(run.profile), "mbedtls_config.h").text
        except ConfiggenError as error:
            assert line in case.stops, str(error)
            assert case.stops[line] in str(error), str(error)
            return
        assert line not in case.stops, f"configgen should have stopped: {case.stops[line]}"
        client = build_client(tree, header, tmp_path / "client")
        outcome = run_client(client, run.port, run.files.ca, *run.client_args, *integration_arguments(header))
    assert outcome.ok, outcome.text
    options = headerfile.parse(header, "mbedtls_config.h").active()
    if case.name == "requested-not-required":
        assert "completes the handshake without one" in header
    if case.name == "dhe-rsa4096-client-key-exchange":
        assert int(options["MBEDTLS_SSL_OUT_CONTENT_LEN"]) >= 518
        assert "ClientKeyExchange, 518 bytes" in header
    if case.name == "rsa-root-ecdsa-intermediate":
        assert "MBEDTLS_PKCS1_V15" in options
    if case.name == "tls13-rsa-server":
        assert "MBEDTLS_PKCS1_V21" in options
    if case.name == "sha1-intermediate-allowed":
        assert "mbedtls_ssl_conf_cert_profile" in header
    if case.name == "encrypted-device-key":
        assert {"MBEDTLS_PKCS5_C", "MBEDTLS_AES_C", "MBEDTLS_CIPHER_MODE_CBC"} <= set(options)


def _facts(path: Path) -> CertFacts:
    return parse(path.read_bytes(), path.name).certificates[0]


def test_the_model_sizes_every_message_the_device_sends():
    """A DHE ClientKeyExchange carries the server's group: 8192 bits = 1,030 bytes with its
    headers; an RSA client key makes a CertificateVerify of its modulus size."""
    leaf = _facts(CERTS / "rsa4096-server.pem")
    device = _facts(CERTS / "p256-device.pem")
    dhe = handshake_model.model("1.2", "DHE_RSA", None, None, 8192, [leaf], [], False)
    assert dhe.largest_sent.name == "ClientKeyExchange" and dhe.largest_sent.size == 1030
    ecdhe = handshake_model.model("1.2", "ECDHE_ECDSA", "secp256r1", 256, None, [leaf], [device], True)
    sizes = {m.name: m.size for m in ecdhe.sends}
    assert sizes["ClientKeyExchange"] == 4 + 1 + 65
    assert sizes["Certificate"] == 4 + 3 + 3 + len(device.der)
    assert sizes["CertificateVerify"] <= 4 + 4 + 72
    signs = [s for s in ecdhe.signatures if s.makes]
    assert [(s.scheme, s.curve) for s in signs] == [("ecdsa", "secp256r1")]


def test_the_model_names_each_signature_by_scheme():
    """TLS 1.3 signs RSA with PSS; a chain link's scheme is its own signature's, whatever the
    keys below it; a self-signed root's own signature is never verified."""
    root = _facts(CERTS / "sha1-rsa4096-root.pem")
    leaf = _facts(CERTS / "rsa2048-server.pem")
    tls13 = handshake_model.model("1.3", "TLS1_3", "x25519", 255, None, [leaf, root], [], False)
    schemes = sorted((s.scheme, s.what) for s in tls13.signatures)
    assert schemes == [
        ("rsa_pkcs1v15", "verifies 'localhost', signed sha256WithRSAEncryption"),
        ("rsassa_pss", "verifies the server's CertificateVerify, signed with its RSA-2048 key (TLS 1.3: RSA with PSS)"),
    ]
    assert not any("SHA-1" in s.what for s in tls13.signatures)


def _device(work: Path, *, encrypt: bytes | None = None, other_key: bool = False) -> Files:
    """The EC scenario's files, the device key encrypted (PKCS#8, PBES2 AES-256-CBC with
    PBKDF2-SHA256: OpenSSL's default) or replaced by another key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    files = _ec_pki(work)
    key = serialization.load_pem_private_key(files.client_key.read_bytes(), None)
    if other_key:
        key = ec.generate_private_key(ec.SECP256R1())
    algorithm = (serialization.BestAvailableEncryption(encrypt) if encrypt
                 else serialization.NoEncryption())
    path = work / ("device-other.key" if other_key else "device-encrypted.key" if encrypt else "device.key")
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algorithm))
    return Files(files.ca, files.client_cert, path)


def _client_auth_server(work: Path):
    _ec_pki(work)
    return openssl("-cert", "pki/cert.pem", "-key", "pki/key.pem", "-tls1_2",
                   "-Verify", "1", "-CAfile", "pki/ca.pem", cwd=work)(work)


KEY_CASES = (
    Scenario("encrypted-device-key", "class 7: what decrypts the device's key", "linux-host",
             _client_auth_server, lambda work: _device(work, encrypt=b"device secret"),
             stops={"2.28": "cannot decrypt"}),
    Scenario("device-key-of-another-certificate", "class 7: a key that is not the certificate's", "linux-host",
             _client_auth_server, lambda work: _device(work, other_key=True),
             stops={"2.28": "is not the private key of", "3.6": "is not the private key of"}),
)
KEY_PARAMS = [(s, line) for s in KEY_CASES for line in LINES]


@pytest.mark.mbedtls
@pytest.mark.parametrize(("case", "line"), KEY_PARAMS, ids=[f"{s.name}-{l}" for s, l in KEY_PARAMS])
def test_the_device_key_is_read(case, line, tmp_path, monkeypatch):
    """[client].key is read: a key of another certificate stops naming both files; an encrypted
    one (its password from CONFIGGEN_KEY_PASSWORD) gets what decrypts it, and the device loads it."""
    monkeypatch.setenv("CONFIGGEN_KEY_PASSWORD", "device secret")
    test_generated_header_handshakes_or_refuses_with_the_reason(case, line, tmp_path)


def test_the_tls12_prf_hash_is_a_need_even_where_the_suite_name_omits_it():
    """A CCM suite names no hash, yet TLS 1.2's PRF runs on SHA-256: a P-521 chain signed with
    SHA-512 left the header without SHA-256, and 2.28 failed in ssl_set_handshake_prfs()
    (-0x6C00; found by the proof against stunnel in tests/test_zoo.py)."""
    assert handshake_model.prf_hash("TLS-ECDHE-ECDSA-WITH-AES-128-CCM") == "SHA-256"
    assert handshake_model.prf_hash("TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384") == "SHA-384"
    leaf = _facts(CERTS / "p256-server.pem")
    model = handshake_model.model("1.2", "ECDHE_ECDSA", "secp256r1", 256, None, [leaf], [], False,
                                  "TLS-ECDHE-ECDSA-WITH-AES-128-CCM")
    assert model.prf == "SHA-256"
