"""Container and certificate shapes mbedTLS's own test data lacks, made here: what the
inspector says about each, and (slower tier) that real mbedtls_x509_crt_parse_file() returns
exactly that (or fails, where the inspector predicts no code). The damaged certificates are
the rules a single-byte mutation run against real mbedTLS found beyond its test data."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from pki import MbedtlsJudge, issue

from configgen import inspect
from configgen import kb as kbmod
from configgen import verdicts

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _patched(der: bytes, old: bytes, new: bytes) -> bytes:
    """`der` with the first occurrence of `old` replaced (same length: no length changes)."""
    assert len(old) == len(new) and old in der
    return der.replace(old, new, 1)


def _spaced(pem: bytes) -> bytes:
    lines = pem.splitlines(keepends=True)
    lines[3] = lines[3][:10] + b" " + lines[3][10:]
    return b"".join(lines)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """name -> (file, parses on both lines, result, problem code or None)"""
    directory = tmp_path_factory.mktemp("shapes")
    root = issue("Shapes Root", "p256-shapes", None, NOW, ca=True)
    leaf = issue("leaf.example", "p256-leaf", root, NOW, san=("leaf.example",))
    rsa = issue("rsa.example", "rsa2048", None, NOW, ca=True, pathlen=3)
    sha256_rsa = bytes.fromhex("06092a864886f70d01010b")  # sha256WithRSAEncryption
    point = leaf.cert.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint)
    made = {
        # the TBSCertificate names sha384WithRSA, the outer signatureAlgorithm sha256WithRSA
        "signature-mismatch": (_patched(rsa.der(), sha256_rsa, sha256_rsa[:-1] + b"\x0c"), False,
                               verdicts.ERR_SIG_MISMATCH, None),
        "pathlen-negative": (_patched(rsa.der(), bytes.fromhex("0101ff020103"), bytes.fromhex("0101ff0201ff")),
                             False, verdicts.ERR_PATHLEN_INT_MAX, None),
        "ec-point-off-curve": (_patched(leaf.der(), point[-4:], bytes(4)), False, None, None),
        # a subject UTF8String that is not UTF-8: cryptography refuses it, x509.c keeps bytes
        "name-not-utf8": (_patched(leaf.der(), b"leaf.example", b"\xffeaf.example"), True, 0, None),
        # the issuer's organizationName OID ends in a continuation byte: cryptography cannot load
        # the certificate at all, x509.c does not decode attribute OIDs
        "attribute-oid-unterminated": (_patched(leaf.der(), bytes.fromhex("0603550" "40a"), bytes.fromhex("06035504" "8a")),
                                       True, 0, None),
        "same-twice": (root.pem() + leaf.pem() + root.pem(), True, 0, None),
        "pkcs7-pem": (pkcs7.serialize_certificates([leaf.cert, root.cert], serialization.Encoding.PEM),
                      False, verdicts.ERR_X509_INVALID_FORMAT, "pkcs7-container"),
        "pkcs7-der": (pkcs7.serialize_certificates([leaf.cert, root.cert], serialization.Encoding.DER),
                      False, verdicts.ERR_NOT_A_CERTIFICATE, "pkcs7-container"),
        "x509-label": (leaf.pem().replace(b" CERTIFICATE-----", b" X509 CERTIFICATE-----"),
                       False, verdicts.ERR_X509_INVALID_FORMAT, "pem-label"),
        "one-spaced-of-two": (leaf.pem() + _spaced(root.pem()), False, 1, "space-inside-base64-line"),
        "all-spaced": (_spaced(leaf.pem()), False, verdicts.ERR_PEM_BASE64, "space-inside-base64-line"),
        "der-and-junk": (leaf.der() + b"\x00junk", True, 0, "trailing-bytes"),
        "crlf-pem": (leaf.pem().replace(b"\n", b"\r\n"), True, 0, None),
    }
    files = {}
    for name, (data, *expected) in made.items():
        path = directory / f"{name}.crt"
        path.write_bytes(data)
        files[name] = (path, *expected)
    return files


@pytest.mark.parametrize("line", ["2.28", "3.6"])
def test_each_shape_is_named(shapes, line):
    kb = kbmod.load(line)
    for name, (path, parses, result, code) in shapes.items():
        found = verdicts.file_verdict(inspect.parse(path.read_bytes(), str(path)), kb)
        assert (found.parses_by_default, found.result) == (parses, result), name
        codes = {p.code for p in found.problems}
        assert codes == ({code} if code else set()), (name, found.problems)


def test_damaged_certificates_are_named(shapes):
    kb = kbmod.load("3.6")
    for name, code in (("signature-mismatch", "signature-mismatch"), ("pathlen-negative", "pathlen-int-max"),
                       ("ec-point-off-curve", "damaged-key")):
        path = shapes[name][0]
        (cert,) = inspect.parse(path.read_bytes(), str(path)).certificates
        assert code in {p.code for p in verdicts.certificate_verdict(cert, kb, verdicts.Role.ANCHOR).problems}, name


def test_name_cryptography_refuses_is_read_leniently(shapes):
    path = shapes["name-not-utf8"][0]
    (cert,) = inspect.parse(path.read_bytes(), str(path)).certificates
    assert cert.common_name == "\ufffdeaf.example" and cert.dns_names == ("leaf.example",)
    path = shapes["attribute-oid-unterminated"][0]
    (cert,) = inspect.parse(path.read_bytes(), str(path)).certificates
    assert cert.common_name == "leaf.example" and cert.public_key.curve == "secp256r1"
    assert (cert.signature.name, cert.signature.hash) == ("ecdsa-with-SHA256", "SHA-256")


def test_pkcs7_says_how_to_convert(shapes):
    path = shapes["pkcs7-pem"][0]
    (problem,) = verdicts.file_verdict(inspect.parse(path.read_bytes(), str(path)), kbmod.load("3.6")).problems
    assert "mbedtls_x509_crt_parse() cannot read PKCS#7" in problem.message
    assert problem.fix == f"embed the certificates as PEM or DER: openssl pkcs7 -print_certs -in {path} -out certs.pem"


@pytest.mark.mbedtls
def test_shapes_agree_with_mbedtls(tree, shapes, tmp_path):
    judge = MbedtlsJudge(tree, tree.config_header.read_text(), tmp_path)
    real = judge.run([(name, path, None, None) for name, (path, *_) in shapes.items()])
    got = {name: real[name].chain_ret if s[2] is not None else real[name].chain_ret != 0 for name, s in shapes.items()}
    assert got == {name: s[2] if s[2] is not None else True for name, s in shapes.items()}
