"""The device's own key: what decrypts it (held against real mbedtls_pk_parse_keyfile()),
which certificate it belongs to, and what that certificate then is to the device."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pki import UNKNOWN_EXTENSION_OID, config_without, issue
from cryptography import x509

from configgen import cli, inspect, mbedbuild
from configgen import kb as kbmod
from configgen.model.certificates import KeyEncryption
from configgen import verdicts

HARNESS = Path(__file__).parent / "harness" / "parse_key.c"
PASSWORD = "configgen-test"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

# name -> (key kind, openssl arguments turning the plain PKCS#8 key in.pem into out.pem, expected facts)
KEYS = {
    "pem-aes256": ("rsa", ["rsa", "-traditional", "-aes256"], KeyEncryption("pem", "rfc1421", "AES-256-CBC", "MD5")),
    "pem-aes128-ec": ("ec", ["ec", "-aes128"], KeyEncryption("pem", "rfc1421", "AES-128-CBC", "MD5")),
    "pem-des3": ("rsa", ["rsa", "-traditional", "-des3"], KeyEncryption("pem", "rfc1421", "DES-EDE3-CBC", "MD5")),
    "pbes2-aes256-sha256": ("rsa", ["pkcs8", "-topk8", "-v2", "aes-256-cbc"],
                            KeyEncryption("pkcs8", "pbes2", "AES-256-CBC", "SHA-256")),
    "pbes2-aes128-sha512-ec": ("ec", ["pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512"],
                               KeyEncryption("pkcs8", "pbes2", "AES-128-CBC", "SHA-512")),
    "pbes2-des3-sha1": ("rsa", ["pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1"],
                        KeyEncryption("pkcs8", "pbes2", "DES-EDE3-CBC", "SHA-1")),
    "pbes2-des3-sha256-der": ("rsa", ["pkcs8", "-topk8", "-v2", "des3", "-outform", "DER"],
                              KeyEncryption("pkcs8", "pbes2", "DES-EDE3-CBC", "SHA-256")),
    "pkcs12-3des": ("rsa", ["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"],
                    KeyEncryption("pkcs8", "pkcs12-pbe", "DES-EDE3-CBC", "SHA-1")),
    "pkcs12-3des-ec": ("ec", ["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"],
                       KeyEncryption("pkcs8", "pkcs12-pbe", "DES-EDE3-CBC", "SHA-1")),
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    plain = {}
    for kind, algorithm in (("rsa", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                            ("ec", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])):
        plain[kind] = directory / f"{kind}.pem"
        subprocess.run(["openssl", "genpkey", *algorithm, "-out", str(plain[kind])], check=True, capture_output=True)
    made = {}
    for name, (kind, args, _) in KEYS.items():
        out = directory / f"{name}.key"
        subprocess.run(["openssl", *args, "-in", str(plain[kind]), "-out", str(out), "-passout", f"pass:{PASSWORD}"],
                       check=True, capture_output=True)
        made[name] = out
    return made


def _key(path: Path):
    (found,) = inspect.parse(inspect.read_bytes(path), str(path), PASSWORD.encode()).keys
    return found


def test_encryption_facts(keys):
    for name, path in keys.items():
        assert _key(path).encryption == KEYS[name][2], name


def _decrypts_by_default(key, kb) -> bool:
    """The inspector's word: no refusal, and every option key_needs names is on by default."""
    defaults = {o.name for o in kb.options if o.default_enabled}
    needs, problems = verdicts.key_verdict(key, kb)
    return not [p for p in problems if p.severity is verdicts.Severity.ERROR] and all(
        n.option in defaults for n in needs if n.value is None)


@pytest.mark.mbedtls
def test_key_needs_agree_with_mbedtls_pk_parse_keyfile(tree, keys, tmp_path):
    kb = kbmod.load(tree.line)
    library = mbedbuild.build_library(tree, tree.config_header.read_text())
    program = mbedbuild.build_program(library, HARNESS, tmp_path / "parse_key")
    jobs = "".join(f"{name}\t{path}\t{PASSWORD}\n" for name, path in keys.items())
    out = subprocess.run([str(program)], input=jobs, capture_output=True, text=True, check=True).stdout
    real = {name: int(ret) for name, ret in (row.split("\t") for row in out.splitlines())}
    disagree = [(name, real[name]) for name, path in keys.items()
                if (real[name] == 0) != _decrypts_by_default(_key(path), kb)]
    print(f"mbedTLS {tree.version}: key_needs agrees with mbedtls_pk_parse_keyfile() on "
          f"{len(keys) - len(disagree)}/{len(keys)} encrypted keys; "
          f"{sum(r == 0 for r in real.values())} decrypt with the default configuration")
    assert disagree == []


def test_28_cannot_decrypt_pbes2_with_aes(keys):
    """mbedTLS 2.28's oid.c knows DES-CBC and DES-EDE3-CBC as PBES2 ciphers, not AES: OpenSSL's
    default `openssl pkcs8 -topk8` output (AES-256-CBC) does not load there."""
    needs, problems = verdicts.key_verdict(_key(keys["pbes2-aes256-sha256"]), kbmod.load("2.28"))
    (problem,) = problems
    assert problem.code == "unsupported-key-encryption" and "-v2 des3" in problem.fix
    needs, problems = verdicts.key_verdict(_key(keys["pbes2-aes256-sha256"]), kbmod.load("3.6"))
    assert problems == ()
    assert {"MBEDTLS_PKCS5_C", "MBEDTLS_AES_C", "MBEDTLS_CIPHER_MODE_CBC", "MBEDTLS_SHA256_C"} <= {n.option for n in needs}
    assert {"MBEDTLS_MD5_C", "MBEDTLS_DES_C", "MBEDTLS_PEM_PARSE_C"} <= {
        n.option for n in verdicts.key_needs(_key(keys["pem-des3"]), kbmod.load("3.6"))}
    assert {"MBEDTLS_PKCS12_C", "MBEDTLS_DES_C", "MBEDTLS_SHA1_C"} <= {
        n.option for n in verdicts.key_needs(_key(keys["pkcs12-3des"]), kbmod.load("2.28"))}


# --- the device's own certificate -------------------------------------------------------------


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A client certificate with an unsupported critical extension, its key, and another key."""
    directory = tmp_path_factory.mktemp("own")
    root = issue("Own Root", "rsa2048", None, NOW, ca=True)
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier(UNKNOWN_EXTENSION_OID), b"\x05\x00")
    device = issue("device", "p256-own", root, NOW, extra=((unknown, True),))
    other = issue("other", "p256-other", root, NOW)
    files = {"cert": directory / "device.pem", "key": directory / "device.key", "other": directory / "other.key"}
    files["cert"].write_bytes(device.pem())
    for name, holder in (("key", device), ("other", other)):
        files[name].write_bytes(holder.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return files


def _run(capsys, *args):
    code = cli.main(["inspect", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_certificate_matching_the_key_is_the_devices_own(capsys, own):
    """On 3.6 the extension callback helps for the device's own certificate (the application
    parses it): print it, instead of "no configuration accepts it when the server sends it"."""
    cert = inspect.parse(inspect.read_bytes(own["cert"]), str(own["cert"])).certificates[0]
    assert verdicts.matches(cert, _plain_key(own["key"])) and not verdicts.matches(cert, _plain_key(own["other"]))
    code, out, err = _run(capsys, own["cert"], own["key"], "--mbedtls", "3.6")
    assert err == ""
    assert "when the server sends it" not in out
    assert "Extension callback for" in out and "only for certificates the application parses itself" in out
    assert "the device's own certificate" in out
    code, out, _ = _run(capsys, own["cert"], "--mbedtls", "3.6")
    assert code == 1 and "when the server sends it" in out  # without its key: a server's certificate


def test_key_matching_no_certificate_is_an_error_naming_both(capsys, own):
    code, out, _ = _run(capsys, own["cert"], own["other"], "--mbedtls", "3.6")
    assert code == 1
    assert f"the private key in {own['other']} (EC secp256r1) matches no certificate in {own['cert']}" in out


def _plain_key(path: Path):
    (found,) = inspect.parse(inspect.read_bytes(path), str(path)).keys
    return found


@pytest.mark.mbedtls
@pytest.mark.parametrize("option", ["MBEDTLS_PKCS5_C", "MBEDTLS_DES_C"])
def test_each_named_option_is_needed(tree, keys, tmp_path, option):
    """Without `option` (and what check_config.h then drops), exactly the keys whose key_needs
    name it stop loading."""
    kb = kbmod.load(tree.line)
    header = config_without(tree, [option])
    enabled = set(re.findall(r"^\s*#define (MBEDTLS_\w+)", header, flags=re.MULTILINE))
    library = mbedbuild.build_library(tree, header)
    program = mbedbuild.build_program(library, HARNESS, tmp_path / "parse_key")
    jobs = "".join(f"{name}\t{path}\t{PASSWORD}\n" for name, path in keys.items())
    out = subprocess.run([str(program)], input=jobs, capture_output=True, text=True, check=True).stdout
    real = {name: int(ret) == 0 for name, ret in (row.split("\t") for row in out.splitlines())}
    predicted = {}
    for name, path in keys.items():
        needs, problems = verdicts.key_verdict(_key(path), kb)
        predicted[name] = not problems and all(n.option in enabled for n in needs if n.value is None)
    print(f"mbedTLS {tree.version} without {option}: {sum(real.values())}/{len(keys)} keys load, "
          f"as key_needs predicts for {sum(real[n] == predicted[n] for n in keys)}")
    assert real == predicted
