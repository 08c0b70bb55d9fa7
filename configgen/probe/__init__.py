"""Probe a TLS server: what it accepts and sends, as ServerFacts an mbedTLS config is built from.

plan (what to ask, pure) -> transport (one connection, the only socket code) -> fold
(observations to facts, pure); runner runs every independent connection at once, and
verdict judges each answer against what it answers. See docs/probe-snapshot.md for the
snapshot format.
"""

from configgen.probe.facts import ServerFacts
from configgen.probe.plan import Candidate, Target
from configgen.probe.runner import probe
from configgen.probe.transport import Timeouts

__all__ = ["Candidate", "ServerFacts", "Target", "Timeouts", "probe"]
