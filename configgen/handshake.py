"""configgen's test client (configgen/data/client.c): built with a header, run against a server.

The client does one handshake and one application-data round trip and prints "handshake:
SUITE" once the handshake completes, then one line: "ok: SUITE", or "error -0xNNNN in STEP"
(after "verify flags 0xNNNNNNNN" when the chain did not verify). It exits 2 without a line when it cannot read its CA file or connect. Run under
valgrind's massif (`heap=True`), the outcome also gives the run's peak heap: the client keeps
its own buffers static, so with a numeric HOST (no name lookup in the C library) the peak is
mbedTLS's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from configgen import mbedbuild, resources
from configgen.derive import SHA1_PROFILE_NOTE

CLIENT = resources.path("data/client.c")

_ERROR = re.compile(r"^error (?P<code>-?0x[0-9A-F]+) in (?P<step>.+)$")
_FLAGS = re.compile(r"^verify flags (?P<flags>0x[0-9A-F]+)$", re.MULTILINE)
_SUITE = re.compile(r"^handshake: (?P<suite>\S+)$", re.MULTILINE)
_MASSIF_HEAP = re.compile(r"mem_heap_B=(\d+)\nmem_heap_extra_B=(\d+)")
_CALLGRIND_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


def build_client(library: mbedbuild.Library, output: Path) -> Path:
    """The test client linked against a built library; BuildError when it does not link."""
    return mbedbuild.build_program(library, CLIENT, output)


def integration_arguments(header: str) -> list[str]:
    """The test client's arguments for what the header's banner tells the integrator to do in
    code: request max_fragment_length, pass a verification profile that allows SHA-1."""
    found = re.search(r"MBEDTLS_SSL_MAX_FRAG_LEN_(\d+)", header)
    arguments = ["--mfl", found.group(1)] if found else []
    if SHA1_PROFILE_NOTE in header:
        arguments += ["--sha1-profile", "1"]
    return arguments


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str  # "ok: SUITE", "error -0x7780 in mbedtls_ssl_handshake", ...
    code: int | None = None  # the mbedTLS error code of an "error" line
    step: str | None = None  # the call that returned it
    flags: int | None = None  # X.509 verify flags, when the chain did not verify
    heap_peak: int | None = None  # bytes, allocator overhead included (run with heap=True)
    suite: str | None = None  # what the handshake negotiated, when it completed
    instructions: int | None = None  # executed by the whole run (run with count=True)


def can_measure_heap() -> bool:
    return shutil.which("valgrind") is not None


def run_client(client: Path, host: str, port: int, ca: Path, args: list[str] | tuple[str, ...] = (),
               timeout: float = 60, heap: bool = False, count: bool = False) -> Outcome:
    """Run the client once; an Outcome whatever happens (a silent server is a timeout).
    With `heap`, under valgrind massif (see can_measure_heap), recording the peak heap; with
    `count`, under callgrind, recording the instructions the run executed (a repeatable
    measure of the handshake's computation, whatever else the machine does)."""
    command = [str(client), host, str(port), str(ca), *args]
    if count:
        with tempfile.TemporaryDirectory(prefix="configgen-callgrind-") as work:
            out = Path(work) / "callgrind.out"
            outcome = _run(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
                           timeout)
            found = _CALLGRIND_TOTAL.search(out.read_text()) if out.is_file() else None
        return replace(outcome, instructions=int(found.group(1)) if found else None)
    if not heap:
        return _run(command, timeout)
    with tempfile.TemporaryDirectory(prefix="configgen-massif-") as work:
        massif = Path(work) / "massif.out"
        outcome = _run(["valgrind", "-q", "--tool=massif", f"--massif-out-file={massif}", *command], timeout)
        if not massif.is_file():
            return outcome
        peak = max((int(a) + int(b) for a, b in _MASSIF_HEAP.findall(massif.read_text())), default=0)
    return replace(outcome, heap_peak=peak)


def _run(command: list[str], timeout: float) -> Outcome:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Outcome(False, f"no result within {timeout:g} s: the server accepted and went silent, "
                              "or the connection never completed")
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok:", "error"))]
    text = lines[-1] if lines else (result.stdout + result.stderr).strip()[-200:]
    error = _ERROR.match(text)
    flags = _FLAGS.search(result.stdout)
    suite = _SUITE.search(result.stdout)
    return Outcome(
        result.returncode == 0 and text.startswith("ok:"),
        text,
        int(error["code"], 16) if error else None,
        error["step"] if error else None,
        int(flags["flags"], 16) if flags else None,
        suite=suite["suite"] if suite else None,
    )
