"""How long configgen takes to start: whole-process wall time, median of runs.

    python bench/startup.py [--runs N] [--root DIR ...] [--case NAME ...]

Runs `python -m configgen --version` and `python -m configgen generate --offline --profile
tests/golden/<case>/profile.toml` (by default the first golden case, as
tests/test_golden.py's subprocess test runs it; --case names others; the header goes to
stdout, discarded) N times each (default 15),
interleaved, and prints the median wall time and CPU time (user + system) of each. Every
--root is a checkout to measure (default: this one), so `--root /path/to/old --root .`
prints before and after side by side.

Bytecode is written to a temporary PYTHONPYCACHEPREFIX and one warm-up run precedes the
measured ones: an installed configgen has its .pyc files, whatever PYTHONDONTWRITEBYTECODE
says here. Targets (issue 14): --version under 0.1 s, generate --offline under 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"--version": 0.1, "generate": 0.3}


def commands(root: Path, cases: list[str] | None) -> dict[str, list[str]]:
    golden = root / "tests" / "golden"
    names = cases or [min(p.name for p in golden.iterdir() if (p / "profile.toml").is_file())]
    found = {"--version": ["--version"]}
    for name in names:
        found[f"generate {name}"] = ["generate", "--offline", "--profile", str(golden / name / "profile.toml")]
    return found


def once(root: Path, argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process (run in `root`: -m looks there first)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "configgen", *argv], env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"configgen {' '.join(argv)} failed in {root}:\n{result.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs per command (default 15)")
    parser.add_argument("--root", type=Path, action="append",
                        help="a configgen checkout to measure (repeatable; default: this one)")
    parser.add_argument("--case", action="append",
                        help="a golden case to generate offline (repeatable; default: the first)")
    args = parser.parse_args()
    roots = [r.resolve() for r in args.root or [ROOT]]
    with tempfile.TemporaryDirectory(prefix="configgen-bench-pyc-") as cache:
        envs = {}
        for root in roots:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            envs[root] = {**env, "PYTHONPATH": str(root), "PYTHONPYCACHEPREFIX": f"{cache}/{len(envs)}"}
        plan = [(root, name, argv) for root in roots for name, argv in commands(root, args.case).items()]
        for root, _, argv in plan:
            once(root, argv, envs[root])  # warm-up: writes the bytecode
        times: dict[tuple[Path, str], list[tuple[float, float]]] = {(r, n): [] for r, n, _ in plan}
        for _ in range(args.runs):
            for root, name, argv in plan:
                times[root, name].append(once(root, argv, envs[root]))
    print(f"median of {args.runs} runs, {sys.executable} (load average {os.getloadavg()[0]:.2f})")
    for root, name, _ in plan:
        wall = statistics.median(w for w, _ in times[root, name])
        cpu = statistics.median(c for _, c in times[root, name])
        target = TARGETS[name.split()[0]]
        verdict = "ok" if wall < target else "over"
        print(f"  {name:<40} {wall:6.3f} s wall  {cpu:6.3f} s cpu   target < {target} s: "
              f"{verdict:<4}  {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
