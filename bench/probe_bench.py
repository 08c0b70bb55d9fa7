"""configgen probe vs nmap's ssl-enum-ciphers and sslyze, on the same local servers.

    python bench/probe_bench.py [--rounds N] [--delay-ms MS] [--no-sslyze]

For each server: (a) on loopback, (b) through a delaying TCP proxy on 127.0.0.1 that adds
MS milliseconds (default 50) each way, as a link with a round trip of 2 x MS would: data
in either direction is held MS after it arrives (pipelined, in order), and a new
connection's first bytes a further round trip (the TCP handshake the proxy short-cuts).
The kernel here has no netem, so the proxy is part of this script. Printed: the median
wall time of N rounds (tools interleaved), the TCP connections each tool opened through
the proxy, and whether the accepted TLS 1.2/1.3 suites agree, compared over the suites
both tools know (by code point for nmap, by IANA name for sslyze).

Servers: openssl s_server accepting one TLS 1.2 suite (it serves one connection at a time),
and nginx three ways (one suite; HIGH:!aNULL with TLS 1.2-1.3; ALL:@SECLEVEL=0 with TLS
1.0-1.3), with certificates made for the run in a temporary directory. sslyze runs against
the nginx servers only: its scans stall s_server for minutes.

Targets (issue 14): at 50 ms the probe takes at most half of nmap's time with the same
accepted suites; against sslyze, 5x faster with a fifth of the connections.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import probe_servers
from sslyze import (
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)

from configgen import kb
from configgen.probe import Target, Timeouts, probe
from configgen.probe.plan import candidates

NMAP_TLS_LUA = Path("/usr/share/nmap/nselib/tls.lua")
TLS12, TLS13 = candidates(kb.load("3.6").suites)
NAMES = {c.id: c.name for c in TLS12 + TLS13}


class DelayingProxy:
    """127.0.0.1 TCP proxy adding `delay` seconds each way (see the module docstring)."""

    def __init__(self, upstream: int, delay: float):
        self.upstream = upstream
        self.delay = delay
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind((probe_servers.LOOPBACK, 0))
        self._listener.listen(256)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn, time.monotonic()), daemon=True).start()

    def _serve(self, conn: socket.socket, opened: float) -> None:
        with conn, contextlib.suppress(OSError), socket.create_connection(
                (probe_servers.LOOPBACK, self.upstream), 5) as upstream:
            back = threading.Thread(target=self._pipe, args=(upstream, conn, 0.0), daemon=True)
            back.start()
            self._pipe(conn, upstream, opened + 2 * self.delay)
            back.join(30)

    def _pipe(self, source: socket.socket, sink: socket.socket, not_before: float) -> None:
        """Copy source -> sink, each chunk (and the end) held `delay` after it arrived."""
        held: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def release() -> None:
            with contextlib.suppress(OSError):
                while True:
                    due, chunk = held.get()
                    time.sleep(max(0.0, due - time.monotonic()))
                    if not chunk:
                        sink.shutdown(socket.SHUT_WR)
                        return
                    sink.sendall(chunk)

        writer = threading.Thread(target=release, daemon=True)
        writer.start()
        chunk = b""
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                held.put((max(time.monotonic(), not_before) + self.delay, chunk))
        held.put((max(time.monotonic(), not_before) + self.delay, b""))
        writer.join(30)

    def count(self) -> int:
        with self._lock:
            return self.connections

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()


@dataclass(frozen=True)
class Run:
    seconds: float
    accepted: frozenset[int | str]  # code points (configgen, nmap) or IANA names (sslyze)
    known: frozenset[int | str]  # what the tool could have found


def iana(mbedtls_name: str) -> str:
    if mbedtls_name.startswith("TLS1-3-"):
        return "TLS_" + mbedtls_name[len("TLS1-3-"):].replace("-", "_")
    return mbedtls_name.replace("-", "_")


def run_configgen(port: int, by_name: bool = False) -> Run:
    target = Target(probe_servers.LOOPBACK, port, "localhost", (), "3.6", TLS12, TLS13)
    start = time.perf_counter()
    facts = probe(target, Timeouts(5, 5), 60)
    elapsed = time.perf_counter() - start
    ids = {s.id for s in facts.tls12_suites + facts.tls13_suites}
    if by_name:
        return Run(elapsed, frozenset(iana(NAMES[i]) for i in ids),
                   frozenset(iana(n) for n in NAMES.values()))
    return Run(elapsed, frozenset(ids), frozenset(NAMES))


def nmap_codes() -> dict[str, int]:
    """Suite names nmap's TLS library knows, with their code points."""
    found = re.findall(r'^\s*\[?"?(TLS_\w+)"?\]?\s*=\s*0x([0-9A-Fa-f]{4})',
                       NMAP_TLS_LUA.read_text(), re.MULTILINE)
    return {name: int(code, 16) for name, code in found}


def run_nmap(port: int) -> Run:
    codes = nmap_codes()
    start = time.perf_counter()
    out = subprocess.run(["nmap", "-Pn", "-n", "-sT", "--script", "ssl-enum-ciphers", "-p",
                          str(port), "-oX", "-", probe_servers.LOOPBACK],
                         capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - start
    accepted = set()
    for table in ElementTree.fromstring(out).iter("table"):
        if table.get("key") in ("TLSv1.2", "TLSv1.3"):
            accepted |= {codes[e.text] for e in table.iter("elem")
                         if e.get("key") == "name" and e.text in codes}
    return Run(elapsed, frozenset(accepted), frozenset(codes.values()))


def run_sslyze(port: int) -> Run:
    location = ServerNetworkLocation("localhost", port, ip_address=probe_servers.LOOPBACK)
    start = time.perf_counter()
    scanner = Scanner()
    scanner.queue_scans([ServerScanRequest(location)])
    (result,) = list(scanner.get_results())
    elapsed = time.perf_counter() - start
    if result.scan_status is not ServerScanStatusEnum.COMPLETED:
        raise SystemExit(f"sslyze could not scan port {port}: {result.connectivity_error_trace}")
    accepted: set[int | str] = set()
    known: set[int | str] = set()
    for attempt in (result.scan_result.tls_1_2_cipher_suites,
                    result.scan_result.tls_1_3_cipher_suites):
        if attempt.result is not None:
            accepted |= {s.cipher_suite.name for s in attempt.result.accepted_cipher_suites}
            known |= {s.cipher_suite.name for s in attempt.result.rejected_cipher_suites}
    return Run(elapsed, frozenset(accepted), frozenset(known | accepted))


@contextlib.contextmanager
def servers(work: Path) -> Iterator[dict[str, tuple[int, bool]]]:
    """name -> (port, whether sslyze may scan it)."""
    pki = probe_servers.make_pki(work / "pki")
    one = "ECDHE-RSA-AES256-GCM-SHA384"
    with probe_servers.openssl_server(pki, "-tls1_2", "-cipher", one) as s_server, \
            probe_servers.nginx_server(pki, work / "one", one, "TLSv1.2") as single, \
            probe_servers.nginx_server(pki, work / "typical") as typical, \
            probe_servers.nginx_server(pki, work / "permissive", "ALL:@SECLEVEL=0",
                                       "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3") as permissive:
        yield {f"openssl s_server, TLS 1.2, {one}": (s_server, False),
               f"nginx, TLS 1.2, {one}": (single, True),
               "nginx HIGH:!aNULL, TLS 1.2-1.3": (typical, True),
               "nginx ALL:@SECLEVEL=0, TLS 1.0-1.3": (permissive, True)}


def same(ours: Run, theirs: Run) -> tuple[bool, str]:
    both = ours.known & theirs.known
    a, b = ours.accepted & both, theirs.accepted & both
    note = f"{len(a)} vs {len(b)} of the {len(both)} suites both know"
    if a != b:
        note += f"; only configgen: {sorted(map(str, a - b))}, only the other: {sorted(map(str, b - a))}"
    return a == b, note


def timed(tool: Callable[[int], Run], port: int, delay: float) -> tuple[Run, int]:
    with DelayingProxy(port, delay) as proxy:
        result = tool(proxy.port)
        return result, proxy.count()


def bench(name: str, port: int, with_sslyze: bool, rounds: int, delay: float) -> bool:
    print(f"\n== {name} ==")
    tools: dict[str, Callable[[int], Run]] = {"configgen probe": run_configgen,
                                              "nmap ssl-enum-ciphers": run_nmap}
    if with_sslyze:
        tools["sslyze full scan"] = run_sslyze
    loop = {label: statistics.median(tool(port).seconds for _ in range(rounds))
            for label, tool in tools.items()}
    slow: dict[str, list[tuple[Run, int]]] = {label: [] for label in tools}
    for _ in range(rounds):  # interleaved: a busy moment hurts every tool alike
        for label, tool in tools.items():
            slow[label].append(timed(tool, port, delay))
    median = {label: statistics.median(r.seconds for r, _ in runs) for label, runs in slow.items()}
    connections = {label: runs[0][1] for label, runs in slow.items()}
    print(f"    {'tool':<24}{'loopback':>10}{f'{delay * 1000:g} ms each way':>20}{'connections':>13}")
    for label in tools:
        print(f"    {label:<24}{loop[label]:>9.3f}s{median[label]:>19.3f}s{connections[label]:>13}")
    ours = slow["configgen probe"][0][0]
    agree_nmap, note = same(ours, slow["nmap ssl-enum-ciphers"][0][0])
    print(f"    accepted suites vs nmap:   {'identical' if agree_nmap else 'DIFFERENT'} ({note})")
    ratio = median["nmap ssl-enum-ciphers"] / median["configgen probe"]
    checks = {
        f"at most half of nmap's time at {delay * 1000:g} ms ({ratio:.1f}x faster)": ratio >= 2,
        "the same accepted suites as nmap": agree_nmap,
    }
    if with_sslyze:
        ours_named = run_configgen(port, by_name=True)
        agree, note = same(ours_named, slow["sslyze full scan"][0][0])
        print(f"    accepted suites vs sslyze: {'identical' if agree else 'DIFFERENT'} ({note})")
        speed = median["sslyze full scan"] / median["configgen probe"]
        checks[f"5x faster than sslyze at {delay * 1000:g} ms ({speed:.1f}x)"] = speed >= 5
        checks["at most a fifth of sslyze's connections"] = (
            connections["configgen probe"] * 5 <= connections["sslyze full scan"])
        checks["the same accepted suites as sslyze"] = agree
    for label, ok in checks.items():
        print(f"    target: {label:<58} {'met' if ok else 'MISSED'}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (median)")
    parser.add_argument("--delay-ms", type=float, default=50, help="delay added each way")
    parser.add_argument("--no-sslyze", action="store_true", help="leave sslyze out (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as work, servers(Path(work)) as ports:
        results = [bench(name, port, scan and not args.no_sslyze, args.rounds,
                         args.delay_ms / 1000)
                   for name, (port, scan) in ports.items()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
