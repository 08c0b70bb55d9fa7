"""The zoo (issue 15): real TLS servers from Debian packages × certificate and server shapes.

Each case is one server implementation serving one shape, the project profile a user would
write for it, and what SHOULD happen on each mbedTLS line, decided by what is right for the
user (issue 15), not by what configgen does today:

- "ok": configgen writes a header, and a client built with it completes a handshake and one
  application-data round trip with the server;
- "refuse: A & B": configgen writes nothing and its message (where, message and hint) names
  the reason: it contains every part (case-insensitive, thousands separators ignored).

Certificates are made at test time (tests/pki.py `issue()`), never committed. tests/test_zoo.py
runs the matrix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization

import zoo_servers as zs
from e2e_scenarios import TINY_BOARD, profile_toml
from pki import Issued, issue
from zoo_servers import HTTP_REQUEST, ServerFiles

KEY_PASSWORD = "zoo-secret"
NOW = dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Shape:
    """The certificates of a case: what the server sends, what the device trusts, and the
    device's own certificate and key (as the device stores the key)."""

    sent: tuple[Issued, ...]  # leaf first
    anchors: tuple[Issued, ...]
    client: Issued | None = None
    client_key: bytes | None = None  # PEM as stored; None: the client's key, unencrypted PKCS#8
    client_key_name: str = "device.key"


@dataclass(frozen=True)
class Files:
    """A case's files on disk."""

    server: ServerFiles
    ca: Path
    client_cert: Path | None
    client_key: Path | None


Server = Callable[[ServerFiles, Path], AbstractContextManager[int]]


@dataclass(frozen=True)
class Case:
    name: str
    what: str  # the shape, and the issue-15 class it exercises
    server: Server
    shape: Callable[[], Shape]
    expect: dict[str, str]  # line -> "ok" | "refuse: part & part"
    policy: str = ""  # extra [policy] lines
    board: str = "linux-host"  # a profile name, or "tiny" (24 KiB heap, written by the test)
    app_record_max: int | None = 1024
    host: str = "127.0.0.1"
    sni: str | None = "localhost"
    client_args: tuple[str, ...] = ()  # for configgen/data/client.c
    key_password: str | None = None  # the device key's (CONFIGGEN_KEY_PASSWORD for configgen and the client)

    def write(self, work: Path) -> Files:
        """The case's certificates and keys, in `work`."""
        shape = self.shape()
        work.mkdir(parents=True, exist_ok=True)
        leaf, *intermediates = shape.sent

        def put(name: str, data: bytes) -> Path:
            (work / name).write_bytes(data)
            return work / name

        server = ServerFiles(
            leaf=put("leaf.pem", leaf.pem()),
            chain=put("chain.pem", b"".join(c.pem() for c in shape.sent)),
            intermediates=(put("intermediates.pem", b"".join(c.pem() for c in intermediates))
                           if intermediates else None),
            key=put("key.pem", pem_key(leaf.key)),
            client_ca=put("ca.pem", b"".join(a.pem() for a in shape.anchors)),
        )
        cert = key = None
        if shape.client:
            cert = put("device.pem", shape.client.pem())
            key = put(shape.client_key_name, shape.client_key or pem_key(shape.client.key))
        return Files(server, server.client_ca, cert, key)

    def profile_text(self, files: Files, port: int, line: str, work: Path) -> str:
        """The project profile a user would write (paths relative to it, in `work`)."""
        if self.board == "tiny":
            (work / "tiny.toml").write_text(TINY_BOARD)
        client = files.client_cert and files.client_key and (files.client_cert.relative_to(work),
                                                             files.client_key.relative_to(work))
        return profile_toml(line, port, files.ca.relative_to(work), host=self.host, sni=self.sni,
                            board="tiny.toml" if self.board == "tiny" else self.board,
                            app_record_max=self.app_record_max, client=client or None, policy=self.policy)


def pem_key(private, password: str | None = None, pkcs8: bool = True) -> bytes:
    """A private key as PEM: PKCS#8, or OpenSSL's traditional format; encrypted with
    `password` (PKCS#8: PBES2 AES-256-CBC; traditional: DEK-Info AES-256-CBC)."""
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    formats = serialization.PrivateFormat
    form = formats.PKCS8 if pkcs8 else formats.TraditionalOpenSSL
    return private.private_bytes(serialization.Encoding.PEM, form, encryption)


def parts(expectation: str) -> tuple[str, ...]:
    """The parts a refusal must name ("refuse: A & B" -> ("A", "B"))."""
    return tuple(p.strip() for p in expectation.removeprefix("refuse:").split("&"))


def names(message: str, expectation: str) -> bool:
    """Whether a refusal's text names every part the expectation asks for."""
    def fold(text: str) -> str:
        return text.replace(",", "").casefold()
    return all(fold(p) in fold(message) for p in parts(expectation))


# --- shapes --------------------------------------------------------------------------------


@cache
def _root(kind: str = "rsa2048", sig=hashes.SHA256) -> Issued:
    return issue(f"Zoo Root {kind}", f"{kind}-root", None, NOW, ca=True, sig_hash=sig,
                 valid=(-3650, 3650))


def _leaf(kind: str, issuer: Issued, sig=hashes.SHA256, **extra) -> Issued:
    extra.setdefault("san", ("localhost",))
    return issue("localhost", f"{kind}-leaf", issuer, NOW, sig_hash=sig, **extra)


def _inter(kind: str, issuer: Issued, sig=hashes.SHA256, pss: bool = False) -> Issued:
    return issue(f"Zoo Intermediate {kind}", f"{kind}-inter", issuer, NOW, ca=True, pathlen=0,
                 sig_hash=sig, pss=pss)


def _client(kind: str, root: Issued) -> Issued:
    return issue("device-0001", f"{kind}-device", root, NOW)


def direct(kind: str, root: str = "rsa2048", **extra) -> Callable[[], Shape]:
    """A root and a `kind` leaf it signs; the server sends the leaf."""
    return lambda: Shape((_leaf(kind, _root(root), **extra),), (_root(root),))


def through(root: str, inter: str, leaf: str, sig=hashes.SHA256, send_intermediate: bool = True
            ) -> Callable[[], Shape]:
    """root -> intermediate -> leaf, each signed with `sig`; the server sends leaf and
    intermediate (or, without `send_intermediate`, the leaf alone)."""
    def make() -> Shape:
        anchor = _root(root, sig)
        middle = _inter(inter, anchor, sig)
        end = _leaf(leaf, middle, sig)
        sent = (end, middle) if send_intermediate else (end,)
        return Shape(sent, (anchor,))
    return make


def with_client(kind: str, key: Callable[[Issued], bytes] | None = None,
                key_name: str = "device.key", server_kind: str = "p256") -> Callable[[], Shape]:
    """A `server_kind` leaf under an RSA root, and a device certificate with a `kind` key
    from the same root, its key stored as `key` makes it."""
    def make() -> Shape:
        root = _root()
        device = _client(kind, root)
        stored = key(device) if key else None
        return Shape((_leaf(server_kind, root),), (root,), device, stored, key_name)
    return make


def pss_chain() -> Shape:
    root = _root()
    middle = _inter("rsa2048-pss", root, pss=True)
    leaf = issue("localhost", "rsa2048-pss-leaf", middle, NOW, san=("localhost",), pss=True)
    return Shape((leaf, middle), (root,))


def mixed_rsa_over_ec() -> Shape:
    """An RSA root signing an ECDSA intermediate signing an EC leaf (issue 15 class 3)."""
    root = _root()
    middle = _inter("p256", root)
    return Shape((_leaf("p256-mixed", middle), middle), (root,))


def sha1_intermediate() -> Shape:
    root = _root()
    middle = _inter("rsa2048-sha1", root, sig=hashes.SHA1)
    return Shape((_leaf("p256", middle), middle), (root,))


def many_sans(count: int, pattern: str) -> Callable[[], Shape]:
    """An EC leaf with `count` DNS names (the one the device uses last)."""
    names = tuple(pattern.format(i) for i in range(count - 1)) + ("localhost",)
    return lambda: Shape((_leaf("p256-sans", _root("p256"), san=names),), (_root("p256"),))


def mismatched_key() -> Shape:
    """The device's certificate with another key's file beside it."""
    root = _root()
    other = issue("device-other", "p256-other-device", root, NOW)
    return Shape((_leaf("p256", root),), (root,), _client("p256", root), pem_key(other.key),
                 "device-other.key")


# --- servers -------------------------------------------------------------------------------


def openssl(*args: str) -> Server:
    return lambda files, work: zs.openssl(files, *args)


def openssl_client_auth(*args: str) -> Server:
    return lambda files, work: zs.openssl(files, "-tls1_2", "-Verify", "1", "-CAfile",
                                          str(files.client_ca), *args)


def nginx(**options) -> Server:
    return lambda files, work: zs.nginx(files, work, **options)


def lighttpd(**conf_cmds: str) -> Server:
    return lambda files, work: zs.lighttpd(files, work, conf_cmds)


def gnutls(*args: str, client_auth: str = "none") -> Server:
    return lambda files, work: zs.gnutls(files, *args, client_auth=client_auth)


def go(*args: str) -> Server:
    return lambda files, work: zs.go(files, *args)


def stunnel(**options: str) -> Server:
    return lambda files, work: zs.stunnel(files, work, options)


def mosquitto(require_certificate: bool) -> Server:
    return lambda files, work: zs.mosquitto(files, work, require_certificate)


OK = {"2.28": "ok", "3.6": "ok"}
TLS13_ONLY = {"2.28": "refuse: mbedTLS 2.28 speaks 1.2", "3.6": "ok"}
HTTP = ("--send", HTTP_REQUEST)
MQTT = ("--mqtt", "1")
TLS12_GNUTLS = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
CBC_ONLY = "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA"


def both(refusal: str) -> dict[str, str]:
    return {"2.28": f"refuse: {refusal}", "3.6": f"refuse: {refusal}"}


CASES = (
    # RSA sizes
    Case("openssl-rsa2048", "RSA-2048 leaf, TLS 1.2 and 1.3", openssl(), direct("rsa2048"), OK),
    Case("nginx-rsa3072", "RSA-3072 leaf under an RSA-2048 intermediate", nginx(),
         through("rsa2048", "rsa2048", "rsa3072"), OK, client_args=HTTP),
    Case("lighttpd-rsa4096", "RSA-4096 root and leaf", lighttpd(),
         direct("rsa4096", root="rsa4096"), OK, client_args=HTTP),
    Case("openssl-rsa8192-dhe", "RSA-8192 leaf, DHE: an 8192-bit group, a 1,030-byte "
         "ClientKeyExchange (class 2: what the device sends)",
         openssl("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"), direct("rsa8192"), OK),
    # PSA's 4096-bit cap (MBEDTLS-FACTS 0.8) does not bite here: without
    # MBEDTLS_USE_PSA_CRYPTO, 3.6.6 verifies the RSA-8192 CertificateVerify with its legacy
    # RSA code, and its default configuration completes this handshake.
    Case("openssl-rsa8192-tls13", "RSA-8192 leaf, TLS 1.3 only (RSA-PSS CertificateVerify, "
         "class 4)",
         openssl("-tls1_3"), direct("rsa8192"), TLS13_ONLY),
    # curves and chains
    Case("go-p384-tls13", "P-384 chain signed with SHA-384; Go, TLS 1.3 only",
         go("-min", "1.3"), through("p384", "p384", "p384", hashes.SHA384), TLS13_ONLY),
    # Go picks a group the client sent a key share for when it can, so only a server that
    # refuses the client's first group asks again: mbedTLS key-shares its first enabled group
    # (X25519 by default; secp256r1 when the P-256 certificate brings that curve alone).
    Case("go-tls13-hrr", "P-256 chain; Go, TLS 1.3 only, ECDHE on P-384 only: a "
         "HelloRetryRequest to a client key-sharing X25519 or P-256 first",
         go("-min", "1.3", "-curves", "P384"), through("p256", "p256", "p256"), TLS13_ONLY),
    Case("stunnel-p521", "P-521 chain signed with SHA-512", stunnel(),
         through("p521", "p521", "p521", hashes.SHA512), OK),
    Case("go-p256-tls12", "P-256 chain, Go, TLS 1.2 only", go("-max", "1.2"),
         through("p256", "p256", "p256"), OK),
    Case("openssl-rsa-root-ec-chain", "RSA root signs an ECDSA intermediate signs an EC leaf "
         "(class 3: each link's signature)", openssl("-tls1_2"), mixed_rsa_over_ec, OK),
    Case("nginx-ec-root-rsa-leaf", "EC P-256 root signs an RSA-2048 leaf", nginx(),
         direct("rsa2048", root="p256"), OK, client_args=HTTP),
    Case("lighttpd-sha512-chain", "RSA chain signed with SHA-512", lighttpd(),
         through("rsa2048", "rsa2048", "rsa2048", hashes.SHA512), OK, client_args=HTTP),
    Case("openssl-pss-chain", "intermediate and leaf signed RSASSA-PSS, TLS 1.2 (class 4)",
         openssl("-tls1_2"), pss_chain, OK),
    Case("openssl-1000-sans", "EC leaf with 1,000 DNS names (a 12 KB Certificate message)",
         openssl(), many_sans(1000, "s{}.example"), OK),
    Case("openssl-25k-certificate", "a Certificate message of about 25 KB: over any input "
         "buffer mbedTLS allows (class 6)", openssl(),
         many_sans(750, "hostname-{:04}.zoo.example.com"),
         both("16384")),
    Case("openssl-missing-intermediate", "the server sends its leaf without the intermediate",
         openssl(), through("rsa2048", "rsa2048", "p256", send_intermediate=False),
         both("intermediate")),
    Case("openssl-expired", "expired leaf", openssl(),
         lambda: Shape((_leaf("p256-expired", _root(), valid=(-900, -400)),), (_root(),)),
         both("expired")),
    Case("openssl-wrong-name", "leaf for other.example; the device connects to localhost",
         openssl(), direct("p256", san=("other.example",)), both("other.example & localhost")),
    # suites and versions
    Case("openssl-dhe-only", "DHE-RSA only, TLS 1.2",
         openssl("-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"),
         direct("rsa2048"), OK),
    Case("gnutls-chacha20-only", "ChaCha20-Poly1305 only, TLS 1.2 and 1.3",
         gnutls("--priority", "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305"),
         through("p256", "p256", "p256"), OK),
    Case("openssl-tls13-rsa", "TLS 1.3 only, RSA server certificate: CertificateVerify is "
         "RSA-PSS (class 4)", openssl("-tls1_3"), direct("rsa2048"), TLS13_ONLY),
    Case("lighttpd-cbc-only", "CBC suites only, the policy does not allow CBC",
         lighttpd(MaxProtocol="TLSv1.2", CipherString=CBC_ONLY),
         direct("rsa2048"), both("allow_cbc"), client_args=HTTP),
    Case("lighttpd-cbc-allowed", "CBC suites only, allow_cbc = true",
         lighttpd(MaxProtocol="TLSv1.2", CipherString=CBC_ONLY),
         direct("rsa2048"), OK, policy="allow_cbc = true\n", client_args=HTTP),
    Case("nginx-sni-required", "nginx's default server rejects handshakes without SNI "
         "localhost; the profile names host localhost, no sni",
         nginx(sni_required=True), direct("p256"), OK, host="localhost", sni=None,
         client_args=HTTP),
    # the device's own certificate
    Case("openssl-client-rsa", "client certificate required, RSA-2048 device key",
         openssl_client_auth(), with_client("rsa2048"), OK),
    Case("mosquitto-client-ec", "mosquitto, require_certificate true, EC P-256 device key",
         mosquitto(True), with_client("p256"), OK, client_args=MQTT),
    Case("gnutls-client-requested", "gnutls-serv's default: a CertificateRequest, an empty "
         "Certificate accepted; the profile names no client certificate (class 1)",
         gnutls(client_auth="request"), through("rsa2048", "rsa2048", "rsa2048"), OK),
    Case("openssl-client-requested", "s_server -verify 1: a CertificateRequest, an empty "
         "Certificate accepted; the profile names no client certificate (class 1)",
         lambda files, work: zs.openssl(files, "-verify", "1", "-CAfile", str(files.client_ca)),
         direct("rsa2048"), OK),
    # mosquitto 2.0 with require_certificate false sends no CertificateRequest at all
    # (seen with openssl s_client -msg): the broker must not make configgen ask for one.
    Case("mosquitto-no-client-cert", "mosquitto with a cafile and require_certificate false; "
         "no client certificate in the profile", mosquitto(False), direct("p256"), OK,
         client_args=MQTT),
    Case("stunnel-client-ec", "stunnel, verifyChain: client certificate required, EC P-384 "
         "device key",
         lambda files, work: zs.stunnel(files, work, {"verifyChain": "yes",
                                                     "CAfile": str(files.client_ca)}),
         with_client("p384", server_kind="rsa2048"), OK),
    Case("openssl-client-key-mismatch", "the device's key does not match its certificate (class 7)",
         openssl_client_auth(), mismatched_key, both("device.pem & device-other.key")),
    # The password is the device's, never the profile's: configgen and its test client read
    # it from CONFIGGEN_KEY_PASSWORD.
    Case("openssl-client-key-encrypted-pem", "the device key is PEM-encrypted (DEK-Info "
         "AES-256-CBC), the device holds the password (class 7)", openssl_client_auth(),
         with_client("rsa2048", lambda d: pem_key(d.key, KEY_PASSWORD, pkcs8=False)), OK,
         key_password=KEY_PASSWORD),
    Case("openssl-client-key-encrypted-pkcs8", "the device key is PKCS#8 PBES2 AES-256-CBC "
         "(2.28 decrypts PBES2 only with DES/3DES) (class 7)", openssl_client_auth(),
         with_client("p256", lambda d: pem_key(d.key, KEY_PASSWORD)),
         {"2.28": "refuse: encrypted & AES", "3.6": "ok"},
         key_password=KEY_PASSWORD),
    # what mbedTLS cannot do
    Case("openssl-ed25519", "Ed25519 root and server certificate (class 5)", openssl(),
         direct("ed25519", root="ed25519"), both("Ed25519 & ECDSA")),
    Case("openssl-ed448", "Ed448 root and server certificate (class 5)", openssl(),
         direct("ed448", root="ed448"), both("Ed448 & ECDSA")),
    # SECLEVEL=0: OpenSSL refuses to serve a SHA-1-signed chain otherwise ("ca md too weak").
    Case("openssl-sha1-intermediate", "an intermediate signed with SHA-1, allow_sha1 = true: "
         "no option helps, only code (class 5)",
         openssl("-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0"), sha1_intermediate,
         OK, policy="allow_sha1 = true\n"),  # the header's banner says to pass a profile in code; the client does
    # Class 10: GnuTLS grants max_fragment_length to a TLS 1.2 mbedTLS client (asked without
    # record_size_limit, as mbedTLS asks), so configgen sizes this small-heap board's input
    # buffer to the MFL. But gnutls-serv 3.7.9 then echoes 16,000 bytes in one 16,024-byte
    # record, ignoring the length it granted: no client-side setting can know that (README,
    # "Known limits"), so the round trip here is a short message.
    Case("gnutls-small-heap-mfl", "GnuTLS, TLS 1.2, grants max_fragment_length to a 24 KiB-heap "
         "board (class 10)", gnutls("--priority", TLS12_GNUTLS), through("p256", "p256", "p256"), OK,
         board="tiny", app_record_max=None),
)
