"""Run the configgen command line in-process (fast enough for hundreds of fuzz examples) or
as a subprocess (for what can block: FIFOs, Ctrl-C), and check the bad-input contract:
exit 2 (1 only for a finding), one line on stderr (plus hint lines) naming the input, no
traceback."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass

from configgen.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(*argv: str) -> Run:
    """configgen ARGV in this process (stdin empty)."""
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    try:
        sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        sys.stdin = stdin
    return Run(code, out.getvalue(), err.getvalue())


def run_process(*argv: str, timeout: float = 20) -> Run:
    """configgen ARGV as a child process, killed after `timeout` seconds."""
    done = subprocess.run([sys.executable, "-m", "configgen", *argv], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})
    return Run(done.returncode, done.stdout, done.stderr)


def one_line_error(run: Run, *names: str) -> str:
    """The one error line of a refused input; asserts the contract and that it names `names`."""
    assert run.code == 2, (run.code, run.err, run.out[:500])
    assert "Traceback" not in run.err, run.err
    lines = [line for line in run.err.splitlines() if not line.startswith("  hint:")]
    assert len(lines) == 1, run.err
    assert lines[0].startswith("configgen: "), run.err
    assert len(lines[0]) < 400, lines[0][:500]
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]
