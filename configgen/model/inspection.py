"""What `configgen inspect` says of certificate and key files, per mbedTLS line
(configgen/inspection.py gathers it; report/ renders it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from configgen.model.certificates import FileFacts, KeyEncryption
from configgen.model.verdicts import ChainReport
from configgen.model.verdicts import CertVerdict, FileVerdict, OptionNeed, Problem, Role, Severity


@dataclass(frozen=True)
class Located:
    """A problem, the line it is a problem for, and the file, certificate or chain it is in."""

    line: str
    where: str
    problem: Problem


@dataclass(frozen=True)
class CertReport:
    role: Role
    verdict: CertVerdict


@dataclass(frozen=True)
class KeyReport:
    label: str  # the file it is in
    key: str  # what it is: "EC secp256r1", "RSA-2048"
    matches: tuple[str, ...]  # the labels of the certificates that carry its public half
    encryption: KeyEncryption | None
    needs: tuple[OptionNeed, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class DeviceNeed:
    """An option the device needs for all of the files, and every reason why."""

    option: str
    value: str | None  # the least value; None: defined
    reasons: tuple[str, ...]  # sorted


@dataclass(frozen=True)
class LineReport:
    """What one mbedTLS line makes of the files."""

    line: str
    certificates: tuple[CertReport, ...]  # the files' certificates, then the trust anchors
    files: tuple[FileVerdict, ...]  # what mbedtls_x509_crt_parse_file() returns for each
    keys: tuple[KeyReport, ...]
    chain: ChainReport | None  # None without trust anchors or without a chain
    needs: tuple[DeviceNeed, ...]  # by option


@dataclass(frozen=True)
class Inspection:
    at: dt.datetime  # the time validity is checked at
    host: str | None  # the name the device connects to, when given
    files: tuple[FileFacts, ...]  # the files given, then the trust anchors
    file_needs: tuple[OptionNeed, ...]  # what their containers need (PEM)
    own: frozenset[str]  # labels of the device's own certificates: they match a key given
    lines: tuple[LineReport, ...]
    problems: tuple[Located, ...]  # each once, errors first

    @property
    def failing(self) -> bool:
        return any(p.problem.severity is Severity.ERROR for p in self.problems)
