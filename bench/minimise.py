"""How close is a generated header to the smallest one that still works?

    .venv/bin/python bench/minimise.py [--scenario NAME ...] [--line 2.28|3.6]

For each end-to-end scenario (tests/e2e_scenarios.py) a greedy minimiser starts from the
header configgen generates and, one option at a time in header order, drops it (or halves a
size: IN/OUT_CONTENT_LEN, MPI_MAX_SIZE) while mbedTLS still compiles with it and the client
still completes the handshake and round trip against the real server. It prints the
Cortex-M4 ROM of the client (bench/e2e_footprint.py) with the generated and with the
minimal header, and generated / minimal. Target: within 10 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from configgen import kb as knowledge  # noqa: E402
from configgen import mbedbuild, sources  # noqa: E402
from configgen import profile as profiles  # noqa: E402
from configgen.errors import ConfiggenError  # noqa: E402
from configgen.generate import generate  # noqa: E402
from configgen.model.options import OptionSet  # noqa: E402
from configgen.render import HeaderContext, render_header  # noqa: E402
from e2e_footprint import rom  # noqa: E402
from e2e_scenarios import SCENARIOS, started  # noqa: E402
from handshake import build_client, integration_arguments, run_client  # noqa: E402

SHRINKABLE = {"MBEDTLS_SSL_IN_CONTENT_LEN": 256, "MBEDTLS_SSL_OUT_CONTENT_LEN": 256,
              "MBEDTLS_MPI_MAX_SIZE": 32}
KEEP = {"MBEDTLS_SSL_CIPHERSUITES"}


def works(tree, kb, options: OptionSet, header_mfl: list[str], run) -> bool:
    header = render_header(options, kb, HeaderContext("minimise", "bench/minimise.py"))
    try:
        mbedbuild.check_config(tree, header)
        with tempfile.TemporaryDirectory() as tmp:
            client = build_client(tree, header, Path(tmp) / "client")
            return run(client, header_mfl).ok
    except (mbedbuild.BuildError, AssertionError):
        return False


def minimise(tree, kb, options: OptionSet, mfl: list[str], run) -> OptionSet:
    current = options
    for setting in options.settings:
        if setting.name in KEEP:
            continue
        if setting.name in SHRINKABLE:
            value = int(setting.value or 0)
            while value // 2 >= SHRINKABLE[setting.name]:
                smaller = dataclasses.replace(setting, value=str(value // 2))
                trial = dataclasses.replace(current, settings=tuple(
                    smaller if s.name == setting.name else s for s in current.settings))
                if not works(tree, kb, trial, mfl, run):
                    break
                current, value = trial, value // 2
            continue
        trial = dataclasses.replace(current, settings=tuple(s for s in current.settings if s.name != setting.name))
        if works(tree, kb, trial, mfl, run):
            current = trial
    return current


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="only these scenarios")
    parser.add_argument("--line", action="append", choices=("2.28", "3.6"))
    args = parser.parse_args()
    print(f"{'scenario':28} {'line':5} {'options':>9} {'ROM gen':>9} {'ROM min':>9} {'gen/min':>8}  dropped")
    for scenario in SCENARIOS:
        if args.scenario and scenario.name not in args.scenario:
            continue
        for line in args.line or ("2.28", "3.6"):
            tree, kb = sources.find_tree(line), knowledge.load(line)
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                with started(scenario, line, work / "server") as started_run:
                    try:
                        generated = generate(profiles.load(started_run.profile), "mbedtls_config.h")
                    except ConfiggenError:
                        continue
                    files, client_args, port = started_run.files, started_run.client_args, started_run.port
                    mfl = integration_arguments(generated.text)

                    def run(client, extra, port=port, ca=files.ca, client_args=client_args):
                        return run_client(client, port, ca, *client_args, *extra)

                    minimal = minimise(tree, kb, generated.options, mfl, run)
                minimal_header = render_header(minimal, kb, HeaderContext("minimise", "bench/minimise.py"))
                auth = files.client_cert is not None
                rom_gen = rom(tree, generated.text, auth, work)
                rom_min = rom(tree, minimal_header, auth, work)
                gone = sorted(generated.options.names() - minimal.names())
                shrunk = [f"{s.name.removeprefix('MBEDTLS_')}={s.value}" for s in minimal.settings
                          if s.name in SHRINKABLE and s.value != generated.options.get(s.name).value]
                print(f"{scenario.name:28} {line:5} {len(generated.options.settings):4}->{len(minimal.settings):<4} "
                      f"{rom_gen / 1024:8.1f}K {rom_min / 1024:8.1f}K {rom_gen / rom_min:8.2f}  "
                      f"{', '.join(n.removeprefix('MBEDTLS_') for n in gone + shrunk) or '-'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
