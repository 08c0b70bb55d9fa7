"""Requirements: what the device must support, each with the reason that caused it.

A requirement is version-independent where it can be ("parse a certificate signed
sha1WithRSAEncryption", "the suite 0xC02F"); resolve.py maps it onto the options of one
mbedTLS line. `via` is what the header prints beside the options it pulls in: a source a
reviewer can open (a file and certificate subject, host:port, a profile key, a board).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Need(str, Enum):
    FEATURE = "feature"  # value: a name in configgen/data/features.toml
    SUITE = "suite"  # value: a ciphersuite id
    GROUP = "group"  # value: a curve/group name ("secp256r1", "x25519")
    HASH = "hash"  # value: "SHA-256"
    SIGNATURE = "signature"  # value: a signature algorithm OID a certificate is signed with
    PUBLIC_KEY = "public_key"  # value: a public-key algorithm OID ("1.2.840.113549.1.1.1")
    MPI_BYTES = "mpi_bytes"  # value: the largest big number, in bytes (MBEDTLS_MPI_MAX_SIZE)
    IN_CONTENT = "in_content"  # value: bytes of incoming plaintext to hold at once
    OUT_CONTENT = "out_content"  # value: bytes of outgoing plaintext to hold at once
    OPTION = "option"  # value: (name, value or None), an explicit override


@dataclass(frozen=True)
class Requirement:
    need: Need
    value: object
    via: str
    derivation: str | None = None  # for numbers: how the value follows from the fact
    weakens: str | None = None  # what this weakens, said in the header's banner


@dataclass(frozen=True)
class Forbid:
    """An option the header must not contain (policy or an explicit override)."""

    option: str
    via: str


@dataclass(frozen=True)
class Requirements:
    items: tuple[Requirement, ...]
    forbid: tuple[Forbid, ...] = ()
    suites: tuple[int, ...] = ()  # MBEDTLS_SSL_CIPHERSUITES, in offer order (empty: all compiled)
    notes: tuple[str, ...] = field(default=())  # what the integrator must know, for the banner
    warnings: tuple[str, ...] = field(default=())  # what will likely fail on the board, and why
