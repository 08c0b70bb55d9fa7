"""Is an answer possible for the ClientHello it answers? (pure)

A ServerHello may only choose what its ClientHello offered: one of the versions, one of the
suites (of that version), a group offered (with the key share sent, in TLS 1.3), a curve
offered for ECDHE, the max_fragment_length asked for. An answer that chooses anything else
is a protocol violation: the observation becomes Status.VIOLATION with the reason, so it is
recorded as an attempt and never counts as accepting a suite, group or version. A server
that answers with a lower version than any offered (TLS 1.0 to a TLS 1.2-only hello) has not
violated TLS; it has refused that hello.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from configgen.model.facts import Status
from configgen.probe.hello import Hello
from configgen.probe.messages import ServerHello
from configgen.probe.names import (
    EXTENSION_CODES,
    GROUPS,
    MFL_SIZES,
    TLS13_SUITE_PREFIX,
    VERSION_CODES,
    VERSIONS,
    name_of,
)
from configgen.probe.observation import Observation, read_reply
from configgen.probe.plan import ecdhe_curve
from configgen.probe.tls13 import KEY_SHARES

_SUPPORTED_VERSIONS = EXTENSION_CODES["supported_versions"]
_MFL = EXTENSION_CODES["max_fragment_length"]


def judge(observation: Observation, kex: Mapping[int, str]) -> Observation:
    """The observation, or a VIOLATION (or REFUSED, for a lower version) when its answer
    chose what was not offered. `kex` maps suite ids to their mbedTLS key exchange."""
    if observation.status is not Status.ANSWERED:
        return observation
    reply = read_reply(observation.received)
    if reply.hello is None:
        return observation
    verdict = _verdict(observation, reply.hello, kex)
    if verdict is None:
        return observation
    status, detail = verdict
    return replace(observation, status=status, detail=detail)


def _version(code: int) -> str:
    return f"TLS {VERSIONS[code]}" if code in VERSIONS else f"version 0x{code:04X}"


def _verdict(observation: Observation, hello: ServerHello, kex: Mapping[int, str]
             ) -> tuple[Status, str] | None:
    asked = observation.job.hello
    offered = {VERSION_CODES[v] for v in asked.versions}
    offered_words = ", ".join(f"TLS {v}" for v in asked.versions)
    if hello.extension(_SUPPORTED_VERSIONS) is not None and "1.3" not in asked.versions:
        return Status.VIOLATION, "answered supported_versions, which the ClientHello did not send"
    version = hello.version
    if version < 0x0300 or version > max(offered) or (
            version == 0x0304 and hello.extension(_SUPPORTED_VERSIONS) is None):
        return Status.VIOLATION, f"chose {_version(version)}, which was not offered ({offered_words})"
    if hello.suite not in asked.suites:
        return Status.VIOLATION, f"chose suite 0x{hello.suite:04X}, which was not offered"
    if (hello.suite >> 8 == TLS13_SUITE_PREFIX) != (version == 0x0304):
        kind = "TLS 1.3" if hello.suite >> 8 == TLS13_SUITE_PREFIX else "TLS 1.2"
        return (Status.VIOLATION,
                f"chose the {kind} suite 0x{hello.suite:04X} in a {_version(version)} ServerHello")
    if version not in offered:
        return Status.REFUSED, f"answered {_version(version)}, below the versions offered ({offered_words})"
    if version == 0x0304:
        return _group13(asked, hello)
    return _curve12(observation, kex) or _mfl(asked, hello)


def _group13(asked: Hello, hello: ServerHello) -> tuple[Status, str] | None:
    shares = [g for g in asked.key_shares if g in KEY_SHARES]
    group = hello.group
    if group is None:
        return Status.VIOLATION, "sent a TLS 1.3 ServerHello without a key share"
    name = name_of(GROUPS, group)
    if group not in asked.groups:
        return Status.VIOLATION, f"chose group {name}, which was not offered"
    if hello.retry and group in shares:
        return Status.VIOLATION, f"asked again for a {name} key share, which was sent"
    if not hello.retry and group not in shares:
        return Status.VIOLATION, f"answered a {name} key share, which was not sent"
    return None


def _curve12(observation: Observation, kex: Mapping[int, str]) -> tuple[Status, str] | None:
    curve = ecdhe_curve(observation, kex)
    if curve is not None and curve not in observation.job.hello.groups:
        return (Status.VIOLATION,
                f"chose curve {name_of(GROUPS, curve)} for ECDHE, which was not offered")
    return None


def _mfl(asked: Hello, hello: ServerHello) -> tuple[Status, str] | None:
    body = hello.extension(_MFL)
    if body is None:
        return None
    if asked.max_fragment_length is None:
        return Status.VIOLATION, "answered max_fragment_length, which was not asked for"
    if body != bytes([MFL_SIZES[asked.max_fragment_length]]):
        return (Status.VIOLATION, f"answered max_fragment_length {body.hex()} to a request for "
                f"{asked.max_fragment_length} bytes")
    return None
