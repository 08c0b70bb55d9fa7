"""ServerFacts: what a probe observed of one server, and its JSON form (the snapshot).

Facts are observations only, never advice. Every collection is a tuple so facts compare
and hash; `to_json()` gives a dict with a stable key order (the order of the fields here),
and `from_json()` reads it back, rejecting what it does not understand. The schema is
documented in docs/probe-snapshot.md; bump SCHEMA when a field changes meaning.
"""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from configgen.errors import ProbeError
from configgen.model.endpoint import endpoint
from configgen.model.plain import plain

SCHEMA = "configgen-probe/1"


class Status(str, Enum):
    """How one connection ended."""

    ANSWERED = "answered"  # a well-formed server flight
    REFUSED = "refused"  # a TLS alert
    CLOSED = "closed"  # the server closed the connection without an alert
    RESET = "reset"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"  # bytes that are not TLS
    VIOLATION = "violation"  # a ServerHello choosing what the ClientHello did not offer
    UNREACHABLE = "unreachable"  # no TCP connection


@dataclass(frozen=True)
class Suite:
    id: int
    name: str


@dataclass(frozen=True)
class KeyExchangeFact:
    """ServerKeyExchange parameters seen for one accepted suite's key exchange."""

    key_exchange: str  # "ECDHE_RSA", "DHE_RSA", ...
    curve: str | None
    dh_prime_bits: int | None
    signature_scheme: str | None


@dataclass(frozen=True)
class HandshakeSize:
    message: str  # "Certificate", "ServerKeyExchange", ...
    size: int  # header included: what mbedTLS must hold at once
    records: int  # > 1 when the server split it over several records


@dataclass(frozen=True)
class SizeFacts:
    """Sizes of the server's handshake flight (TLS 1.2 in the clear, TLS 1.3 decrypted)."""

    largest_record: int  # plaintext bytes of the largest TLS 1.2 handshake record
    largest_message: HandshakeSize | None  # over TLS 1.2 and TLS 1.3
    messages: tuple[HandshakeSize, ...]  # the TLS 1.2 flight
    tls13_largest_record: int | None  # plaintext of the largest encrypted handshake record
    tls13_messages: tuple[HandshakeSize, ...] = ()  # the encrypted TLS 1.3 flight, decrypted


@dataclass(frozen=True)
class ClientAuthFacts:
    certificate_types: tuple[str, ...]
    signature_schemes: tuple[str, ...]
    authorities: tuple[bytes, ...]  # DER distinguished names
    # Whether it refuses a handshake without a client certificate (None: not determined).
    required: bool | None = None


@dataclass(frozen=True)
class ExtensionFacts:
    """Extensions the server answered (None: could not be determined)."""

    sni_required: bool | None  # refuses TLS 1.2 without server_name (None: no TLS 1.2)
    sni_changes_chain: bool | None  # a different chain without server_name
    extended_master_secret: bool | None
    encrypt_then_mac: bool | None  # None when no CBC suite is accepted
    session_ticket: bool | None
    renegotiation_info: bool | None
    ocsp_stapling: bool | None
    record_size_limit: int | None
    alpn: str | None  # the protocol chosen among those asked for
    alpn_refused: bool | None  # the handshake ends when offered only those protocols
    max_fragment_lengths: tuple[int, ...]  # sizes the server honours


@dataclass(frozen=True)
class IntoleranceFacts:
    """How the server takes the ClientHello the target mbedTLS line sends by default."""

    default_hello: Status
    blamed: tuple[str, ...]  # extensions whose removal lets the handshake proceed
    detail: str


@dataclass(frozen=True)
class ProbeAttempt:
    """A question that went unanswered, and why."""

    question: str
    status: Status
    detail: str


@dataclass(frozen=True)
class ServerFacts:
    schema: str
    host: str
    port: int
    sni: str | None
    mbedtls: str  # the line whose suites were the candidates
    candidates: int  # how many TLS 1.2 suites were offered
    versions: tuple[str, ...]  # accepted protocol versions, "1.0".."1.3"
    server_preference: bool | None  # the server imposes its own suite order
    tls12_suites: tuple[Suite, ...]  # accepted, in the server's order when server_preference
    tls13_suites: tuple[Suite, ...]
    tls12_curves: tuple[str, ...]  # ECDHE groups, in the order the server chose them
    tls13_groups: tuple[str, ...]
    tls13_retry: bool | None  # HelloRetryRequest for an x25519 key share (3.6's default)
    key_exchanges: tuple[KeyExchangeFact, ...]
    certificate_chain: tuple[bytes, ...]  # DER, as sent (in TLS 1.2, else in TLS 1.3)
    sizes: SizeFacts | None
    client_auth: ClientAuthFacts | None  # None: no CertificateRequest
    extensions: ExtensionFacts
    intolerance: IntoleranceFacts
    attempts: tuple[ProbeAttempt, ...]
    connections: int

    @property
    def where(self) -> str:
        """host:port, an IPv6 address in brackets."""
        return endpoint(self.host, self.port)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict in field order; bytes as base64."""
        data: dict[str, Any] = plain(self)
        return data

    @classmethod
    def from_json(cls, data: Any) -> ServerFacts:
        """Facts from a snapshot dict; ProbeError when it is not one this configgen reads."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ProbeError(
                f"not a configgen probe snapshot of schema {SCHEMA} (found {found!r})",
                hint="re-record it with 'configgen probe HOST -o FILE'",
            )
        try:
            facts: ServerFacts = _load(cls, data, "snapshot")
        except (TypeError, ValueError, KeyError) as error:
            raise ProbeError(f"malformed probe snapshot: {error}") from None
        return facts


def _load(kind: Any, data: Any, where: str) -> Any:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise TypeError(f"{where}: expected an object")
        hints = typing.get_type_hints(kind)
        fields = dataclasses.fields(kind)
        unknown = set(data) - {f.name for f in fields}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        # A field added to the schema later has a default: older snapshots still load.
        required = {f.name for f in fields if f.default is dataclasses.MISSING}
        missing = required - set(data)
        if missing:
            raise ValueError(f"{where}: missing keys {sorted(missing)}")
        return kind(**{name: _load(hints[name], value, f"{where}.{name}")
                       for name, value in data.items()})
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _load(inner, data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError(f"{where}: expected a list")
        return tuple(_load(typing.get_args(kind)[0], v, where) for v in data)
    if kind is bytes:
        if not isinstance(data, str):
            raise TypeError(f"{where}: expected base64 text")
        return base64.b64decode(data, validate=True)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if kind in (int, str, bool):
        if type(data) is not kind:
            raise TypeError(f"{where}: expected {kind.__name__}")
        return data
    raise TypeError(f"{where}: unsupported type {kind}")
