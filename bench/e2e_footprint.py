"""Footprint of the end-to-end scenarios: the generated header against mbedTLS's default.

    .venv/bin/python bench/e2e_footprint.py [--scenario NAME ...] [--app-records-unknown]

For each scenario of tests/e2e_scenarios.py and each line configgen generates a header for:
- ROM: text+data+bss of a small device client (configgen/data/footprint_client.c) linked for
  Cortex-M4 (arm-none-eabi-gcc -Os -mthumb, -ffunction-sections -fdata-sections,
  --gc-sections, newlib-nano), with the generated header and with mbedTLS's default config,
  both made bare-metal buildable as bench/footprint.py does;
- heap: the peak heap of one real handshake and round trip on the host (valgrind massif),
  with the generated header and with the default config.
Targets: ROM <= 0.35x and heap <= 0.6x the default. The scenarios' profiles declare what
their application receives (app_record_max), as a wizard user would;
--app-records-unknown measures as if they did not.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from configgen import footprint, handshake, sources  # noqa: E402
from configgen import profile as profiles  # noqa: E402
from configgen.errors import ConfiggenError  # noqa: E402
from configgen.generate import generate  # noqa: E402
from e2e_scenarios import SCENARIOS, started  # noqa: E402
from handshake import build_client, integration_arguments  # noqa: E402
from probe_servers import LOOPBACK  # noqa: E402


def rom(tree, header: str, client_auth: bool, work: Path) -> int:
    """text+data+bss of the device client linked with mbedTLS built from `header`."""
    return footprint.firmware(tree, footprint.bare_metal(tree, header), client_auth, work).total


def peak_heap(client: Path, port: int, ca: Path, args: list[str]) -> tuple[int, str]:
    """Peak heap bytes of one client run under valgrind massif, and how the run ended."""
    outcome = handshake.run_client(client, LOOPBACK, port, ca, args, timeout=300, heap=True)
    return outcome.heap_peak or 0, outcome.text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="only these scenarios")
    parser.add_argument("--app-records-unknown", action="store_true",
                        help="as if no profile declared app_record_max: 16 KiB input buffers "
                        "unless max_fragment_length is negotiated")
    args = parser.parse_args()
    print(f"{'scenario':28} {'line':5} {'ROM gen':>9} {'ROM def':>9} {'ratio':>6}  "
          f"{'heap gen':>9} {'heap def':>9} {'ratio':>6}  default run")
    for scenario in SCENARIOS:
        if args.scenario and scenario.name not in args.scenario:
            continue
        if args.app_records_unknown:
            scenario = dataclasses.replace(scenario, app_record_max=None)
        for line in ("2.28", "3.6"):
            tree = sources.find_tree(line)
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                with started(scenario, line, work / "server") as run:
                    try:
                        header = generate(profiles.load(run.profile), "mbedtls_config.h").text
                    except ConfiggenError:
                        continue  # configgen stops: nothing to measure (tests/test_e2e.py)
                    files, client_args, port = run.files, list(run.client_args), run.port
                    default_header = tree.config_header.read_text()
                    generated = build_client(tree, header, work / "gen-client")
                    default = build_client(tree, default_header, work / "default-client")
                    heap_gen, _ = peak_heap(generated, port, files.ca, client_args + integration_arguments(header))
                    heap_def, default_end = peak_heap(default, port, files.ca, client_args)
                auth = files.client_cert is not None
                rom_gen, rom_def = rom(tree, header, auth, work), rom(tree, default_header, auth, work)
                print(f"{scenario.name:28} {line:5} {rom_gen / 1024:8.1f}K {rom_def / 1024:8.1f}K {rom_gen / rom_def:6.2f}  "
                      f"{heap_gen / 1024:8.1f}K {heap_def / 1024:8.1f}K {heap_gen / heap_def:6.2f}  {default_end}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
