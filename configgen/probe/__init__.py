"""Probe a TLS server: what it accepts and sends, as the ServerFacts (configgen.model.facts) an
mbedTLS config is built from.

plan (what to ask, pure) -> transport (one connection, the only socket code besides
clientauth) -> fold (observations to facts, pure); runner runs every independent connection
at once, and verdict judges each answer against what it answers. See docs/probe-snapshot.md
for the snapshot format.

May import the errors module, the model floor and the knowledge base; never the commands,
the wizard or the stages after the facts (derive, resolve, render). The names below load on
first use, so reading a snapshot does not import the prober.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from configgen.probe.plan import Candidate, Target
    from configgen.probe.runner import probe
    from configgen.probe.transport import Timeouts

_WHERE = {
    "Candidate": "configgen.probe.plan",
    "Target": "configgen.probe.plan",
    "probe": "configgen.probe.runner",
    "Timeouts": "configgen.probe.transport",
}

__all__ = ["Candidate", "Target", "Timeouts", "probe"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
