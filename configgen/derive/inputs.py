"""What derive is given (Inputs) and the small helpers every part of it uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from configgen.model.certificates import KeyFacts
from configgen.kb import releases
from configgen.kb.model import KnowledgeBase
from configgen.model.inputs import Certificate, ProbedServer
from configgen.model.profile import Profile
from configgen.model.requirements import Need, Requirement


@dataclass(frozen=True)
class Inputs:
    """Everything derive looks at."""

    profile: Profile
    servers: tuple[ProbedServer, ...]
    anchors: tuple[Certificate, ...]
    client: tuple[Certificate, ...]  # the device's own chain, leaf first
    pem: bool  # trust anchors / client credentials are embedded as PEM
    at: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # when chains are checked
    notes: tuple[str, ...] = ()  # where facts came from, when the integrator should know
    release: releases.ReleaseFacts | None = None  # the target release's facts (default: the KB's)
    client_key: KeyFacts | None = None  # the device's private key ([client].key)


def release_facts(inputs: Inputs, kb: KnowledgeBase) -> releases.ReleaseFacts:
    """The facts of the release the header is for: the one given, else the KB's own."""
    return inputs.release or releases.facts_for(kb.version)


def requirement(need: Need, value: object, via: str, **extra: object) -> Requirement:
    return Requirement(need, value, via, **extra)  # type: ignore[arg-type]
