"""What proving a header before it is written showed (configgen/prove.py): the handshake and
round trip with each server, or why it was not verified."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Proof:
    server: str
    suite: str  # what the handshake negotiated
    round_trip: bool  # False: the server did not answer the test message (protocol not known)


@dataclass(frozen=True)
class Proven:
    """What the banner says of the header's verification."""

    version: str | None  # of the tree it was built against; None: not verified
    proofs: tuple[Proof, ...] = ()
    skipped: str = ""  # why it was not verified

    def banner(self) -> tuple[str, ...]:
        if self.version is None:
            return (f"not verified: {self.skipped}",)
        return tuple(
            f"{p.server}: mbedTLS {self.version}, handshake {p.suite}"
            + (" and one round trip" if p.round_trip
               else " (the server did not answer the test message: round trip not tried)")
            for p in self.proofs)
