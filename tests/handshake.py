"""Build configgen's test client against a header and run it: the handshake oracle."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from configgen import mbedbuild

CLIENT = Path(__file__).parent.parent / "configgen" / "data" / "client.c"


def build_client(tree, header: str, output: Path) -> Path:
    """The test client linked against mbedTLS built with `header` (check_config clean)."""
    assert mbedbuild.check_config(tree, header) == ""
    library = mbedbuild.build_library(tree, header)
    return mbedbuild.build_program(library, CLIENT, output)


def mfl_arguments(header: str) -> list[str]:
    """--mfl N when the header tells the integrator to request max_fragment_length."""
    found = re.search(r"MBEDTLS_SSL_MAX_FRAG_LEN_(\d+)", header)
    return ["--mfl", found.group(1)] if found else []


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str  # "ok: SUITE", "error -0x7780 in mbedtls_ssl_handshake", ...


def run_client(client: Path, port: int, ca: Path, *args: str, timeout: float = 60) -> Outcome:
    result = subprocess.run(
        [str(client), "127.0.0.1", str(port), str(ca), *args],
        capture_output=True, text=True, timeout=timeout,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(("ok:", "error"))]
    text = lines[-1] if lines else (result.stdout + result.stderr).strip()[-200:]
    return Outcome(result.returncode == 0 and text.startswith("ok:"), text)
