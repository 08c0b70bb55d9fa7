"""Decode mbedTLS error codes and X.509 verify flags from knowledge-base data.

Pure functions over the entries `configgen.kb.extract_errors.extract()` returns. They say
what `mbedtls_strerror()` and `mbedtls_x509_crt_verify_info()` print, mirroring the logic of
mbedTLS's `scripts/data_files/error.fmt` and `library/x509_crt.c` (identical in 2.28 and 3.6):

- an error code is `-(high | low)`: `magnitude & 0xFF80` is looked up among the high-level
  codes, `magnitude & ~0xFF80` among the low-level ones, and the two texts are joined by
  " : ". A part that has no entry prints as "UNKNOWN ERROR CODE (%04X)".
- after `MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE` the low part is not decoded (this assumes
  `MBEDTLS_SSL_TLS_C`, as in any build that does TLS).
- a code whose own value falls outside its level's bits (HKDF's -0x5F80 is a low-level code)
  is never found by strerror, which then prints "UNKNOWN ERROR CODE".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

HIGH_MASK = 0xFF80
FATAL_ALERT = "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE"
UNKNOWN_FLAGS = "Unknown reason (this should not happen)"

Entry = Mapping[str, Any]


def split(code: int) -> tuple[int, int]:
    """The (high, low) magnitudes strerror looks up for a code, e.g. -0x262E → (0x2600, 0x2E)."""
    magnitude = -code if code < 0 else code
    return magnitude & HIGH_MASK, magnitude & ~HIGH_MASK


def strerror_text(entry: Entry) -> str:
    """The text strerror prints for one entry's part: "X509 - Certificate verification failed"."""
    return f"{entry['module']} - {entry['description']}"


def _table(errors: Iterable[Entry], level: str) -> dict[int, str]:
    return {-e["code"]: strerror_text(e) for e in errors if e["level"] == level}


def _unknown(part: int) -> str:
    return f"UNKNOWN ERROR CODE ({part:04X})"


def describe(code: int, errors: Iterable[Entry]) -> str:
    """What `mbedtls_strerror(code)` prints, from the "errors" list of the KB of a line.

    Composite codes print as "HIGH : LOW", e.g. -0x262E →
    "X509 - Signature algorithm (oid) is unsupported : OID - OID is not found".
    """
    errors = list(errors)
    high, low = split(code)
    text = ""
    if high:
        text = _table(errors, "high").get(high) or _unknown(high)
        fatal = [-e["code"] for e in errors if e["name"] == FATAL_ALERT]
        if high in fatal:
            return text
    if not low:
        return text
    low_text = _table(errors, "low").get(low) or _unknown(low)
    return f"{text} : {low_text}" if text else low_text


def describe_flags(flags: int, verify_flags: Iterable[Entry], prefix: str = "") -> str:
    """What `mbedtls_x509_crt_verify_info(buf, size, prefix, flags)` writes for a flag set.

    One line per set flag, in bit order (mbedTLS's list order in both lines), each
    "<prefix><description>\\n"; bits no flag
    names give one "Unknown reason (this should not happen)" line.
    """
    lines = []
    for flag in sorted(verify_flags, key=lambda f: f["bit"]):
        if flags & flag["bit"]:
            lines.append(f"{prefix}{flag['description']}\n")
            flags ^= flag["bit"]
    if flags:
        lines.append(f"{prefix}{UNKNOWN_FLAGS}\n")
    return "".join(lines)
