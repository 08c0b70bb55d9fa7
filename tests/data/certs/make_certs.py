"""Make the committed test certificates of tests/data/certs (see README.md here).

    python tests/data/certs/make_certs.py

Keys are random, so running it again gives other files: the golden headers name their
inputs' SHA-256 and must then be updated (pytest --update-golden) and the snapshots
re-recorded (tests/golden/README.md). Validity runs 2025-01-01 to 2045-01-01.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).parent
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
END = dt.datetime(2045, 1, 1, tzinfo=dt.timezone.utc)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "configgen test data"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _cert(subject, key, issuer, issuer_key, hash_, ca, san=None, policies=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(END)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(p), None) for p in policies]),
            critical=True,
        )
    return builder.sign(issuer_key, hash_)


def _sha1_root(subject: str, key) -> x509.Certificate:
    """A root self-signed with sha1WithRSAEncryption: cryptography refuses to sign with SHA-1,
    so the openssl command does it (valid from today for 20 years)."""
    with tempfile.TemporaryDirectory() as work:
        key_file = Path(work) / "key.pem"
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        subprocess.run(
            ["openssl", "req", "-x509", "-new", "-key", str(key_file), "-sha1", "-days", "7300",
             "-subj", f"/O=configgen test data/CN={subject}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-out", str(Path(work) / "root.pem")],
            check=True, capture_output=True,
        )
        return x509.load_pem_x509_certificate((Path(work) / "root.pem").read_bytes())


def _write(name: str, *items) -> None:
    pem = b"".join(
        i.public_bytes(serialization.Encoding.PEM) if isinstance(i, x509.Certificate)
        else i.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
        for i in items
    )
    (HERE / name).write_bytes(pem)


def main() -> None:
    # RSA-2048 root and leaf, SHA-256: the ordinary case.
    root_key = rsa.generate_private_key(65537, 2048)
    root = _cert("RSA-2048 Root", root_key, "RSA-2048 Root", root_key, hashes.SHA256(), True)
    leaf_key = rsa.generate_private_key(65537, 2048)
    leaf = _cert("localhost", leaf_key, "RSA-2048 Root", root_key, hashes.SHA256(), False, ["localhost"])
    _write("rsa2048-root.pem", root)
    _write("rsa2048-server.pem", leaf)
    _write("rsa2048-server.key", leaf_key)

    # A root self-signed with SHA-1, RSA-4096 keys, and a chain larger than 4 KiB.
    old_key = rsa.generate_private_key(65537, 4096)
    old_root = _sha1_root("SHA-1 RSA-4096 Root", old_key)
    mid_key = rsa.generate_private_key(65537, 4096)
    mid = _cert("RSA-4096 Intermediate", mid_key, "SHA-1 RSA-4096 Root", old_key, hashes.SHA256(), True)
    big_key = rsa.generate_private_key(65537, 4096)
    names = ["localhost"] + [f"host{i:03d}.devices.example.com" for i in range(60)]
    big = _cert("localhost", big_key, "RSA-4096 Intermediate", mid_key, hashes.SHA256(), False, names)
    _write("sha1-rsa4096-root.pem", old_root)
    _write("rsa4096-server.pem", big)
    _write("rsa4096-intermediate.pem", mid)
    _write("rsa4096-server.key", big_key)

    # EC P-256 everything: server chain and a device (client) certificate.
    ec_root_key = ec.generate_private_key(ec.SECP256R1())
    ec_root = _cert("P-256 Root", ec_root_key, "P-256 Root", ec_root_key, hashes.SHA256(), True)
    ec_leaf_key = ec.generate_private_key(ec.SECP256R1())
    ec_leaf = _cert("localhost", ec_leaf_key, "P-256 Root", ec_root_key, hashes.SHA256(), False, ["localhost"])
    device_key = ec.generate_private_key(ec.SECP256R1())
    device = _cert("device-0001", device_key, "P-256 Root", ec_root_key, hashes.SHA256(), False)
    _write("p256-root.pem", ec_root)
    _write("p256-server.pem", ec_leaf)
    _write("p256-server.key", ec_leaf_key)
    _write("p256-device.pem", device)
    _write("p256-device.key", device_key)


if __name__ == "__main__":
    main()
