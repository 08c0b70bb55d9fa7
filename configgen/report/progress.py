"""What a long-running command is doing, on one line it rewrites: silent off a terminal.

    with ProgressLine() as progress:
        found = verify(..., progress=progress.step)            # "compiling mbedTLS 3.6.6 ..."
        facts = probe(..., progress=progress.probing(where))   # "probing host:443: 12 connections (...)"

The line goes to stderr (or the stream given) only when that stream is a terminal, so
piped output and logs never hold it; leaving the `with` block erases it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

_ERASE = "\r\033[K"  # back to the start of the line, and clear it


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, indent: str = ""):
        self._stream = sys.stderr if stream is None else stream
        self._shown = self._stream.isatty()
        self._indent = indent

    def show(self, text: str) -> None:
        """Replace the line with `text`."""
        if self._shown:
            self._stream.write(f"{_ERASE}{self._indent}{text}")
            self._stream.flush()

    def step(self, doing: str) -> None:
        """A step that takes a while: "compiling mbedTLS 3.6.6 with the header ..."."""
        self.show(f"{doing} ...")

    def probing(self, where: str) -> Callable[[int, str], None]:
        """The probe's callback (configgen.probe.runner.Progress) for the server `where`."""
        return lambda connections, question: self.show(
            f"probing {where}: {connections} connections ({question})")

    def clear(self) -> None:
        if self._shown:
            self._stream.write(_ERASE)
            self._stream.flush()

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.clear()
