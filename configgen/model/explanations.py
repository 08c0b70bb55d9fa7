"""What an mbedTLS error code or a set of X.509 verify flags means: the knowledge base's
entries for them, the causes the advisor knows, and an explanation per line
(configgen/advise/explain.py gives them; verify's results and report/ carry them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One MBEDTLS_ERR_* code; `module - description` is what strerror prints for it."""

    code: int
    hex: str
    name: str
    module: str
    level: str
    description: str
    header: str
    alias_of: str | None = None  # 2.28's deprecated duplicate names


@dataclass(frozen=True)
class VerifyFlag:
    """One X.509 verify flag and the text mbedtls_x509_crt_verify_info prints for it."""

    bit: int
    name: str
    description: str


@dataclass(frozen=True)
class Cause:
    """A common reason for an error code or verify flag, and what to do about it."""

    why: str
    fix: str
    options: tuple[str, ...]  # the options the fix enables or raises
    check: str  # the configgen command that checks it
    shrink: tuple[str, ...] = ()  # the options the fix makes smaller


@dataclass(frozen=True)
class Part:
    """One part of a code as one line names it (None when the line does not define it)."""

    level: str  # "high", "low", or "whole" for a code matched as it stands
    value: int  # the part's own code, negative
    error: ErrorCode | None
    aliases: tuple[str, ...] = ()
    elsewhere: tuple[tuple[str, str], ...] = ()  # (version, name) of lines that define it


@dataclass(frozen=True)
class Reading:
    """What one mbedTLS line (and release) says about a code."""

    line: str
    version: str  # the release read for: its facts add causes
    strerror: str  # exactly what mbedtls_strerror prints in that line
    parts: tuple[Part, ...]
    causes: tuple[Cause, ...]

    @property
    def known(self) -> bool:
        return all(p.error is not None for p in self.parts)


@dataclass(frozen=True)
class CodeExplanation:
    code: int
    readings: tuple[Reading, ...]

    @property
    def hex(self) -> str:
        return f"-0x{-self.code:04X}"


@dataclass(frozen=True)
class FlagReading:
    flag: VerifyFlag
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class FlagsExplanation:
    value: int
    version: str
    info: str  # exactly what mbedtls_x509_crt_verify_info prints (prefix "")
    flags: tuple[FlagReading, ...]
    unknown_bits: int
