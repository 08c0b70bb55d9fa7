"""What a suite and group cost the device, estimated from measured weights. Pure.

Three costs, as the board weighs them (`priority` in its profile): flash, the code the
options a candidate adds bring (configgen/advise/sizes.toml: library text per module option,
measured by tests/test_review_sizes.py); compute and heap, one handshake's instructions and
peak heap with the candidate's key exchange on its group or DH prime (configgen/data/costs.toml,
measured by bench/suite_costs.py against reference chains, RSA-2048 or P-256); and "future",
whether the next mbedTLS line still has the key exchange (configgen/data/next_line.toml).
DH primes between or beyond the measured sizes follow the power law of the nearest two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

from configgen import resources
from configgen.advise import causes

# Differences smaller than these are ties, and the next criterion decides: 1 % of a
# handshake's instructions, or a few hundred bytes, do not decide a device's suite.
TIE = 0.02  # of instructions
TIE_BYTES = {"flash": 512, "heap": 256}


@lru_cache(maxsize=None)
def _data(name: str) -> Mapping[str, Any]:
    return resources.read_toml(name)


def _sizes(line: str) -> Mapping[str, int]:
    return causes.sizes().get(line, {})  # the advisor's table of measured module sizes


def removed_next(key_exchange: str) -> bool:
    return key_exchange in _data("data/next_line.toml")["removed_key_exchanges"]


def next_line() -> str:
    return str(_data("data/next_line.toml")["line"])


@dataclass(frozen=True)
class Cost:
    flash: int  # bytes of code the candidate's options add (module options measured)
    compute: int | None  # instructions of one handshake, when measured for its key exchange
    heap: int | None  # peak heap bytes of one handshake
    removed: bool  # the next mbedTLS line removed its key exchange

    def compare(self, other: Cost, priority: Iterable[str]) -> int:
        """-1 when this candidate is better under the board's priority, 1 when `other` is,
        0 when they tie on every criterion (within TIE)."""
        for criterion, mine, theirs in zip(priority, self.key(priority), other.key(priority)):
            tie = TIE_BYTES.get(criterion, TIE * max(abs(mine), abs(theirs)) if criterion == "compute" else 0)
            if abs(mine - theirs) > tie:
                return -1 if mine < theirs else 1
        return 0

    def key(self, priority: Iterable[str]) -> tuple[int, ...]:
        """The ranking key under a board's priority: smaller is better."""
        value = {"future": int(self.removed), "flash": self.flash,
                 "compute": self.compute if self.compute is not None else 1 << 62,
                 "heap": self.heap if self.heap is not None else 1 << 62}
        return tuple(value[c] for c in priority)

    def describe(self, against: Cost | None = None) -> str:
        """In words; against another candidate, its code as the difference."""
        parts = []
        if against is not None:
            delta = self.flash - against.flash
            parts.append(f"{'+' if delta >= 0 else '-'}{abs(delta) / 1024:.1f} KiB of code")
        if self.compute is not None:
            parts.append(f"~{self.compute / 1e6:.0f} M instructions for a reference handshake")
        if self.heap is not None:
            parts.append(f"{self.heap / 1024:.1f} KiB peak heap")
        if self.removed:
            parts.append(f"removed in mbedTLS {next_line()}")
        return ", ".join(parts) or "not measured"


# Flags (curves, key exchanges, protocol features) have no library object of their own in
# advise/sizes.toml; each is counted as this much code, about what a curve's or a key
# exchange's code in ecp_curves.c / ssl_*_client.c takes (bench/footprint.py measures the
# real difference between single-suite headers).
UNMEASURED_OPTION = 1024


def flash(line: str, added: Iterable[str]) -> int:
    sizes = _sizes(line)
    return sum(int(sizes.get(name, UNMEASURED_OPTION)) for name in added)


def _measured(line: str, key_exchange: str) -> Mapping[str, Mapping[str, int]]:
    table: Mapping[str, Mapping[str, int]] = _data("data/costs.toml").get(line, {}).get(key_exchange, {})
    return table


# The suites the key exchange rows were measured with (bench/suite_costs.py): the AEAD
# tables say what another suite's record protection adds to them.
TLS13_REFERENCE = "TLS1-3-AES-128-GCM-SHA256"
TLS12_REFERENCE = "AES-128-GCM"


def cipher_of(suite: Any) -> str:
    """A TLS 1.2 suite's record protection as the costs table names it ("AES-128-GCM")."""
    return f"{suite.cipher}-{suite.key_bits}-{suite.mode}"


def _delta(table: Mapping[str, Mapping[str, int]], mine: str, reference: str) -> tuple[int, int]:
    if mine not in table or reference not in table:
        return 0, 0
    return (int(table[mine]["instructions"]) - int(table[reference]["instructions"]),
            int(table[mine]["heap"]) - int(table[reference]["heap"]))


def record_protection(line: str, version: str, suite: Any) -> tuple[int, int]:
    """What a suite's AEAD adds to the reference suite's handshake (instructions, heap)."""
    if version == "1.3":
        return _delta(_measured(line, "TLS1_3_SUITE"), suite.name, TLS13_REFERENCE)
    return _delta(_measured(line, "TLS1_2_CIPHER"), cipher_of(suite), TLS12_REFERENCE)


def handshake(line: str, key_exchange: str, on: str | int | None) -> tuple[int | None, int | None]:
    """(instructions, heap) of a handshake with this key exchange on a group or DH prime size."""
    table = _measured(line, key_exchange)
    if not table:
        return None, None
    if on is not None and str(on) in table:
        entry = table[str(on)]
        return int(entry["instructions"]), int(entry["heap"])
    sizes = sorted(int(k) for k in table if k.isdigit())
    if isinstance(on, int) and len(sizes) == 1:
        entry = table[str(sizes[0])]
        return int(entry["instructions"]), int(entry["heap"])
    if isinstance(on, int) and len(sizes) >= 2:
        low, high = (sizes[-2], sizes[-1]) if on > sizes[-1] else next(
            ((a, b) for a, b in zip(sizes, sizes[1:]) if a <= on <= b), (sizes[0], sizes[1]))
        a, b = table[str(low)], table[str(high)]
        exponent = math.log(b["instructions"] / a["instructions"]) / math.log(high / low)
        growth = math.log(b["heap"] / a["heap"]) / math.log(high / low)
        return (int(a["instructions"] * (on / low) ** exponent), int(a["heap"] * (on / low) ** growth))
    return None, None
