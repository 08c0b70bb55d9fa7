"""Prove a generated header before it is written: build it against real mbedTLS and complete a
handshake and one round trip with every live server.

mbedTLS is the judge: the header is compiled into the tree of `--mbedtls-src` (or the cached
sources of its line), configgen's test client is linked with it, and it talks to each server
the profile names, doing in code what the banner tells the integrator to do (the server's
name, max_fragment_length, a SHA-1 verification profile). What it sends for the round trip
follows the server's protocol where the profile shows it (MQTT by ALPN or port 8883, an HTTP
HEAD by ALPN or port 443/8443), else one short line; a server that closes the connection on
(or stays silent after) a message it does not understand has still completed the handshake,
and the banner says the round trip was not tried.
"""

from __future__ import annotations

import shutil
import tempfile
from enum import Enum
from pathlib import Path
from typing import Callable, Sequence

from configgen import headerfile, output, sources
from configgen.model.certificates import CertFacts
from configgen.errors import ConfiggenError, ProbeError, SourceTreeError
from configgen.model.profile import Profile, Server
from configgen.model.results import Handshake, VerifyServer
from configgen.model.proof import Proof
from configgen.model.proof import Proven

# What mbedtls_ssl_read returns when the server ends the connection or stays silent after
# the test message: EOF, close_notify, a reset, the client's answer timeout (it did not like
# or did not understand the message: the handshake itself completed).
_UNANSWERED = frozenset({"MBEDTLS_ERR_SSL_CONN_EOF", "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY",
                         "MBEDTLS_ERR_NET_CONN_RESET", "MBEDTLS_ERR_SSL_TIMEOUT"})  # as the knowledge base names them
_ANSWER_TIMEOUT = ("--answer-timeout", "5")  # seconds
_MQTT_PORTS = (8883,)
_HTTP_PORTS = (443, 8443)


class Mode(str, Enum):
    AUTO = "auto"  # verify when a compiler and the sources are at hand; else say so and go on
    REQUIRED = "required"  # --verify: not verifying is a failure
    OFF = "off"  # --no-verify


class VerificationFailed(ConfiggenError):
    """The header does not work with a server (or, with --verify, could not be tried)."""

    exit_code = 1


def payload(server: Server) -> tuple[str, ...]:
    """The test client's arguments for the round trip with this server."""
    alpn = " ".join(server.alpn).lower()
    if "mqtt" in alpn or server.port in _MQTT_PORTS:
        return ("--mqtt", "1")
    if "http" in alpn or alpn.startswith("h2") or server.port in _HTTP_PORTS:
        name = server.sni or server.host
        return ("--send", f"HEAD / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n")
    return ()


def _anchors_file(anchors: Sequence[CertFacts], work: Path) -> Path:
    """The trust anchors as one PEM file, as the test client loads them."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    path = work / "anchors.pem"
    output.write_bytes(path, b"".join(x509.load_der_x509_certificate(a.der).public_bytes(Encoding.PEM)
                                      for a in anchors))
    return path


def _tree(line: str, release: str | None, dirs: list[str] | None) -> sources.SourceTree:
    """The user's tree of the line, else the cached tree of the target release when it is a
    tested one, else the line's."""
    user = [t for t in sources.user_trees(dirs) if t.line == line]
    if user:
        return user[0]
    tested = release if release in sources.TESTED_RELEASES else line
    return sources.find_tree(tested, fetch=False)


def prove(text: str, profile: Profile, anchors: Sequence[CertFacts], mode: Mode,
          dirs: list[str] | None = None, progress: Callable[[str], None] = lambda _: None,
          release: str | None = None) -> Proven:
    """Build `text` and handshake with every server of the profile; VerificationFailed when a
    handshake fails (or, with Mode.REQUIRED, when it cannot be tried)."""
    from configgen import verify  # compilers and servers: loaded only when a header is proven

    try:
        tree = _tree(profile.mbedtls, release, dirs)
        missing = [tool for tool in verify.HOST_TOOLS if shutil.which(tool) is None]
        if missing:
            raise SourceTreeError(f"{', '.join(missing)} not found (apt-get install gcc binutils)")
    except SourceTreeError as error:
        if mode is Mode.REQUIRED:
            raise VerificationFailed(f"cannot verify the header: {error.message}", hint=error.hint) from None
        return Proven(None, skipped=f"{error.message}{f' ({error.hint})' if error.hint else ''}")
    header = headerfile.parse(text, profile.relative(profile.path))
    proofs = []
    with tempfile.TemporaryDirectory(prefix="configgen-prove-") as work:
        setup = verify.Client(_anchors_file(anchors, Path(work)), profile.client_cert, profile.client_key)
        for server in profile.servers:
            target = VerifyServer(server.host, server.port, server.sni or server.host)
            try:
                result = verify.verify(header, tree, "the profile", [target],
                                       verify.Client(setup.ca, setup.cert, setup.key,
                                                     payload(server) + _ANSWER_TIMEOUT),
                                       progress, client_auth=profile.client_cert is not None, measure=False)
            except ProbeError as error:
                if mode is Mode.REQUIRED:
                    raise VerificationFailed(f"cannot verify the header: {error}") from None
                return Proven(None, skipped=f"{error.where} could not be reached ({error.message})")
            failed = next((s for s in result.steps if not s.ok), None)
            if failed is not None:
                raise VerificationFailed(
                    f"the generated header does not build with mbedTLS {tree.version}: {failed.detail}"
                    + (f": {failed.errors[0]}" if failed.errors else ""),
                    hint="this is a bug in configgen: please report it with the profile")
            shaken = result.handshakes[0]
            proofs.append(_proof(shaken, tree.version))
    return Proven(tree.version, tuple(proofs))


def _proof(shaken: Handshake, version: str) -> Proof:
    if shaken.ok:
        return Proof(shaken.server, shaken.result.removeprefix("ok: "), True)
    reading = shaken.code.readings[0] if shaken.code is not None and shaken.code.readings else None
    names = {p.error.name for p in reading.parts if p.error is not None} if reading is not None else set()
    if shaken.result.endswith("in mbedtls_ssl_read") and names & _UNANSWERED and shaken.suite:
        return Proof(shaken.server, shaken.suite, False)
    why = f" ({reading.strerror})" if reading is not None else ""
    if shaken.flags is not None:
        why += f"; verify flags 0x{shaken.flags.value:08X}: {shaken.flags.info.strip()}"
    causes = (reading.causes if reading is not None else ()) + tuple(
        c for f in (shaken.flags.flags if shaken.flags is not None else ()) for c in f.causes)
    fix = f"{causes[0].fix}; " if causes else ""
    raise VerificationFailed(
        f"the generated header fails with mbedTLS {version}: {shaken.result}{why}",
        where=shaken.server,
        hint=f"{fix}nothing was written (--no-verify writes it unverified)",
    )
