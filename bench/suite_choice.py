"""The suite configgen chooses against every other suite the server accepts, measured.

    .venv/bin/python bench/suite_choice.py [--case NAME ...] [--line 2.28|3.6]

For each end-to-end scenario (tests/e2e_scenarios.py) and the zoo cases (tests/zoo.py) whose
servers accept many suites (--case names others), configgen's own choice and, for every
other accepted suite (on the group configgen would pair with it), a header generated with the
server's facts narrowed to that suite: linked Cortex-M4 flash of the device client
(bench/e2e_footprint.py's measure), peak heap (valgrind massif) and instructions (callgrind) of
one real handshake and round trip. Prints one row per suite, the chosen one marked, and a
verdict: "dominated" when another suite is no worse on all three and better on one, beyond
derive's ties (512 B of flash, 256 B of heap, 2 % of instructions; the choice must never
be), and which suite the board's priority picks from the measured figures, beside the one
configgen chose from its estimates.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from configgen import costs, handshake, headerfile, sources  # noqa: E402
from configgen import kb as knowledge  # noqa: E402
from configgen import profile as profiles  # noqa: E402
from configgen.derive import derive  # noqa: E402
from configgen.errors import ConfiggenError  # noqa: E402
from configgen.generate import gather  # noqa: E402
from configgen.render import HeaderContext, render_header  # noqa: E402
from configgen.resolve import resolve  # noqa: E402
from e2e_footprint import rom  # noqa: E402
from e2e_scenarios import SCENARIOS, Files as E2eFiles, Run, started  # noqa: E402
from zoo import CASES as ZOO  # noqa: E402
from handshake import build_client, integration_arguments  # noqa: E402
from probe_servers import LOOPBACK  # noqa: E402


# Zoo servers that accept many suites (a default run measures these beside the scenarios).
MULTI_SUITE_ZOO = ("openssl-rsa2048", "nginx-rsa3072", "go-p256-tls12", "openssl-dhe-only")


def _header(inputs, kb, suites=None) -> str:
    """The header for `inputs`, the first server's facts narrowed to `suites` when given."""
    if suites is not None:
        first = inputs.servers[0]
        facts = first.facts
        narrowed = dataclasses.replace(facts, tls12_suites=tuple(s for s in facts.tls12_suites if s.id in suites),
                                       tls13_suites=tuple(s for s in facts.tls13_suites if s.id in suites))
        inputs = dataclasses.replace(inputs, servers=(dataclasses.replace(first, facts=narrowed),) + inputs.servers[1:])
    return render_header(resolve(derive(inputs, kb), kb), kb, HeaderContext("bench", "bench"))


def _measure(tree, header: str, run, work: Path) -> tuple[int, int, int, str]:
    client = build_client(tree, header, work / "client")
    args = list(run.client_args) + integration_arguments(header)
    counted = handshake.run_client(client, LOOPBACK, run.port, run.files.ca, args, 600, count=True)
    heap = handshake.run_client(client, LOOPBACK, run.port, run.files.ca, args, 600, heap=True)
    flash = rom(tree, header, run.files.client_cert is not None, work)
    return flash, heap.heap_peak or 0, counted.instructions or 0, counted.text


def _tie(i: int, a: float, b: float) -> float:
    """derive's ties (configgen/costs.py) on the measured flash, heap and instructions."""
    return (costs.TIE_BYTES["flash"], costs.TIE_BYTES["heap"], costs.TIE * max(a, b))[i]


def _dominated(row, rows) -> bool:
    """Another suite no worse on flash, heap and instructions (beyond a tie) and clearly
    better on one of them."""
    return any(all(o <= r + _tie(i, o, r) for i, (o, r) in enumerate(zip(other[:3], row[:3])))
               and any(o < r - _tie(i, o, r) for i, (o, r) in enumerate(zip(other[:3], row[:3])))
               for other in rows)


@contextlib.contextmanager
def _zoo_started(case, line: str, work: Path):
    """A zoo case's server and the profile a user would write, as e2e_scenarios.started gives."""
    files = case.write(work / "pki")
    with case.server(files.server, work / "server") as port:
        profile = work / "tls.toml"
        profile.write_text(case.profile_text(files, port, line, work))
        args = ["--name", "localhost", *case.client_args]
        if files.client_cert and files.client_key:
            args += ["--cert", str(files.client_cert), "--key", str(files.client_key)]
        yield Run(port, E2eFiles(files.ca, files.client_cert, files.client_key), profile, tuple(args))


def _cases(names: list[str] | None):
    """(name, start) for the scenarios and zoo cases asked for (all scenarios and the zoo's
    multi-suite servers by default)."""
    found = [(s.name, lambda line, work, s=s: started(s, line, work)) for s in SCENARIOS
             if not names or s.name in names]
    found += [(c.name, lambda line, work, c=c: _zoo_started(c, line, work)) for c in ZOO
              if (c.name in names if names else c.name in MULTI_SUITE_ZOO)]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", help="only these scenarios / zoo cases")
    parser.add_argument("--line", action="append", choices=("2.28", "3.6"))
    args = parser.parse_args()
    print(f"{'scenario':28} {'line':5} {'suite':46} {'flash':>8} {'heap':>8} {'instructions':>14}  verdict")
    for name, start in _cases(args.case):
        for line in args.line or ["2.28", "3.6"]:
            tree = sources.find_tree(line)
            kb = knowledge.load(line)
            with tempfile.TemporaryDirectory() as tmp, start(line, Path(tmp) / "server") as run:
                profile = profiles.load(run.profile)
                try:
                    inputs = gather(profile)
                    chosen_header = _header(inputs, kb)
                except ConfiggenError:
                    continue  # configgen stops: nothing to choose (tests/test_e2e.py)
                chosen = headerfile.parse(chosen_header, "h").active()["MBEDTLS_SSL_CIPHERSUITES"]
                facts = inputs.servers[0].facts
                rows = []
                for seen in facts.tls12_suites + facts.tls13_suites:
                    suite = kb.suite(seen.id)
                    try:
                        header = _header(inputs, kb, {seen.id})
                    except ConfiggenError:
                        continue  # the policy refuses it, or the line cannot build it
                    work = Path(tmp) / f"s{seen.id:04x}"
                    work.mkdir()
                    flash, heap, instructions, text = _measure(tree, header, run, work)
                    if text.startswith("ok:"):
                        rows.append((flash, heap, instructions, suite.macro == chosen.split(",")[0], suite.name,
                                     costs.removed_next(suite.key_exchange)))
                for row in rows:
                    verdict = ("chosen; " if row[3] else "") + ("dominated" if _dominated(row, rows) else "not dominated")
                    print(f"{name:28} {line:5} {row[4]:46} {row[0] / 1024:7.1f}K {row[1] / 1024:7.1f}K "
                          f"{row[2]:14,}  {verdict}")
                chosen_row = next((r for r in rows if r[3]), None)
                if len(rows) > 1 and chosen_row is not None:
                    measured = {r: costs.Cost(r[0], r[2], r[1], r[5]) for r in rows}
                    best = min(rows, key=functools.cmp_to_key(
                        lambda a, b: measured[a].compare(measured[b], profile.board.priority)))
                    follows = measured[best].compare(measured[chosen_row], profile.board.priority) == 0
                    print(f"{'':34} board priority {', '.join(profile.board.priority)}: measured best "
                          f"{best[4]}; the choice {'ties with it' if follows else 'differs'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
