"""Real mbedTLS debug logs of failing handshakes, produced at test time on 127.0.0.1 (the
scenarios tests/test_diagnose.py diagnoses; this module holds no tests of its own).

Each scenario runs a real client against a real (or deliberately rude) server and returns
what the client printed, debug lines included: mbedTLS's own ssl_client2 (default config,
`debug_level=N`) where the default config can fail that way, and configgen's client.c
built with a "device" header (default config, MBEDTLS_DEBUG_C on, MBEDTLS_SHA1_C off,
MBEDTLS_SSL_IN_CONTENT_LEN 1024) where it takes a smaller device to fail. The small heap
is a calloc that refuses to go past a budget (linked with -Wl,--wrap=calloc).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from handshake import CLIENT
from probe_servers import (
    LOOPBACK,
    Pki,
    free_port,
    hostile_server,
    mbedtls_program,
    openssl_server,
    process_server,
    read_client_hello,
    reset_after_hello,
)

from configgen import headerfile, mbedbuild, sources

CERTS = Path(__file__).parent / "data" / "certs"

HEAP_LIMIT_SOURCE = r"""
#include <stdlib.h>
/* calloc with a budget: the sum of all requests may not pass CONFIGGEN_HEAP bytes. */
void *__real_calloc(size_t n, size_t size);
static size_t used;
void *__wrap_calloc(size_t n, size_t size)
{
    static long budget = -1;
    if (budget < 0) {
        budget = getenv("CONFIGGEN_HEAP") ? atol(getenv("CONFIGGEN_HEAP")) : 0;
    }
    if (budget > 0 && used + n * size > (size_t) budget) {
        return NULL;
    }
    used += n * size;
    return __real_calloc(n, size);
}
"""


# Bytes of calloc that get the device client through mbedtls_ssl_setup and then fail inside
# the handshake (found by trying; more on 2.28 and the heap runs out during the signature
# check, which 2.28 reports as -0x2700 with verify flags 0x08, not as an allocation failure).
HEAP_BUDGET = {"2.28": "24000", "3.6": "30000"}


@dataclass(frozen=True)
class Scenario:
    name: str
    cause: str  # the Diagnosis.cause the log must be diagnosed to
    only: str | None = None  # the line it fails on (on the other the handshake succeeds)


SCENARIOS = (
    Scenario("no shared suite", "no-common-suite"),
    Scenario("server demands a client certificate", "client-certificate-required"),
    Scenario("wrong CA", "untrusted-chain"),
    Scenario("EOF after ClientHello", "closed-after-client-hello"),
    Scenario("reset after ClientHello", "closed-after-client-hello"),
    Scenario("SHA-1 root without SHA1_C", "unparsable-trust-anchor"),
    Scenario("record too large for the buffer", "record-too-large"),
    Scenario("out of memory with a small heap", "out-of-memory"),
    Scenario("TLS 1.2-only server signing with RSA-PSS", "rsa-pss-tls12-defect", only="3.6"),
)


def device_header(line: str) -> str:
    """The line's default config, less SHA-1 (and 2.28's TLS 1.0/1.1 and CBC record splitting, which need it), with a
    1 KiB input buffer; MBEDTLS_DEBUG_C stays on."""
    tree = sources.find_tree(line)
    header = headerfile.parse(tree.config_header.read_text(), tree.config_header.name)
    for name in ("MBEDTLS_SHA1_C", "MBEDTLS_SSL_PROTO_TLS1", "MBEDTLS_SSL_PROTO_TLS1_1",
                 "MBEDTLS_SSL_CBC_RECORD_SPLITTING"):
        header = headerfile.with_setting(header, name, False)
    return headerfile.with_setting(header, "MBEDTLS_SSL_IN_CONTENT_LEN", True, "1024").text


def device_client(line: str, work: Path) -> Path:
    """configgen's client.c built with the device header and the calloc budget."""
    tree = sources.find_tree(line)
    library = mbedbuild.build_library(tree, device_header(line))
    wrapper = work / "heap_limit.c"
    wrapper.write_text(HEAP_LIMIT_SOURCE)
    return mbedbuild.build_program(library, CLIENT, work / f"client-{line}",
                                   extra=(str(wrapper), "-Wl,--wrap=calloc"))


def _run(argv: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=60, check=False, env={**os.environ, **(env or {})},
                            stdin=subprocess.DEVNULL)
    return result.stdout


def ssl_client2(line: str, port: int, level: int, *settings: str) -> str:
    return _run([str(mbedtls_program(line, "ssl_client2")), f"server_addr={LOOPBACK}",
                 f"server_port={port}", "server_name=localhost", f"debug_level={level}",
                 "read_timeout=5000", *settings])


def produce(scenario: str, line: str, level: int, pki: Pki, other: Pki, ec: Pki,
            client: Path) -> str:
    """The log of one scenario on one line at one debug level: `pki` is the server's (RSA),
    `other` an unrelated CA, `ec` an EC PKI (no RSA-PSS in TLS 1.2)."""
    ca = f"ca_file={pki.ca}"
    if scenario == "no shared suite":
        with openssl_server(pki, "-tls1_2", "-cipher", "AES128-SHA") as port:
            return ssl_client2(line, port, level, ca,
                               "force_ciphersuite=TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256")
    if scenario == "server demands a client certificate":
        with openssl_server(ec, "-tls1_2", "-Verify", "1") as port:
            return ssl_client2(line, port, level, f"ca_file={ec.ca}", "crt_file=none",
                               "key_file=none")
    if scenario == "wrong CA":
        with openssl_server(pki, "-tls1_2") as port:
            return ssl_client2(line, port, level, f"ca_file={other.ca}")
    if scenario == "TLS 1.2-only server signing with RSA-PSS":
        with openssl_server(pki, "-tls1_2") as port:
            return ssl_client2(line, port, level, ca)
    if scenario == "EOF after ClientHello":
        with hostile_server(read_client_hello) as port:
            return ssl_client2(line, port, level, ca)
    if scenario == "reset after ClientHello":
        with hostile_server(reset_after_hello) as port:
            return ssl_client2(line, port, level, ca)
    env = {"CONFIGGEN_DEBUG": str(level)}
    if scenario == "SHA-1 root without SHA1_C":
        port = free_port()
        argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-www",
                "-cert", str(CERTS / "rsa4096-server.pem"),
                "-cert_chain", str(CERTS / "rsa4096-intermediate.pem"),
                "-key", str(CERTS / "rsa4096-server.key"), "-tls1_2"]
        with process_server(argv, port):
            return _run([str(client), LOOPBACK, str(port), str(CERTS / "sha1-rsa4096-root.pem"),
                         "--name", "localhost"], env)
    if scenario == "record too large for the buffer":
        with openssl_server(pki, "-tls1_2") as port:
            return _run([str(client), LOOPBACK, str(port), str(pki.ca), "--name", "localhost"], env)
    if scenario == "out of memory with a small heap":
        with openssl_server(ec, "-tls1_2") as port:
            return _run([str(client), LOOPBACK, str(port), str(ec.ca), "--name", "localhost"],
                        {**env, "CONFIGGEN_HEAP": HEAP_BUDGET[line]})
    raise ValueError(scenario)
