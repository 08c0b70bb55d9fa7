"""Servers for probe tests, on 127.0.0.1 only: openssl s_server, mbedTLS ssl_server2, nginx,
mosquitto, and hostile servers written here. Certificates are made at test time.

Every server is a context manager yielding its port; it is stopped (and its process reaped)
on exit, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path  # the server's leaf followed by nothing: the chain file is `chain`
    key: Path
    chain: Path  # leaf + CA, what the server sends
    client_cert: Path
    client_key: Path
    ca_subject: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "configgen tests")])


def _key(kind: str):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(subject: x509.Name, key, issuer: x509.Name, issuer_key, ca: bool, sans=()):
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(directory: Path, kind: str = "rsa", name: str = "localhost") -> Pki:
    """A CA, a server certificate for `name` (key `kind`: rsa or ec) and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key(kind)
    ca_name = _name(f"configgen test CA {kind}")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = _key(kind)
    sans = (x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(LOOPBACK)))
    server = _cert(_name(name), server_key, ca_name, ca_key, ca=False, sans=sans)
    client_key = _key(kind)
    client = _cert(_name("device"), client_key, ca_name, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = {n: directory / f"{n}.pem" for n in ("ca", "cert", "key", "chain", "client", "ckey")}
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["cert"].write_bytes(server.public_bytes(pem))
    paths["key"].write_bytes(_pem_key(server_key))
    paths["chain"].write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    paths["client"].write_bytes(client.public_bytes(pem))
    paths["ckey"].write_bytes(_pem_key(client_key))
    return Pki(paths["ca"], paths["cert"], paths["key"], paths["chain"], paths["client"],
               paths["ckey"], ca_name.rfc4514_string())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen | None = None, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {LOOPBACK}:{port} after {timeout} s")


@contextlib.contextmanager
def process_server(argv: list[str], port: int, cwd: Path | None = None,
                   stop: int = signal.SIGTERM) -> Iterator[int]:
    """Run a server process until the block ends; yield its port once it listens."""
    process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        try:
            wait_listening(port, process)
        except RuntimeError as error:
            process.kill()
            _, err = process.communicate(timeout=5)
            raise RuntimeError(f"{argv[0]}: {error}\n{err.decode(errors='replace')}") from None
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def openssl_server(pki: Pki, *args: str, chain: bool = True) -> contextlib.AbstractContextManager[int]:
    """`openssl s_server -www` on 127.0.0.1 with extra arguments (e.g. "-tls1_2", "-cipher", X)."""
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-www",
            "-cert", str(pki.cert), "-key", str(pki.key)]
    if chain:
        argv += ["-cert_chain", str(pki.ca)]
    return process_server(argv + list(args), port)


# gnutls-serv has no listen-address option: it runs in a network namespace of its own, where
# only a loopback interface exists, and a relay on 127.0.0.1 outside forwards into it.
CLONE_NEWNET = 0x40000000


def _enter_netns(pid: int) -> None:
    """Move the calling thread (only it) into the network namespace of process `pid`."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/proc/{pid}/ns/net", "rb") as namespace:
        if libc.setns(namespace.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into the namespace of {pid}")


def _netns_listening(pid: int, port: int, process: subprocess.Popen) -> None:
    """wait_listening, from a thread inside the namespace of `pid` (once it has one: until
    unshare(2) runs, the process is still in ours)."""
    problem: list[BaseException] = []

    def check() -> None:
        try:
            end = time.monotonic() + 15
            while os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net"):
                if time.monotonic() > end or process.poll() is not None:
                    raise RuntimeError("no network namespace of its own")
                time.sleep(0.01)
            _enter_netns(pid)
            wait_listening(port, process)
        except (OSError, RuntimeError) as error:
            problem.append(error)

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    thread.join()
    if problem:
        raise RuntimeError(str(problem[0]))


def can_unshare_net() -> bool:
    return have("unshare") and subprocess.run(["unshare", "--net", "true"],
                                              capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def gnutls_server(pki: Pki, *args: str) -> Iterator[int]:
    """`gnutls-serv` (extra arguments as given, e.g. "--priority", X) reachable on a port of
    127.0.0.1 only: it listens inside a fresh network namespace (`unshare --net`) holding
    nothing but loopback, and every connection to the yielded port is relayed into it."""
    inner = 4433
    argv = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
            "gnutls-serv", "--port", str(inner), "--x509certfile", str(pki.chain),
            "--x509keyfile", str(pki.key), *args]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=log)
        try:
            try:
                _netns_listening(process.pid, inner, process)
            except RuntimeError as error:
                log.seek(0)
                raise RuntimeError(f"gnutls-serv: {error}\n{log.read().decode(errors='replace')}"
                                   ) from None

            def relay(conn: socket.socket) -> None:
                _enter_netns(process.pid)
                forward(conn, inner)

            with hostile_server(relay) as port:
                yield port
        finally:
            process.kill()
            process.wait()


# Hostile servers ---------------------------------------------------------------------------

Behaviour = Callable[[socket.socket], None]


@contextlib.contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that treats every connection with `behaviour`."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(64)
    listener.settimeout(0.1)
    stopping = threading.Event()
    workers: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(30)
            behaviour(conn)

    def accept_loop() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            worker = threading.Thread(target=serve, args=(conn,), daemon=True)
            worker.start()
            workers.append(worker)

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join()
        listener.close()


def read_client_hello(conn: socket.socket) -> bytes:
    """Read one whole ClientHello record (or what arrives before the peer stops)."""
    data = b""
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def hang_until_closed(conn: socket.socket, stop_after: float = 20) -> None:
    conn.settimeout(stop_after)
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def random_bytes(conn: socket.socket) -> None:
    read_client_hello(conn)
    conn.sendall(os.urandom(2000))


def truncated_record(conn: socket.socket) -> None:
    read_client_hello(conn)
    conn.sendall(bytes.fromhex("160303 0100") + b"\x02" + b"\x00" * 40)


def absurd_length(conn: socket.socket) -> None:
    read_client_hello(conn)
    conn.sendall(bytes.fromhex("160303 ffff") + b"\x02" * 64)
    hang_until_closed(conn)


def alert_to_everything(conn: socket.socket) -> None:
    read_client_hello(conn)
    conn.sendall(bytes.fromhex("15030300020228"))


def reset_after_hello(conn: socket.socket) -> None:
    read_client_hello(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def never_answers(conn: socket.socket) -> None:
    hang_until_closed(conn)


def drip(conn: socket.socket) -> None:
    read_client_hello(conn)
    for byte in bytes.fromhex("160303002a020000260303") + bytes(40):
        conn.sendall(bytes([byte]))
        time.sleep(1)


def _first_offered_suite_hello(conn: socket.socket) -> None:
    hello = parse_client_hello(read_client_hello(conn))
    conn.sendall(record(22, server_hello(hello.suites[0] if hello.suites else 0xC02F)))


def hello_request_flood(conn: socket.socket) -> None:
    """A ServerHello, then HelloRequests as fast as the socket takes them."""
    _first_offered_suite_hello(conn)
    requests = record(22, handshake(0, b"")) * 100
    while True:
        conn.sendall(requests)


def hello_request_trickle(conn: socket.socket) -> None:
    """A ServerHello, then a HelloRequest every 50 ms, never ServerHelloDone."""
    _first_offered_suite_hello(conn)
    while True:
        conn.sendall(record(22, handshake(0, b"")))
        time.sleep(0.05)


def suite_never_offered(conn: socket.socket) -> None:
    """A TLS 1.2 ServerHello choosing the lowest suite id the ClientHello did not offer."""
    hello = parse_client_hello(read_client_hello(conn))
    suite = next(s for s in range(1, 0x10000) if s not in hello.suites)
    conn.sendall(flight(server_hello(suite), SERVER_HELLO_DONE))
    hang_until_closed(conn, 5)


def tls13_suite_in_tls12_hello(conn: socket.socket) -> None:
    """A TLS 1.2 ServerHello (no supported_versions) choosing TLS_AES_128_GCM_SHA256."""
    read_client_hello(conn)
    conn.sendall(flight(server_hello(0x1301), SERVER_HELLO_DONE))
    hang_until_closed(conn, 5)


LIES = ("version never offered", "TLS 1.2 suite in a TLS 1.3 ServerHello",
        "TLS 1.3 suite in a TLS 1.2 ServerHello", "key share never sent", "curve never offered",
        "hangs when asked for max_fragment_length")


def lying_server(lie: str) -> Behaviour:
    """A TLS 1.2 server (ECDHE-RSA AES-GCM, curves x25519, secp256r1 and secp384r1, in the
    client's order) that
    tells one lie from LIES; it refuses TLS 1.3 unless the lie is about TLS 1.3."""
    assert lie in LIES

    def behaviour(conn: socket.socket) -> None:
        hello = parse_client_hello(read_client_hello(conn))
        if lie == "hangs when asked for max_fragment_length" and 1 in hello.extensions:
            hang_until_closed(conn)
            return
        if 0x0304 in hello.versions and "TLS 1.3" in lie:
            versions, share = (43, b"\x03\x04"), (51, b"\x00\x1d\x00\x20" + bytes(range(32)))
            if lie == "TLS 1.2 suite in a TLS 1.3 ServerHello":
                conn.sendall(record(22, server_hello(0xC02F, 0x0304, (versions, share))))
            else:
                conn.sendall(flight(server_hello(0x1301), SERVER_HELLO_DONE))
        elif 0x0304 in hello.versions and lie == "key share never sent":
            conn.sendall(record(22, server_hello(0x1301, 0x0304, (
                (43, b"\x03\x04"), (51, b"\x00\x18\x00\x61\x04" + bytes(96))))))
        elif 0x0303 in hello.versions or (lie == "version never offered" and 0x0302 in hello.versions):
            suite = next((s for s in hello.suites if s in (0xC02F, 0xC030)), None)
            curve = next((c for c in hello.groups if c in (29, 23, 24)), None)
            if lie == "curve never offered" and 29 not in hello.groups:
                curve = 0x0042
            if suite is None or curve is None:
                conn.sendall(record(21, b"\x02\x28"))
            else:
                conn.sendall(flight(server_hello(suite), certificate((b"leaf", b"ca")),
                                    ske_ecdhe(curve), SERVER_HELLO_DONE))
        else:
            conn.sendall(record(21, b"\x02\x46"))
        hang_until_closed(conn, 5)

    return behaviour


HOSTILE: dict[str, Behaviour] = {
    "random bytes": random_bytes,
    "truncated record": truncated_record,
    "absurd length": absurd_length,
    "alert to everything": alert_to_everything,
    "reset after ClientHello": reset_after_hello,
    "never answers": never_answers,
    "drips a byte a second": drip,
    "floods HelloRequests": hello_request_flood,
    "trickles HelloRequests": hello_request_trickle,
    "chooses a suite never offered": suite_never_offered,
    "TLS 1.3 suite in a TLS 1.2 ServerHello": tls13_suite_in_tls12_hello,
}


def have(program: str) -> bool:
    return shutil.which(program) is not None


@dataclass(frozen=True)
class ClientHelloView:
    """What a ClientHello record offers, as a test server reads it."""

    suites: tuple[int, ...]
    extensions: dict[int, bytes]
    legacy: int = 0

    def _u16s(self, ext: int, skip: int) -> tuple[int, ...]:
        body = self.extensions.get(ext, b"")[skip:]
        return tuple(int.from_bytes(body[i:i + 2], "big") for i in range(0, len(body) - 1, 2))

    @property
    def versions(self) -> tuple[int, ...]:
        """supported_versions, or the legacy version alone."""
        return self._u16s(43, 1) or (self.legacy,)

    @property
    def groups(self) -> tuple[int, ...]:
        return self._u16s(10, 2)


def parse_client_hello(record: bytes) -> ClientHelloView:
    """Suites and extensions of a ClientHello record (empty when it cannot be read)."""
    try:
        body = record[9:]
        legacy = int.from_bytes(body[0:2], "big")
        pos = 2 + 32
        pos += 1 + body[pos]
        count = int.from_bytes(body[pos:pos + 2], "big")
        suites = tuple(int.from_bytes(body[pos + 2 + i:pos + 4 + i], "big") for i in range(0, count, 2))
        pos += 2 + count
        pos += 1 + body[pos]
        end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big")
        pos += 2
        found = {}
        while pos + 4 <= end:
            length = int.from_bytes(body[pos + 2:pos + 4], "big")
            found[int.from_bytes(body[pos:pos + 2], "big")] = bytes(body[pos + 4:pos + 4 + length])
            pos += 4 + length
        return ClientHelloView(suites, found, legacy)
    except IndexError:
        return ClientHelloView((), {})


def hello_extensions(record: bytes) -> set[int]:
    """Extension types in a ClientHello record (empty when it cannot be read)."""
    return set(parse_client_hello(record).extensions)


def pipe(a: socket.socket, b: socket.socket, delay: float = 0.0) -> None:
    """Copy a -> b until a closes, holding each chunk `delay` seconds; then shut b's write side."""
    with contextlib.suppress(OSError):
        while True:
            chunk = a.recv(65536)
            if not chunk:
                break
            if delay:
                time.sleep(delay)
            b.sendall(chunk)
    with contextlib.suppress(OSError):
        b.shutdown(socket.SHUT_WR)


def forward(conn: socket.socket, upstream_port: int, first: bytes = b"", delay: float = 0.0
            ) -> None:
    """Relay a client connection to 127.0.0.1:upstream_port, both ways."""
    with socket.create_connection((LOOPBACK, upstream_port), 5) as upstream:
        upstream.settimeout(30)
        if first:
            if delay:
                time.sleep(delay)
            upstream.sendall(first)
        back = threading.Thread(target=pipe, args=(upstream, conn, delay), daemon=True)
        back.start()
        pipe(conn, upstream, delay)
        back.join(30)


def intolerant_of(extensions: set[int], upstream_port: int) -> Behaviour:
    """A front for a real server that hangs when the ClientHello carries any of `extensions`."""

    def behaviour(conn: socket.socket) -> None:
        hello = read_client_hello(conn)
        if hello_extensions(hello) & extensions:
            hang_until_closed(conn)
        else:
            forward(conn, upstream_port, hello)

    return behaviour


# Synthetic server flights (bytes a server could send), for tests without a network --------


def record(content_type: int, payload: bytes, version: int = 0x0303) -> bytes:
    return bytes([content_type]) + version.to_bytes(2, "big") + len(payload).to_bytes(2, "big") + payload


def handshake(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def _ext(kind: int, data: bytes) -> bytes:
    return kind.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data


def server_hello(suite: int, version: int = 0x0303, extensions: tuple[tuple[int, bytes], ...] = (),
                 random: bytes = bytes(32)) -> bytes:
    exts = b"".join(_ext(k, d) for k, d in extensions)
    legacy = min(version, 0x0303)
    body = legacy.to_bytes(2, "big") + random + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
    if extensions:
        body += len(exts).to_bytes(2, "big") + exts
    return handshake(2, body)


def certificate(chain: tuple[bytes, ...]) -> bytes:
    entries = b"".join(len(c).to_bytes(3, "big") + c for c in chain)
    return handshake(11, len(entries).to_bytes(3, "big") + entries)


def ske_ecdhe(curve: int, scheme: int = 0x0804) -> bytes:
    point = b"\x04" + bytes(64)
    body = b"\x03" + curve.to_bytes(2, "big") + bytes([len(point)]) + point
    return handshake(12, body + scheme.to_bytes(2, "big") + (256).to_bytes(2, "big") + bytes(256))


def ske_dhe(prime_bits: int, scheme: int = 0x0401) -> bytes:
    prime = (1 << (prime_bits - 1) | 1).to_bytes((prime_bits + 7) // 8, "big")
    body = b"".join(len(v).to_bytes(2, "big") + v for v in (prime, b"\x02", b"\x05"))
    return handshake(12, body + scheme.to_bytes(2, "big") + (4).to_bytes(2, "big") + bytes(4))


def certificate_request(types: bytes = b"\x01\x40", schemes: tuple[int, ...] = (0x0403,),
                        names: tuple[bytes, ...] = ()) -> bytes:
    sig = b"".join(s.to_bytes(2, "big") for s in schemes)
    dns = b"".join(len(n).to_bytes(2, "big") + n for n in names)
    body = bytes([len(types)]) + types + len(sig).to_bytes(2, "big") + sig
    return handshake(13, body + len(dns).to_bytes(2, "big") + dns)


SERVER_HELLO_DONE = handshake(14, b"")


def flight(*messages: bytes, record_size: int = 16384) -> bytes:
    """Handshake messages packed into records of at most `record_size` bytes."""
    data = b"".join(messages)
    return b"".join(record(22, data[i:i + record_size]) for i in range(0, len(data), record_size))


# Daemons from Debian packages -----------------------------------------------------------


def nginx_server(pki: Pki, directory: Path, ciphers: str = "HIGH:!aNULL",
                 protocols: str = "TLSv1.2 TLSv1.3", extra: str = "", sni_required: bool = False
                 ) -> contextlib.AbstractContextManager[int]:
    """nginx (nginx-light) serving TLS on 127.0.0.1 with the given ciphers and protocols, for
    server_name localhost; with `sni_required`, a default server on the same port rejects
    every handshake that does not name localhost."""
    port = free_port()
    reject = (f"server {{ listen {LOOPBACK}:{port} ssl default_server; ssl_reject_handshake on; }}"
              if sni_required else "")
    directory.mkdir(parents=True, exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = directory / "nginx.conf"
    conf.write_text(f"""{user}
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    {reject}
    server {{
        listen {LOOPBACK}:{port} ssl;
        server_name localhost;
        ssl_certificate {pki.chain};
        ssl_certificate_key {pki.key};
        ssl_protocols {protocols};
        ssl_ciphers {ciphers};
        {extra}
        location / {{ return 200 "ok"; }}
    }}
}}
""")
    return process_server(["nginx", "-c", str(conf), "-p", str(directory), "-e", "stderr"], port,
                          stop=signal.SIGQUIT)


def mosquitto_server(pki: Pki, directory: Path, require_certificate: bool = True
                     ) -> contextlib.AbstractContextManager[int]:
    """A mosquitto MQTT broker with a TLS listener on 127.0.0.1 (client certificate required)."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "mosquitto.conf"
    user = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}persistence false
log_dest stderr
listener {port} {LOOPBACK}
cafile {pki.ca}
certfile {pki.chain}
keyfile {pki.key}
require_certificate {'true' if require_certificate else 'false'}
allow_anonymous true
""")
    return process_server(["mosquitto", "-c", str(conf)], port)


# mbedTLS's own ssl_server2, built from the real sources with the default config -------------


def mbedtls_program(line: str, name: str) -> Path:
    """programs/ssl/<name> (ssl_server2, ssl_client2) of an mbedTLS line with its default
    config, built once and cached by its inputs."""
    import hashlib

    from configgen import mbedbuild, sources

    tree = sources.find_tree(line)
    library = mbedbuild.build_library(tree, tree.config_header.read_text())
    root = tree.root
    includes = [root / d for d in ("tests/include", "framework/tests/include",
                                   "framework/tests/programs", "programs/test")]
    helpers = [root / "programs/ssl/ssl_test_lib.c", root / "programs/test/query_config.c"]
    for folder in ("tests/src", "tests/src/drivers", "framework/tests/src",
                   "framework/tests/src/drivers"):
        helpers += sorted((root / folder).glob("*.c"))
    key = hashlib.sha256(f"{root}\0{tree.version}\0{library.archive}".encode()).hexdigest()[:20]
    output = sources.cache_dir() / "programs" / key / name
    if not output.is_file():
        output.parent.mkdir(parents=True, exist_ok=True)
        extra = tuple(f"-I{d}" for d in includes if d.is_dir()) + tuple(
            str(h) for h in helpers) + (str(library.archive),)
        tmp = output.with_name(f"{name}.new")
        mbedbuild.build_program(library, root / f"programs/ssl/{name}.c", tmp, extra=extra)
        os.replace(tmp, output)
    return output


def ssl_server2(pki: Pki, line: str, *settings: str) -> contextlib.AbstractContextManager[int]:
    """mbedTLS's ssl_server2 on 127.0.0.1 with key=value settings (e.g. "force_version=tls12")."""
    port = free_port()
    argv = [str(mbedtls_program(line, "ssl_server2")), f"server_addr={LOOPBACK}", f"server_port={port}",
            f"crt_file={pki.chain}", f"key_file={pki.key}", f"ca_file={pki.ca}", "debug_level=0",
            *settings]
    return process_server(argv, port, stop=signal.SIGKILL)
