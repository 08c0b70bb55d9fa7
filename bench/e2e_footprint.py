"""Footprint of the end-to-end scenarios: the generated header against mbedTLS's default.

    .venv/bin/python bench/e2e_footprint.py [--scenario NAME ...]

For each scenario of tests/e2e_scenarios.py and each line configgen generates a header for:
- ROM: text+data+bss of a small device client (bench/footprint_client.c) linked for
  Cortex-M4 (arm-none-eabi-gcc -Os -mthumb, -ffunction-sections -fdata-sections,
  --gc-sections, newlib-nano), with the generated header and with mbedTLS's default config,
  both made bare-metal buildable as bench/footprint.py does;
- heap: the peak heap of one real handshake and round trip on the host (valgrind massif),
  with the generated header and with the default config.
Targets: ROM <= 0.35x and heap <= 0.6x the default.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from configgen import mbedbuild, sources  # noqa: E402
from configgen import profile as profiles  # noqa: E402
from configgen.errors import ConfiggenError  # noqa: E402
from configgen.generate import generate  # noqa: E402
from e2e_scenarios import SCENARIOS, started  # noqa: E402
from footprint import CFLAGS, bare_metal  # noqa: E402
from handshake import build_client, mfl_arguments  # noqa: E402

LINK = ("-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs")


def rom(tree, header: str, client_auth: bool, work: Path) -> int:
    """text+data+bss of the device client linked with mbedTLS built from `header`."""
    library = mbedbuild.build_library(tree, bare_metal(tree, header), cc="arm-none-eabi-gcc",
                                      cflags=CFLAGS, ar="arm-none-eabi-ar")
    elf = work / "client.elf"
    extra = ("-DCONFIGGEN_CLIENT_AUTH",) if client_auth else ()
    subprocess.run(
        ["arm-none-eabi-gcc", *CFLAGS, *extra, *library.include_flags(), str(HERE / "footprint_client.c"),
         str(HERE / "footprint_board.c"), str(library.archive), *LINK, "-o", str(elf)],
        check=True, capture_output=True, text=True,
    )
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in out.stdout.splitlines()[1].split()[:3])
    return text + data + bss


def peak_heap(client: Path, port: int, ca: Path, args: list[str], work: Path) -> tuple[int, str]:
    """Peak heap bytes of one client run under valgrind massif, and how the run ended."""
    out = work / "massif.out"
    result = subprocess.run(
        ["valgrind", "--tool=massif", "--pages-as-heap=no", f"--massif-out-file={out}",
         str(client), "127.0.0.1", str(port), str(ca), *args],
        capture_output=True, text=True, timeout=300,
    )
    heap = [int(a) + int(b) for a, b in re.findall(r"mem_heap_B=(\d+)\nmem_heap_extra_B=(\d+)", out.read_text())]
    ended = next((line for line in result.stdout.splitlines() if line.startswith(("ok:", "error"))), "?")
    return max(heap, default=0), ended


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="only these scenarios")
    args = parser.parse_args()
    print(f"{'scenario':28} {'line':5} {'ROM gen':>9} {'ROM def':>9} {'ratio':>6}  "
          f"{'heap gen':>9} {'heap def':>9} {'ratio':>6}  default run")
    for scenario in SCENARIOS:
        if args.scenario and scenario.name not in args.scenario:
            continue
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
                    heap_gen, _ = peak_heap(generated, port, files.ca, client_args + mfl_arguments(header), work)
                    heap_def, default_end = peak_heap(default, port, files.ca, client_args, work)
                auth = files.client_cert is not None
                rom_gen, rom_def = rom(tree, header, auth, work), rom(tree, default_header, auth, work)
                print(f"{scenario.name:28} {line:5} {rom_gen / 1024:8.1f}K {rom_def / 1024:8.1f}K {rom_gen / rom_def:6.2f}  "
                      f"{heap_gen / 1024:8.1f}K {heap_def / 1024:8.1f}K {heap_gen / heap_def:6.2f}  {default_end}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
