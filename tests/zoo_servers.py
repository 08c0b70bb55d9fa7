"""The zoo's TLS servers: real implementations from Debian packages, on 127.0.0.1 only.

OpenSSL `s_server`, nginx, GnuTLS `gnutls-serv`, Go's crypto/tls (tests/servers/tls_echo.go),
stunnel in front of an echo, lighttpd and mosquitto. Each launcher is a context manager that
yields the port once the server listens and stops the server on exit. What they serve comes
in a `ServerFiles`; the tests make the certificates (tests/zoo.py).

Each answers the device's first message: `s_server -rev` reverses a line, gnutls-serv, Go
and stunnel's backend echo it, nginx and lighttpd answer an HTTP request
(`HTTP_REQUEST`), mosquitto an MQTT CONNECT (client.c `--mqtt 1`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from configgen import sources
from probe_servers import (LOOPBACK, Pki, free_port, hostile_server, mosquitto_server,
                           nginx_server, pipe, process_server)

SERVERS = Path(__file__).parent / "servers"
HTTP_REQUEST = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"


@dataclass(frozen=True)
class ServerFiles:
    """What a server presents: its certificate, the chain it sends, its key, and the CA
    that signs the client certificates it accepts."""

    leaf: Path
    chain: Path  # the leaf followed by the intermediates the server sends
    intermediates: Path | None  # the intermediates alone (None: the server sends the leaf only)
    key: Path
    client_ca: Path


def openssl(files: ServerFiles, *args: str) -> contextlib.AbstractContextManager[int]:
    """`openssl s_server -rev` (a reversing echo) with extra arguments ("-tls1_2", ...)."""
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-rev", "-quiet",
            "-cert", str(files.leaf), "-key", str(files.key)]
    if files.intermediates:
        argv += ["-cert_chain", str(files.intermediates)]
    return process_server(argv + list(args), port)


def nginx(files: ServerFiles, work: Path, **options) -> contextlib.AbstractContextManager[int]:
    """nginx serving "ok" for server_name localhost (probe_servers.nginx_server's options:
    protocols, ciphers, sni_required, extra)."""
    return nginx_server(_pki(files), work, **options)


def lighttpd(files: ServerFiles, work: Path, conf_cmds: dict[str, str] | None = None,
             client_cert: bool = False) -> contextlib.AbstractContextManager[int]:
    """lighttpd (mod_openssl) serving a file; `conf_cmds` are OpenSSL SSL_CONF commands
    ("MinProtocol", "CipherString", ...); `client_cert` requires one."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    (work / "index.html").write_text("ok\n")
    commands = {"MinProtocol": "TLSv1.2", **(conf_cmds or {})}
    pairs = ", ".join(f'"{k}" => "{v}"' for k, v in commands.items())
    verify = (f'ssl.ca-file = "{files.client_ca}"\nssl.verifyclient.activate = "enable"\n'
              'ssl.verifyclient.enforce = "enable"\n') if client_cert else ""
    (work / "lighttpd.conf").write_text(f"""server.modules = ("mod_openssl")
server.document-root = "{work}"
server.bind = "{LOOPBACK}"
server.port = {port}
server.errorlog = "{work}/error.log"
ssl.engine = "enable"
ssl.pemfile = "{files.chain}"
ssl.privkey = "{files.key}"
ssl.openssl.ssl-conf-cmd = ({pairs})
{verify}""")
    return process_server(["lighttpd", "-D", "-f", str(work / "lighttpd.conf")], port)


def mosquitto(files: ServerFiles, work: Path, require_certificate: bool
              ) -> contextlib.AbstractContextManager[int]:
    """A mosquitto broker whose TLS listener asks for a client certificate signed by
    `files.client_ca`, and (with `require_certificate`) refuses a client without one."""
    return mosquitto_server(_pki(files), work, require_certificate)


def _pki(files: ServerFiles) -> Pki:
    """The server's files as probe_servers' launchers take them (no client credentials)."""
    return Pki(files.client_ca, files.leaf, files.key, files.chain, files.leaf, files.key, "")


# --- GnuTLS, in a network namespace of its own ---------------------------------------------


def _wait_for(path: Path, timeout: float = 15) -> None:
    """Until the relay inside the namespace opens its socket: gnutls-serv then listens."""
    end = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > end:
            raise RuntimeError(f"gnutls-serv did not come up within {timeout:g} s")
        time.sleep(0.05)


def _to_unix(path: Path):
    def relay(conn: socket.socket) -> None:
        with socket.socket(socket.AF_UNIX) as inner:
            inner.connect(str(path))
            back = threading.Thread(target=pipe, args=(inner, conn), daemon=True)
            back.start()
            pipe(conn, inner)
            back.join(60)

    return relay


@contextlib.contextmanager
def gnutls(files: ServerFiles, *args: str, client_auth: str = "none") -> Iterator[int]:
    """`gnutls-serv --echo` with extra arguments (e.g. "--priority", ...). `client_auth`:
    "none" (-a), "request" (GnuTLS's default: a CertificateRequest, an empty answer
    accepted) or "require" (-r).

    gnutls-serv listens on every interface and has no option to say otherwise, so it runs in
    a network namespace with only a loopback (`unshare --net`, tests/servers/ns_relay.py)
    and is reached through a Unix socket relayed to a 127.0.0.1 port here."""
    auth = {"none": ["-a"], "request": ["--x509cafile", str(files.client_ca)],
            "require": ["-r", "--x509cafile", str(files.client_ca)]}[client_auth]
    inner_port = 4433
    with tempfile.TemporaryDirectory(prefix="configgen-gnutls-") as work:
        path = Path(work) / "relay.sock"
        argv = ["unshare", "--net", "--", sys.executable, str(SERVERS / "ns_relay.py"), str(path),
                str(inner_port), "--", "gnutls-serv", "--echo", "-q", "-p", str(inner_port),
                "--x509certfile", str(files.chain), "--x509keyfile", str(files.key), *auth, *args]
        with hostile_server(_to_unix(path)) as port, process_server(argv, port) as _:
            _wait_for(path)
            yield port


# --- stunnel, in front of an echo ----------------------------------------------------------


def _echo(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


@contextlib.contextmanager
def stunnel(files: ServerFiles, work: Path, options: dict[str, str] | None = None) -> Iterator[int]:
    """stunnel terminating TLS in front of an echo on 127.0.0.1, with extra service options
    (sslVersionMin, ciphers, curves, verifyChain + CAfile, ...)."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with hostile_server(_echo) as echo:
        lines = "".join(f"{k} = {v}\n" for k, v in (options or {}).items())
        (work / "stunnel.conf").write_text(f"""foreground = yes
pid =
debug = 3
[zoo]
accept = {LOOPBACK}:{port}
connect = {LOOPBACK}:{echo}
cert = {files.chain}
key = {files.key}
{lines}""")
        with process_server(["stunnel", str(work / "stunnel.conf")], port):
            yield port


# --- Go crypto/tls -------------------------------------------------------------------------


def go_server_binary() -> Path:
    """tests/servers/tls_echo.go built with Debian's Go into the configgen cache, keyed by
    the source's hash (std lib only: no module download)."""
    source = SERVERS / "tls_echo.go"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    zoo = sources.cache_dir() / "zoo"
    binary = zoo / f"tls_echo-{digest}"
    if not binary.is_file():
        zoo.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOCACHE": str(zoo / "gocache"), "GOPATH": str(zoo / "gopath"),
               "HOME": os.environ.get("HOME") or str(zoo), "CGO_ENABLED": "0", "GOFLAGS": ""}
        tmp = binary.with_name(binary.name + ".new")
        subprocess.run(["go", "build", "-o", str(tmp), str(source)], env=env, check=True,
                       capture_output=True)
        os.replace(tmp, binary)
    return binary


def go(files: ServerFiles, *args: str) -> contextlib.AbstractContextManager[int]:
    """Go's crypto/tls echoing, with tls_echo flags ("-max", "1.2", "-curves", "P384", ...)."""
    port = free_port()
    argv = [str(go_server_binary()), "-listen", f"{LOOPBACK}:{port}", "-cert", str(files.chain),
            "-key", str(files.key), *args]
    return process_server(argv, port)
