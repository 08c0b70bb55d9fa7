"""What mbedTLS makes of a certificate, a key, a file or a chain: verdicts per line
(configgen/verdicts.py and chain.py give them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    """Who parses the certificate on the device: the TLS layer (a certificate the server
    sends) or the application itself (its trust anchors, its own client certificate)."""

    PRESENTED = "presented"
    ANCHOR = "anchor"
    OWN = "own"  # the device's own certificate: it matches a private key given

    @property
    def parsed_by_application(self) -> bool:
        return self is not Role.PRESENTED


class Severity(str, Enum):
    ERROR = "error"  # the device cannot use it as the files stand
    WARNING = "warning"  # works only with a weakening, or after a change
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class OptionNeed:
    """An option the device needs, with its value (None: just defined) and why."""

    option: str
    value: str | None
    reason: str
    weakens: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    code: str  # stable id: unsupported-signature, unsupported-key, unsupported-curve, ...
    message: str
    fix: str
    error: int | None = None  # the mbedTLS error code it causes


@dataclass(frozen=True, slots=True)
class CertVerdict:
    """What one mbedTLS line makes of one certificate."""

    label: str
    line: str
    parses_by_default: bool
    parse_error: int | None  # what the default configuration's parser returns, if it fails
    needs: tuple[OptionNeed, ...]
    problems: tuple[Problem, ...]
    callback: str | None = None  # C source of an extension callback, where one helps


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """What mbedtls_x509_crt_parse_file() returns for one file on one line, as x509_crt.c
    combines its slots: 0 when every certificate parsed, the number that failed when some
    did, else the first error. `result` is None where the code cannot be told in advance."""

    source: str
    line: str
    parses_by_default: bool
    result: int | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Decryption:
    """What mbedtls_pk_parse_key() needs to decrypt one encryption scheme on one line."""

    options: tuple[str, ...]
    ciphers: Mapping[str, str]  # cipher name -> the option that implements it


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What mbedtls_x509_crt_verify() of one line would say about a chain."""

    line: str
    verified: bool  # False: no chain certificate parses, so there is nothing to verify
    result: int | None  # 0, -0x2700 (flags set) or -0x3000 (chain too long)
    flags: int
    flag_names: tuple[str, ...]
    path: tuple[str, ...]  # labels from the leaf up to the trusted certificate
    findings: tuple[Problem, ...]
