"""End-to-end scenarios: a real server on 127.0.0.1, the user's files, a board and a policy.

Used by tests/test_e2e.py (handshakes with the generated header and with mbedTLS's default
configuration) and by bench/e2e_footprint.py (size and heap). Each scenario starts its own
server; `profile_text` is the project profile a user would write for it (no snapshot: the
server is probed live).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pki import PRIVATE_POLICY_OID, issue
from probe_servers import LOOPBACK, Pki, free_port, make_pki, mosquitto_server, process_server

CERTS = Path(__file__).parent / "data" / "certs"
TINY_BOARD = """name = "tiny"
description = "a board with little heap for TLS, for tests"
mbedtls = ["3.6", "2.28"]
heap_kib = 24
entropy = "hardware"
time = "none"
network = "sdk"
filesystem = false
accelerated = []

[platform.enable]
"""


def openssl(*args: str, cwd: Path = CERTS) -> Callable[[Path], ContextManager[int]]:
    """A reversing-echo `openssl s_server` with these arguments (certificate paths relative
    to `cwd`)."""

    def start(work: Path) -> ContextManager[int]:
        port = free_port()
        argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-rev", "-quiet", *args]
        return process_server(argv, port, cwd=cwd)

    return start


# What the device's application exchanges in most scenarios: one short line, which the
# reversing echo sends back, or an MQTT CONNECT and its 4-byte CONNACK.
SMALL_MESSAGES = 1024


@dataclass(frozen=True)
class Files:
    ca: Path
    client_cert: Path | None = None
    client_key: Path | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    board: str  # a profile name, or "tiny" (written by the test)
    server: Callable[[Path], ContextManager[int]]
    files: Callable[[Path], Files]
    policy: str = ""  # extra [policy] lines
    # The largest message the device's application receives, as its developer tells the
    # wizard ([server].app_record_max); None: unknown, so a full 16 KiB TLS record.
    app_record_max: int | None = SMALL_MESSAGES
    client_args: tuple[str, ...] = ()
    stops: dict[str, str] = field(default_factory=dict)  # line -> what configgen says instead

    def profile_text(self, work: Path, port: int, line: str) -> str:
        files = self.files(work)
        if self.board == "tiny":
            (work / "tiny.toml").write_text(TINY_BOARD)
        return profile_toml(line, port, files.ca, board=work / "tiny.toml" if self.board == "tiny" else self.board,
                            app_record_max=self.app_record_max, policy=self.policy,
                            client=(files.client_cert, files.client_key) if files.client_cert else None)


def profile_toml(line: str, port: int, ca: object, *, board: object = "linux-host", host: str = LOOPBACK,
                 sni: str | None = "localhost", app_record_max: int | None = SMALL_MESSAGES,
                 client: tuple[object, object] | None = None, policy: str = "") -> str:
    """The project profile a user would write for one server (paths as given: absolute, or
    relative to where the profile is written)."""
    text = f'board = "{board}"\nmbedtls = "{line}"\n\n[[server]]\nhost = "{host}"\nport = {port}\n'
    if sni:
        text += f'sni = "{sni}"\n'
    if app_record_max:
        text += f"app_record_max = {app_record_max}\n"
    text += f'\n[trust]\nca = ["{ca}"]\n\n'
    if client:
        text += f'[client]\ncert = "{client[0]}"\nkey = "{client[1]}"\n\n'
    return text + "[policy]\n" + policy


def _committed(ca: str, cert: str | None = None, key: str | None = None) -> Callable[[Path], Files]:
    return lambda work: Files(CERTS / ca, cert and CERTS / cert, key and CERTS / key)


_EC_PKIS: dict[Path, Pki] = {}


def _ec(work: Path) -> Pki:
    """One EC PKI per work folder, shared by the scenario's server and files."""
    if work not in _EC_PKIS:
        _EC_PKIS[work] = make_pki(work / "pki", "ec")
    return _EC_PKIS[work]


def _ec_pki(work: Path) -> Files:
    pki = _ec(work)
    return Files(pki.ca, pki.client_cert, pki.client_key)


def _mosquitto(work: Path) -> ContextManager[int]:
    return mosquitto_server(_ec(work), work / "mosquitto")


def _policy_pki(work: Path) -> Files:
    """A root and a leaf carrying a critical certificatePolicies with a private OID."""
    folder = work / "policy"
    if not (folder / "ca.pem").is_file():
        now = dt.datetime.now(dt.timezone.utc)
        root = issue("Policy Root", "p256", None, now, ca=True)
        policies = x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier(PRIVATE_POLICY_OID), None)])
        leaf = issue("localhost", "p256", root, now, san=("localhost",), extra=((policies, True),))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.pem").write_bytes(root.pem())
        (folder / "cert.pem").write_bytes(leaf.pem())
        (folder / "key.pem").write_bytes(leaf.key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return Files(folder / "ca.pem")


def _policy_server(work: Path) -> ContextManager[int]:
    _policy_pki(work)
    return openssl("-cert", "policy/cert.pem", "-key", "policy/key.pem", "-tls1_2", cwd=work)(work)


SCENARIOS = (
    Scenario("wrong-ca", "the user's CA does not sign the server's chain", "linux-host",
             openssl("-cert", "rsa2048-server.pem", "-key", "rsa2048-server.key", "-tls1_2"),
             _committed("p256-root.pem"),
             stops={"2.28": "does not verify against the trust anchors",
                    "3.6": "does not verify against the trust anchors"}),
    Scenario("sha1-root-rsa4096-4k-chain", "TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 only, SHA-1 root, RSA-4096, chain over 4 KiB", "pico-w",
             openssl("-cert", "rsa4096-server.pem", "-cert_chain", "rsa4096-intermediate.pem",
                     "-key", "rsa4096-server.key", "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"),
             _committed("sha1-rsa4096-root.pem")),
    Scenario("ccm8-client-auth", "ECDHE-ECDSA-AES128-CCM8 only, client certificate required", "pico-w",
             openssl("-cert", "p256-server.pem", "-key", "p256-server.key", "-tls1_2",
                     "-cipher", "ECDHE-ECDSA-AES128-CCM8", "-Verify", "1", "-CAfile", "p256-root.pem"),
             _committed("p256-root.pem", "p256-device.pem", "p256-device.key")),
    Scenario("mosquitto-ec-client", "mosquitto broker, EC P-256 client key, client auth required", "linux-host",
             _mosquitto, _ec_pki, client_args=("--mqtt", "1")),
    Scenario("critical-policies", "server certificate with a critical certificatePolicies (private OID)", "linux-host",
             _policy_server, _policy_pki, policy="allow_unsupported_critical_extensions = true\n",
             stops={"3.6": "no configuration of mbedTLS 3.6 accepts this certificate"}),
    Scenario("tls13-only", "a TLS 1.3-only server", "linux-host",
             openssl("-cert", "p256-server.pem", "-key", "p256-server.key", "-tls1_3"),
             _committed("p256-root.pem"), stops={"2.28": "mbedTLS 2.28 speaks 1.2"}),
    Scenario("16k-records", "the server answers with 16 KiB records; a board with room", "linux-host",
             openssl("-cert", "p256-server.pem", "-key", "p256-server.key", "-tls1_2"),
             _committed("p256-root.pem"), client_args=("--send-size", "16000"), app_record_max=None),
    Scenario("16k-records-small-heap-mfl", "the same server and records on a 24 KiB-heap board: max_fragment_length", "tiny",
             openssl("-cert", "p256-server.pem", "-key", "p256-server.key", "-tls1_2"),
             _committed("p256-root.pem"), client_args=("--send-size", "16000"), app_record_max=None),
)


@contextlib.contextmanager
def running(scenario: Scenario, work: Path):
    """The scenario's server, listening; yields its port."""
    work.mkdir(parents=True, exist_ok=True)
    with scenario.server(work) as port:
        yield port


@dataclass(frozen=True)
class Run:
    """A scenario's server listening, with what the device needs to talk to it."""

    port: int
    files: Files
    profile: Path  # the project profile a user would write (the server is probed live)
    client_args: tuple[str, ...]  # for configgen/data/client.c, besides HOST PORT CA


@contextlib.contextmanager
def started(scenario: Scenario, line: str, work: Path):
    """Start the scenario's server and write its project profile for `line`."""
    with running(scenario, work) as port:
        files = scenario.files(work)
        profile = work / "tls.toml"
        profile.write_text(scenario.profile_text(work, port, line))
        args = ["--name", "localhost", *scenario.client_args]
        if files.client_cert:
            args += ["--cert", str(files.client_cert), "--key", str(files.client_key)]
        yield Run(port, files, profile, tuple(args))
