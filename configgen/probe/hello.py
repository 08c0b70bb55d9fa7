"""ClientHellos, hand-encoded: any suite id, group or extension, in one deterministic byte string.

A `Hello` is the description of what one connection offers; `encode` turns it into the bytes
of a TLS record. Nothing here is random (fixed client random, key shares of fixed private
keys, see tls13.py), so the same Hello always gives the same bytes, and tests can compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from configgen.probe.names import (
    EXTENSION_CODES,
    MFL_SIZES,
    OFFERED_SIGNATURE_SCHEMES,
    VERSION_CODES,
)
from configgen.probe.tls13 import KEY_SHARES

# Extensions that carry no data or only a fixed body; toggled by name in Hello.flags.
FLAG_EXTENSIONS: dict[str, bytes] = {
    "ec_point_formats": b"\x01\x00",  # uncompressed only
    "status_request": b"\x01\x00\x00\x00\x00",  # OCSP, no responder ids, no extensions
    "encrypt_then_mac": b"",
    "extended_master_secret": b"",
    "session_ticket": b"",
    "psk_key_exchange_modes": b"\x01\x01",  # psk_dhe_ke
    "renegotiation_info": b"\x00",
}
# Every extension the probe can send, in the order it sends them.
EXTENSION_ORDER: tuple[str, ...] = (
    "server_name",
    "ec_point_formats",
    "supported_groups",
    "signature_algorithms",
    "status_request",
    "application_layer_protocol_negotiation",
    "max_fragment_length",
    "encrypt_then_mac",
    "extended_master_secret",
    "record_size_limit",
    "session_ticket",
    "supported_versions",
    "psk_key_exchange_modes",
    "key_share",
    "renegotiation_info",
)
CLIENT_RANDOM = bytes(range(0xC0, 0xE0))  # fixed: the probe never finishes a handshake
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF


@dataclass(frozen=True)
class Hello:
    """What one ClientHello offers. `flags` names FLAG_EXTENSIONS to include."""

    versions: tuple[str, ...]  # highest first: ("1.2",) or ("1.3",) or ("1.3", "1.2")
    suites: tuple[int, ...]
    groups: tuple[int, ...] = ()
    key_shares: tuple[int, ...] = ()
    signature_schemes: tuple[int, ...] = OFFERED_SIGNATURE_SCHEMES
    sni: str | None = None
    alpn: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    max_fragment_length: int | None = None  # 512, 1024, 2048 or 4096
    record_size_limit: int | None = None
    scsv: bool = False  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV after the suites

    def extension_names(self) -> tuple[str, ...]:
        """The extensions this Hello sends, in wire order."""
        present = set(self.flags)
        for name, on in (
            ("server_name", self.sni is not None),
            ("supported_groups", bool(self.groups)),
            ("signature_algorithms", bool(self.signature_schemes) and self.versions[0] != "1.0"),
            ("application_layer_protocol_negotiation", bool(self.alpn)),
            ("max_fragment_length", self.max_fragment_length is not None),
            ("record_size_limit", self.record_size_limit is not None),
            ("supported_versions", "1.3" in self.versions),
            ("key_share", "1.3" in self.versions),
        ):
            if on:
                present.add(name)
        return tuple(name for name in EXTENSION_ORDER if name in present)

    def without(self, extension: str) -> Hello:
        """The same Hello minus one extension (by name)."""
        if extension in self.flags:
            return replace(self, flags=self.flags - {extension})
        cleared: dict[str, dict[str, Any]] = {
            "server_name": {"sni": None},
            "supported_groups": {"groups": (), "key_shares": ()},
            "signature_algorithms": {"signature_schemes": ()},
            "application_layer_protocol_negotiation": {"alpn": ()},
            "max_fragment_length": {"max_fragment_length": None},
            "record_size_limit": {"record_size_limit": None},
        }
        return replace(self, **cleared.get(extension, {}))


def _vec(data: bytes, length_size: int) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _u16s(values: tuple[int, ...]) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def _extension_body(hello: Hello, name: str) -> bytes:
    if name in FLAG_EXTENSIONS:
        return FLAG_EXTENSIONS[name]
    if name == "server_name":
        assert hello.sni is not None
        entry = b"\x00" + _vec(hello.sni.encode("idna"), 2)
        return _vec(entry, 2)
    if name == "supported_groups":
        return _vec(_u16s(hello.groups), 2)
    if name == "signature_algorithms":
        return _vec(_u16s(hello.signature_schemes), 2)
    if name == "application_layer_protocol_negotiation":
        return _vec(b"".join(_vec(p.encode(), 1) for p in hello.alpn), 2)
    if name == "max_fragment_length":
        assert hello.max_fragment_length is not None
        return bytes([MFL_SIZES[hello.max_fragment_length]])
    if name == "record_size_limit":
        assert hello.record_size_limit is not None
        return hello.record_size_limit.to_bytes(2, "big")
    if name == "supported_versions":
        return _vec(_u16s(tuple(VERSION_CODES[v] for v in hello.versions)), 1)
    if name == "key_share":
        shares = b"".join(
            g.to_bytes(2, "big") + _vec(KEY_SHARES[g], 2) for g in hello.key_shares if g in KEY_SHARES
        )
        return _vec(shares, 2)
    raise ValueError(f"unknown extension {name!r}")


def encode(hello: Hello) -> bytes:
    """The TLS record carrying this ClientHello."""
    legacy = VERSION_CODES[min(hello.versions[0], "1.2")]
    suites = hello.suites + ((EMPTY_RENEGOTIATION_INFO_SCSV,) if hello.scsv else ())
    extensions = b"".join(
        EXTENSION_CODES[name].to_bytes(2, "big") + _vec(_extension_body(hello, name), 2)
        for name in hello.extension_names()
    )
    session_id = CLIENT_RANDOM if "1.3" in hello.versions else b""
    body = (
        legacy.to_bytes(2, "big")
        + CLIENT_RANDOM
        + _vec(session_id, 1)
        + _vec(_u16s(suites), 2)
        + b"\x01\x00"
        + (_vec(extensions, 2) if extensions else b"")
    )
    message = b"\x01" + _vec(body, 3)
    return b"\x16\x03\x01" + _vec(message, 2)
