"""generate --check: what regenerating a file would change, in a reviewer's terms (pure).

A header is read as `configgen diff` reads it (the options that change and why); an SDK
fragment (sdkconfig.defaults, prj.conf) as the CONFIG_ lines that go and come.
"""

from __future__ import annotations

from pathlib import Path

from configgen import headerfile
from configgen.advise.causes import Security
from configgen.advise.diff import diff
from configgen.kb.model import KnowledgeBase
from configgen.model.findings import Stale


def stale(path: str, old: str | None, new: str, kb: KnowledgeBase, security: Security) -> Stale:
    """What regenerating `path` (holding `old`, None when there is no such file) into `new`
    changes; `kb` is the line of the header."""
    if old is None:
        return Stale(path, False)
    if Path(path).suffix == ".h":
        found = diff(headerfile.parse(old, path), headerfile.parse(new, f"{path} (regenerated)"), kb, security)
        return Stale(path, True, found)
    was, now = _settings(old), _settings(new)
    return Stale(path, True, removed=tuple(sorted(was - now)), added=tuple(sorted(now - was)))


def _settings(body: str) -> set[str]:
    return {row for row in body.splitlines() if row.startswith("CONFIG_")}
