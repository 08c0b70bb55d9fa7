"""Readers and facts: every container, and every kind of bad input → one line, exit 2."""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pki import PRIVATE_POLICY_OID, issue, key

from configgen import inspect
from configgen import kb as kbmod
from configgen.model.certificates import Container, KeyType
from configgen.errors import CertificateError
from configgen import verdicts

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def chain():
    root = issue("Reader Root", "rsa2048-r", None, NOW, ca=True)
    leaf = issue("device.example", "p256-d", root, NOW, san=("device.example",))
    return root, leaf


def _pem_key(kind, password=None):
    algorithm = (serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    return key(kind).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algorithm)


def test_pem_bundle_der_and_facts(chain):
    root, leaf = chain
    facts = inspect.parse(leaf.pem() + root.pem(), "bundle.pem")
    assert facts.container is Container.PEM
    first, second = facts.certificates
    assert first.common_name == "device.example" and first.dns_names == ("device.example",)
    assert first.public_key.type is KeyType.EC and first.public_key.curve == "secp256r1"
    assert first.public_key.curve_oid == "1.2.840.10045.3.1.7"
    assert first.signature.oid == "1.2.840.113549.1.1.11" and first.signature.hash == "SHA-256"
    assert first.signature.scheme == "rsa_pkcs1v15"
    assert second.is_ca is True and second.public_key.bits == 2048 and second.self_issued
    assert "key_cert_sign" in second.key_usage
    assert first.label == "bundle.pem" and second.label == "bundle.pem#2"
    der = inspect.parse(leaf.der(), "leaf.der")
    assert der.container is Container.DER and der.certificates[0].fingerprint == first.fingerprint


def test_pkcs7_pem_and_der(chain):
    root, leaf = chain
    certs = [leaf.cert, root.cert]
    p7_pem = pkcs7.serialize_certificates(certs, serialization.Encoding.PEM)
    p7_der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    assert inspect.parse(p7_pem, "c.p7b").container is Container.PKCS7_PEM
    facts = inspect.parse(p7_der, "c.p7c")
    assert facts.container is Container.PKCS7_DER and len(facts.certificates) == 2


def test_keys_never_keep_material(chain):
    _, leaf = chain
    for data in (_pem_key("p256-d"), _pem_key("p256-d", b"secret")):
        password = b"secret" if b"ENCRYPTED" in data else None
        facts = inspect.parse(data, "device.key", password)
        (k,) = facts.keys
        assert k.public_key.fingerprint == inspect.parse(leaf.pem(), "leaf.pem").certificates[0].public_key.fingerprint
        assert k.public_key.curve == "secp256r1" and k.encrypted == (password is not None)
        assert "PRIVATE" not in repr(facts) and "BEGIN" not in repr(facts)
    rsa1 = key("rsa2048-r").private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption())
    assert inspect.parse(rsa1, "rsa.key").keys[0].public_key.bits == 2048
    sec1 = key("p256-d").private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption())
    assert inspect.parse(sec1, "ec.der").keys[0].public_key.type is KeyType.EC
    with pytest.raises(inspect.PasswordNeeded):
        inspect.parse(_pem_key("p256-d", b"secret"), "device.key")
    with pytest.raises(CertificateError, match="wrong password"):
        inspect.parse(_pem_key("p256-d", b"secret"), "device.key", b"nope")


def test_pkcs12(chain):
    root, leaf = chain
    p12 = pkcs12.serialize_key_and_certificates(
        b"device", key("p256-d"), leaf.cert, [root.cert], serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(inspect.PasswordNeeded):
        inspect.parse(p12, "device.p12")
    with pytest.raises(CertificateError, match="wrong password"):
        inspect.parse(p12, "device.p12", b"bad")
    facts = inspect.parse(p12, "device.p12", b"pw")
    assert facts.container is Container.PKCS12 and len(facts.certificates) == 2
    assert facts.keys[0].public_key.fingerprint == facts.certificates[0].public_key.fingerprint


def test_policies_and_critical_flags(chain):
    root, _ = chain
    policies = x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(PRIVATE_POLICY_OID), None)])
    cert = issue("p.example", "p256-d", root, NOW, extra=((policies, True),))
    (facts,) = inspect.parse(cert.pem(), "p.pem").certificates
    ext = next(e for e in facts.extensions if e.oid == "2.5.29.32")
    assert ext.critical and ext.policies == (PRIVATE_POLICY_OID,)


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "configgen", "inspect", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, chain):
    _, leaf = chain
    d = tmp_path_factory.mktemp("bad")
    files = {}

    def put(name, data):
        files[name] = d / name
        files[name].write_bytes(data)

    put("empty.pem", b"")
    put("random.bin", os.urandom(3000))
    put("random-seq.der", b"\x30\x82\x10\x00" + os.urandom(600))
    put("truncated.der", leaf.der()[: len(leaf.der()) // 2])
    pem = leaf.pem().decode()
    put("broken-base64.pem", (pem[:60] + "!!!not base64!!!" + pem[76:]).encode())
    put("no-end.pem", pem[: len(pem) // 2].encode())
    csr = x509.CertificateSigningRequestBuilder().subject_name(leaf.cert.subject).sign(key("p256-d"), hashes.SHA256())
    put("request.pem", csr.public_bytes(serialization.Encoding.PEM))
    put("public.pem", key("p256-d").public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    put("encrypted.key", _pem_key("p256-d", b"secret"))
    put("device.p12", pkcs12.serialize_key_and_certificates(
        b"d", key("p256-d"), leaf.cert, None, serialization.BestAvailableEncryption(b"pw")))
    files["directory"] = d / "adir"
    files["directory"].mkdir()
    files["missing"] = d / "missing.pem"
    files["unreadable"] = d / "unreadable.pem"
    files["unreadable"].write_bytes(leaf.pem())
    files["unreadable"].chmod(0)
    files["huge"] = d / "huge.pem"
    with files["huge"].open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    return files


@pytest.mark.parametrize("name,expected", [
    ("empty.pem", "is empty"),
    ("random.bin", "neither PEM nor DER"),
    ("random-seq.der", "is DER but not"),
    ("truncated.der", "is DER but not"),
    ("broken-base64.pem", "PEM block 1 (CERTIFICATE) is not valid"),
    ("no-end.pem", "has no END line"),
    ("request.pem", "certificate signing request"),
    ("public.pem", "bare public key"),
    ("encrypted.key", "encrypted private key"),
    ("device.p12", "PKCS#12 file protected by a password"),
    ("directory", "is a directory"),
    ("missing", "no such file"),
    ("unreadable", "permission denied"),
    ("huge", "is 104.9 MB"),
])
def test_bad_input_is_one_line_exit_2(bad_files, name, expected):
    if name == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = str(bad_files[name])
    result = _cli(path)
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"configgen: {path}: ") and expected in first, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 2
    assert result.stdout == ""


def test_unreadable_file_as_root(bad_files, monkeypatch):
    """Root reads any file: make open() refuse, as it does for everyone else."""
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(CertificateError, match="cannot be read: permission denied") as caught:
        inspect.read_bytes(bad_files["unreadable"])
    assert caught.value.where == str(bad_files["unreadable"])


def test_wrong_password_from_environment(bad_files):
    result = _cli(str(bad_files["device.p12"]), "--password-env", "P12_PASSWORD", env={"P12_PASSWORD": "nope"})
    assert result.returncode == 2 and "wrong password" in result.stderr and "Traceback" not in result.stderr
    result = _cli(str(bad_files["device.p12"]), "--password-env", "UNSET_VARIABLE_XYZ")
    assert result.returncode == 2 and "UNSET_VARIABLE_XYZ is not set" in result.stderr
    result = _cli(str(bad_files["device.p12"]), "--password-env", "P12_PASSWORD", "--json", env={"P12_PASSWORD": "pw"})
    assert result.returncode in (0, 1), result.stderr
    assert "pw" not in result.stdout.replace("pkcs12", "")


def _mutations(der: bytes):
    return st.one_of(
        st.tuples(st.integers(0, len(der) - 1), st.integers(0, 255)).map(
            lambda m: der[: m[0]] + bytes([m[1]]) + der[m[0] + 1 :]),
        st.integers(1, len(der) - 1).map(lambda n: der[:n]),
        st.tuples(st.integers(0, len(der)), st.binary(min_size=1, max_size=8)).map(
            lambda m: der[: m[0]] + m[1] + der[m[0] :]),
    )


_SEED = issue("mutant.example", "p256-m", None, NOW, ca=True, san=("mutant.example",))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_mutations(_SEED.der()), as_pem=st.booleans())
@example(data=_SEED.der()[:12] + b"\x01" + _SEED.der()[13:], as_pem=False)  # X.509 version 2: InvalidVersion
@example(data=_SEED.der()[:58] + b"\x00" + _SEED.der()[59:], as_pem=False)  # name string tag 0: KeyError
def test_mutated_certificates_never_crash(data, as_pem):
    if as_pem:
        body = base64.encodebytes(data).decode()
        data = f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()
    try:
        facts = inspect.parse(data, "mutant.pem")
    except CertificateError as error:
        assert "\n" not in error.message
        return
    for line in ("2.28", "3.6"):
        kb = kbmod.load(line)
        verdicts.file_verdict(facts, kb)
        for cert in facts.certificates:
            verdicts.certificate_verdict(cert, kb, verdicts.Role.PRESENTED)
