"""What derive is given besides the profile: certificates with where they came from, and each
server with what the probe saw of it and the chain it sends, parsed once at the edge."""

from __future__ import annotations

from dataclasses import dataclass

from configgen.model.certificates import CertFacts
from configgen.model.facts import ServerFacts
from configgen.model.profile import Server


@dataclass(frozen=True)
class Certificate:
    """A certificate and where it came from, as the header names it."""

    facts: CertFacts
    where: str  # "certs/root.pem" or "broker:8883 chain[1]"
    role: str  # "anchor" | "server" | "client"


@dataclass(frozen=True)
class ProbedServer:
    """A server of the profile, the facts the probe found (live or recorded), and the
    certificates it sends, in order, parsed (configgen.generate.probed)."""

    server: Server
    facts: ServerFacts
    sent: tuple[CertFacts, ...]  # every certificate of the chain, a self-signed root included

    @property
    def parsed(self) -> tuple[CertFacts, ...]:
        """The certificates mbedTLS must parse: it skips a self-signed root in the chain
        when it cannot parse it (ssl_tls.c)."""
        return tuple(c for c in self.sent if c.subject != c.issuer)
