"""configgen probe vs sslyze, on the same local servers, in one go.

    python bench/probe_bench.py [--rounds N]

(a) loopback: wall time of configgen's full probe, sslyze's full scan and sslyze's
    cipher-suite scans alone; (b) through a delaying TCP proxy on 127.0.0.1 that holds every
    chunk 25 ms in each direction and every new connection 50 ms (a realistic internet round
    trip; the kernel here has no netem, so the proxy is part of this script): wall time and
    the number of TCP connections of each tool. Ratios and the issue's targets are printed,
    and the accepted TLS 1.2/1.3 suites of both tools are compared.

Servers: nginx twice (HIGH:!aNULL with TLS 1.2-1.3, and ALL:@SECLEVEL=0 with TLS 1.0-1.3), with
certificates made for the run in a temporary directory. Not openssl s_server: it serves one
connection at a time, and sslyze's scans stall it for minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import probe_servers
from sslyze import (
    ScanCommand,
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)

from configgen import kb
from configgen.probe import ServerFacts, Target, Timeouts, probe
from configgen.probe.plan import candidates

CHUNK_DELAY = 0.025
CONNECT_DELAY = 0.050
CIPHER_SCANS = {
    ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES,
    ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_1_CIPHER_SUITES,
    ScanCommand.TLS_1_2_CIPHER_SUITES, ScanCommand.TLS_1_3_CIPHER_SUITES,
}


class DelayingProxy:
    """127.0.0.1 TCP proxy: each new connection held CONNECT_DELAY, each chunk CHUNK_DELAY."""

    def __init__(self, upstream: int):
        self.upstream = upstream
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
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            time.sleep(CONNECT_DELAY)
            probe_servers.forward(conn, self.upstream, delay=CHUNK_DELAY)

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


def iana(mbedtls_name: str) -> str:
    if mbedtls_name.startswith("TLS1-3-"):
        return "TLS_" + mbedtls_name[len("TLS1-3-"):].replace("-", "_")
    return mbedtls_name.replace("-", "_")


def run_configgen(port: int) -> tuple[float, ServerFacts]:
    tls12, tls13 = candidates(kb.load("3.6").suites)
    target = Target(probe_servers.LOOPBACK, port, "localhost", (), "3.6", tls12, tls13)
    start = time.perf_counter()
    facts = probe(target, Timeouts(5, 5), 60)
    return time.perf_counter() - start, facts


def run_sslyze(port: int, commands: set[ScanCommand] | None) -> tuple[float, set[str], set[str]]:
    """(seconds, accepted suite names, known suite names) of one sslyze scan."""
    location = ServerNetworkLocation("localhost", port, ip_address=probe_servers.LOOPBACK)
    request = (ServerScanRequest(location) if commands is None
               else ServerScanRequest(location, scan_commands=commands))
    start = time.perf_counter()
    scanner = Scanner()
    scanner.queue_scans([request])
    (result,) = list(scanner.get_results())
    elapsed = time.perf_counter() - start
    if result.scan_status is not ServerScanStatusEnum.COMPLETED:
        raise SystemExit(f"sslyze could not scan port {port}: {result.connectivity_error_trace}")
    accepted: set[str] = set()
    known: set[str] = set()
    for attempt in (result.scan_result.tls_1_2_cipher_suites,
                    result.scan_result.tls_1_3_cipher_suites):
        if attempt.result is not None:
            accepted |= {s.cipher_suite.name for s in attempt.result.accepted_cipher_suites}
            known |= {s.cipher_suite.name for s in attempt.result.rejected_cipher_suites}
    return elapsed, accepted, known | accepted


@contextlib.contextmanager
def servers(work: Path) -> Iterator[dict[str, int]]:
    pki = probe_servers.make_pki(work / "pki")
    with probe_servers.nginx_server(pki, work / "nginx") as typical, probe_servers.nginx_server(
        pki, work / "permissive", "ALL:@SECLEVEL=0", "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"
    ) as permissive:
        yield {"nginx HIGH:!aNULL, TLS 1.2-1.3": typical,
               "nginx ALL:@SECLEVEL=0, TLS 1.0-1.3": permissive}


def bench(name: str, port: int, rounds: int) -> bool:
    print(f"\n== {name} ==")
    ours = [run_configgen(port) for _ in range(rounds)]
    ours_time = statistics.median(t for t, _ in ours)
    facts = ours[0][1]
    full = [run_sslyze(port, None) for _ in range(rounds)]
    full_time = statistics.median(t for t, _, _ in full)
    ciphers_time = statistics.median(run_sslyze(port, CIPHER_SCANS)[0] for _ in range(rounds))
    print(f"(a) loopback, median of {rounds}:")
    print(f"    configgen probe (full)        {ours_time:7.3f} s  ({facts.connections} connections)")
    print(f"    sslyze full scan              {full_time:7.3f} s  ratio {full_time / ours_time:6.1f}x")
    print(f"    sslyze cipher suites only     {ciphers_time:7.3f} s  "
          f"ratio {ciphers_time / ours_time:6.1f}x")

    with DelayingProxy(port) as proxy:
        slow_time, slow_facts = run_configgen(proxy.port)
        ours_conns = proxy.count()
    with DelayingProxy(port) as proxy:
        slow_full, accepted, known = run_sslyze(proxy.port, None)
        their_conns = proxy.count()
    print(f"(b) through the delaying proxy ({CHUNK_DELAY * 1000:.0f} ms per chunk each way, "
          f"{CONNECT_DELAY * 1000:.0f} ms per new connection):")
    print(f"    configgen probe (full)        {slow_time:7.3f} s  {ours_conns:5d} connections")
    print(f"    sslyze full scan              {slow_full:7.3f} s  {their_conns:5d} connections")
    print(f"    ratio                         {slow_full / slow_time:7.1f}x faster, "
          f"{their_conns / max(ours_conns, 1):5.1f}x fewer connections")

    ours_names = {iana(s.name) for s in slow_facts.tls12_suites + slow_facts.tls13_suites}
    tls12, tls13 = candidates(kb.load("3.6").suites)
    both = {iana(c.name) for c in tls12 + tls13} & known
    same = ours_names & both == accepted & both
    print(f"    accepted suites both tools know: configgen {len(ours_names & both)}, "
          f"sslyze {len(accepted & both)}, {'identical' if same else 'DIFFERENT'}")
    if not same:
        print(f"      only configgen: {sorted((ours_names - accepted) & both)}")
        print(f"      only sslyze:    {sorted((accepted - ours_names) & both)}")
    checks = {
        "loopback under 1 s": ours_time < 1.0,
        "5x faster than sslyze on the 50 ms link": slow_full / slow_time >= 5,
        "at most a fifth of sslyze's connections": ours_conns * 5 <= their_conns,
        "same accepted suites": same,
    }
    for label, ok in checks.items():
        print(f"    target: {label:<42} {'met' if ok else 'MISSED'}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="loopback repetitions (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as work, servers(Path(work)) as ports:
        results = [bench(name, port, args.rounds) for name, port in ports.items()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
