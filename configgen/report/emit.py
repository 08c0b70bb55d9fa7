"""Print a result in the format asked for (--format text|json|markdown): the one place a
command's output is chosen and written."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence


def emit(fmt: str, *, text: Callable[[], Sequence[str]], json: Callable[[], str],
         markdown: Callable[[], str]) -> None:
    """Render the result only in `fmt` (text is lines; JSON and Markdown are documents) and
    write it to stdout, ending in one newline."""
    if fmt == "json":
        out = json()
    elif fmt == "markdown":
        out = markdown()
    else:
        out = "\n".join(text())
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
