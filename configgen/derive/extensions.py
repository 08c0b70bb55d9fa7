"""The TLS extensions a server uses that the device must send (EMS, SNI, ALPN, ETM, ...),
and those it chokes on (forbidden)."""

from __future__ import annotations

from typing import Sequence

from configgen.errors import ResolveConflict
from configgen.kb.model import KnowledgeBase
from configgen.model.facts import ServerFacts
from configgen.model.profile import Margin, Policy, Server
from configgen.model.requirements import Forbid, Need, Requirement
from configgen.derive.inputs import requirement


# Extension names (as the probe reports them) -> the option that makes mbedTLS send them.
_EXTENSION_OPTIONS = {
    "server_name": "MBEDTLS_SSL_SERVER_NAME_INDICATION",
    "extended_master_secret": "MBEDTLS_SSL_EXTENDED_MASTER_SECRET",
    "encrypt_then_mac": "MBEDTLS_SSL_ENCRYPT_THEN_MAC",
    "session_ticket": "MBEDTLS_SSL_SESSION_TICKETS",
    "max_fragment_length": "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH",
    "application_layer_protocol_negotiation": "MBEDTLS_SSL_ALPN",
    "record_size_limit": "MBEDTLS_SSL_RECORD_SIZE_LIMIT",
}


def extension_needs(server: Server, facts: ServerFacts, kb: KnowledgeBase, versions: Sequence[str],
                    suites: Sequence[int], policy: Policy) -> list[Requirement]:
    ext = facts.extensions
    name = server.name
    blamed = set(facts.intolerance.blamed)
    found = []
    if "1.2" in versions and ext.extended_master_secret and "extended_master_secret" not in blamed:
        found.append(requirement(Need.FEATURE, "ems", f"{name}: supports extended master secret (RFC 7627)"))
    if ext.sni_required or ext.sni_changes_chain or policy.margin is Margin.BALANCED or server.sni:
        if "server_name" in blamed:
            raise ResolveConflict("the server needs SNI but chokes on the server_name extension", where=name)
        why = ("refuses the handshake without SNI" if ext.sni_required else
               "sends another chain without SNI" if ext.sni_changes_chain else
               f"[server].sni = {server.sni!r}" if server.sni else "balanced: send SNI")
        found.append(requirement(Need.FEATURE, "sni", f"{name}: {why}"))
    if server.alpn:
        found.append(requirement(Need.FEATURE, "alpn", f"{name}: ALPN {', '.join(server.alpn)}"
                                 + (f" (the server chose {ext.alpn})" if ext.alpn else "")))
    cbc = any("cbc" in suite.flags for s in suites if (suite := kb.suite(s)) is not None)
    if cbc and ext.encrypt_then_mac and "encrypt_then_mac" not in blamed:
        found.append(requirement(Need.FEATURE, "etm", f"{name}: supports encrypt-then-MAC for its CBC suite"))
    return found


def intolerance_forbids(server: Server, facts: ServerFacts) -> list[Forbid]:
    return [
        Forbid(_EXTENSION_OPTIONS[ext], f"{server.name}: the server chokes on the {ext} extension")
        for ext in facts.intolerance.blamed
        if ext in _EXTENSION_OPTIONS
    ]
