"""A test PKI generated at test time with cryptography, and the real-mbedTLS harness.

Nothing here is committed as data: every certificate is made by the tests into a tmp dir.
`scenarios(now)` builds the named cases of issue 6; `MbedtlsJudge` compiles
tests/harness/parse_verify.c against a built library and runs many cases in one process.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from configgen import mbedbuild
from configgen.sources import SourceTree

HARNESS = Path(__file__).parent / "harness" / "parse_verify.c"
UNKNOWN_EXTENSION_OID = "1.3.6.1.4.1.55555.1.2"
PRIVATE_POLICY_OID = "1.3.6.1.4.1.55555.1.1"


# --- configuration headers ------------------------------------------------------------------


def config_without(tree: SourceTree, names: tuple[str, ...] | list[str], values: dict[str, str] | None = None) -> str:
    """The default header of the tree with `names` commented out and `values` set; options
    that check_config.h then rejects ("X defined, but not all prerequisites", "X requires")
    go too."""
    text = tree.config_header.read_text()
    for name, value in (values or {}).items():
        text, count = re.subn(rf"^\s*(//)?\s*#define {name}\b.*$", f"#define {name} {value}", text, flags=re.MULTILINE)
        assert count, f"{name} is not in {tree.config_header.name}"
    pending = list(names)
    for _ in range(20):
        for name in pending:
            text, count = re.subn(rf"^(\s*)#define {name}\b", rf"\1//#define {name}", text, flags=re.MULTILINE)
            assert count, f"{name} is not enabled in the default {tree.config_header.name}"
        try:
            mbedbuild.check_config(tree, text)
            return text
        except mbedbuild.BuildError as error:
            pending = sorted(set(re.findall(r'#error "(MBEDTLS_\w+) (?:defined, but not all prerequisites|requires)',
                                            error.output)))
            if not pending:
                raise
    raise AssertionError("removing options did not settle")


# --- keys and certificates ------------------------------------------------------------------


@cache
def key(kind: str):
    """A private key, cached per kind for the session (RSA-8192 takes seconds)."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, int(kind[3:].split("-")[0]))
    if kind.startswith("ed25519"):
        return ed25519.Ed25519PrivateKey.generate()
    if kind.startswith("ed448"):
        return ed448.Ed448PrivateKey.generate()
    curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1(),
              "bp256": ec.BrainpoolP256R1(), "k256": ec.SECP256K1()}
    return ec.generate_private_key(curves[kind.split("-")[0]])


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "configgen tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Issued:
    cert: x509.Certificate
    key: object

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def issue(
    cn: str,
    key_kind: str,
    issuer: Issued | None,
    now: dt.datetime,
    *,
    ca: bool | None = False,
    pathlen: int | None = None,
    sig_hash=hashes.SHA256,
    pss: bool = False,
    valid: tuple[int, int] = (-365, 365),
    san: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    key_usage: bool = True,
) -> Issued:
    """A certificate for `cn` with a key of `key_kind`, signed by `issuer` (None: self)."""
    private = key(key_kind)
    signer = issuer.key if issuer else private
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer.cert.subject if issuer and sig_hash is not hashes.SHA1 else name(cn))
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=valid[0]))
        .not_valid_after(now + dt.timedelta(days=valid[1]))
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None), critical=True)
    if key_usage:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=bool(ca),
                          crl_sign=bool(ca), encipher_only=False, decipher_only=False),
            critical=True,
        )
    if san or ips:
        names = [x509.DNSName(s) for s in san] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    if sig_hash is hashes.SHA1:  # cryptography refuses to sign with SHA-1: the openssl CLI does it
        return Issued(_openssl_sha1(builder.sign(private, hashes.SHA256()), private, issuer), private)
    if isinstance(signer, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        cert = builder.sign(signer, None)
    elif pss:
        cert = builder.sign(signer, sig_hash(), rsa_padding=padding.PSS(padding.MGF1(sig_hash()), sig_hash.digest_size))
    else:
        cert = builder.sign(signer, sig_hash())
    return Issued(cert, private)


def _pem_key(private) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def _openssl_sha1(cert: x509.Certificate, private, issuer: Issued | None) -> x509.Certificate:
    """`cert` (self-signed) re-signed with sha1WithRSAEncryption by `issuer` (itself when
    None), keeping its dates, serial and extensions."""
    with tempfile.TemporaryDirectory() as work:
        w = Path(work)
        (w / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (w / "key.pem").write_bytes(_pem_key(private))
        if issuer is None:
            signer = ["-signkey", "key.pem"]
        else:
            (w / "ca.pem").write_bytes(issuer.pem())
            (w / "ca-key.pem").write_bytes(_pem_key(issuer.key))
            signer = ["-CA", "ca.pem", "-CAkey", "ca-key.pem", "-set_serial", str(cert.serial_number)]
        subprocess.run(["openssl", "x509", "-in", "cert.pem", *signer, "-sha1", "-preserve_dates", "-out", "out.pem"],
                       cwd=work, check=True, capture_output=True)
        return x509.load_pem_x509_certificate((w / "out.pem").read_bytes())


@dataclass
class Scenario:
    """One case: the chain as the server sends it (leaf first), the anchors, the host."""

    name: str
    chain: list[Issued]
    anchors: list[Issued]
    host: str | None = "server.example"
    notes: str = ""
    files: dict[str, Path] = field(default_factory=dict)

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.files["chain"] = directory / f"{self.name}-chain.pem"
        self.files["chain"].write_bytes(b"".join(c.pem() for c in self.chain))
        self.files["ca"] = directory / f"{self.name}-ca.pem"
        self.files["ca"].write_bytes(b"".join(c.pem() for c in self.anchors))


def scenarios(now: dt.datetime) -> list[Scenario]:
    """The generated PKI of issue 6, each case a chain + anchors + host."""
    root = issue("Test Root CA", "rsa2048", None, now, ca=True, valid=(-3650, 3650))
    inter = issue("Test Intermediate CA", "rsa2048-i", root, now, ca=True, pathlen=0)
    leaf = issue("server.example", "p256", inter, now, san=("server.example",))
    cases = [
        Scenario("ok", [leaf, inter], [root]),
        Scenario("host-mismatch", [leaf, inter], [root], host="other.example"),
        Scenario("missing-intermediate", [leaf], [root]),
        Scenario("anchor-is-intermediate", [leaf], [inter]),
    ]
    other_root = issue("Other Root CA", "rsa2048-o", None, now, ca=True)
    cases.append(Scenario("wrong-anchor", [leaf, inter], [other_root]))

    sha1_root = issue("SHA-1 Root CA", "rsa2048-s", None, now, ca=True, sig_hash=hashes.SHA1)
    cases.append(Scenario("sha1-root", [issue("server.example", "p256", sha1_root, now, san=("server.example",))], [sha1_root]))
    sha1_leaf = issue("server.example", "p256", root, now, san=("server.example",), sig_hash=hashes.SHA1)
    cases.append(Scenario("sha1-leaf", [sha1_leaf], [root]))
    for bits in (1024, 2048, 3072, 4096, 8192):
        leaf_rsa = issue("server.example", f"rsa{bits}", root, now, san=("server.example",))
        cases.append(Scenario(f"rsa{bits}", [leaf_rsa], [root]))
    for kind in ("p256", "p384", "p521", "bp256", "k256"):
        ec_root = issue(f"EC Root {kind}", f"{kind}-root", None, now, ca=True,
                        sig_hash=hashes.SHA384 if kind == "p384" else hashes.SHA256)
        ec_leaf = issue("server.example", f"{kind}-leaf", ec_root, now, san=("server.example",),
                        sig_hash=hashes.SHA384 if kind == "p384" else hashes.SHA256)
        cases.append(Scenario(f"ec-{kind}", [ec_leaf], [ec_root]))
    ed_root = issue("Ed25519 Root", "ed25519", None, now, ca=True)
    cases.append(Scenario("ed25519", [issue("server.example", "p256", ed_root, now, san=("server.example",))], [ed_root]))
    cases.append(Scenario("rsa-pss", [issue("server.example", "rsa2048-p", root, now, san=("server.example",), pss=True)], [root]))
    policies = x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(PRIVATE_POLICY_OID), None)])
    cases.append(Scenario("critical-policy", [issue("server.example", "p256", root, now, san=("server.example",),
                                                    extra=((policies, True),))], [root]))
    any_policy = x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)])
    cases.append(Scenario("critical-any-policy", [issue("server.example", "p256", root, now, san=("server.example",),
                                                        extra=((any_policy, True),))], [root]))
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier(UNKNOWN_EXTENSION_OID), b"\x05\x00")
    cases.append(Scenario("unknown-critical", [issue("server.example", "p256", root, now, san=("server.example",),
                                                     extra=((unknown, True),))], [root]))
    cases.append(Scenario("unknown-noncritical", [issue("server.example", "p256", root, now, san=("server.example",),
                                                        extra=((unknown, False),))], [root]))
    cases.append(Scenario("expired", [issue("server.example", "p256", root, now, san=("server.example",), valid=(-900, -400))], [root]))
    cases.append(Scenario("not-yet-valid", [issue("server.example", "p256", root, now, san=("server.example",), valid=(400, 900))], [root]))
    not_ca = issue("Not A CA", "rsa2048-n", root, now, ca=False)
    cases.append(Scenario("ca-false-issuer", [issue("server.example", "p256", not_ca, now, san=("server.example",)), not_ca], [root]))
    cn_only = issue("server.example", "p256", root, now)
    cases.append(Scenario("cn-only", [cn_only], [root]))
    wildcard = issue("wild", "p256", root, now, san=("*.example",))
    cases.append(Scenario("wildcard", [wildcard], [root]))
    ip_only = issue("ip", "p256", root, now, ips=("192.0.2.7",))
    cases.append(Scenario("ip-san", [ip_only], [root], host="192.0.2.7"))
    return cases


# --- the judge: real mbedTLS ----------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    chain_ret: int  # mbedtls_x509_crt_parse_file of the chain (>0: that many failed)
    ca_ret: int
    verify_ret: int | None  # None: not verified (nothing parsed)
    flags: int | None


class MbedtlsJudge:
    """tests/harness/parse_verify.c built against one configuration of one tree."""

    def __init__(self, tree: SourceTree, header: str, workdir: Path):
        self.tree = tree
        library = mbedbuild.build_library(tree, header)
        workdir.mkdir(parents=True, exist_ok=True)
        self.program = mbedbuild.build_program(library, HARNESS, workdir / "parse_verify")

    def run(self, jobs: list[tuple[str, Path, Path | None, str | None]]) -> dict[str, Judged]:
        """jobs: (id, chain or certificate file, anchors file or None, host or None)."""
        lines = "".join(f"{i}\t{chain}\t{ca or '-'}\t{host or '-'}\n" for i, chain, ca, host in jobs)
        out = subprocess.run([str(self.program)], input=lines, capture_output=True, text=True, check=True).stdout
        results = {}
        for row in out.splitlines():
            ident, chain_ret, ca_ret, verify_ret, flags = row.split("\t")
            results[ident] = Judged(
                int(chain_ret), int(ca_ret),
                None if verify_ret == "-" else int(verify_ret),
                None if flags == "-" else int(flags, 16),
            )
        return results
