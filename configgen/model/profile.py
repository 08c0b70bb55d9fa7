"""A project profile and the board it runs on, as read from TOML (configgen/profile.py reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from configgen.model.endpoint import endpoint

TLS_VERSIONS = ("1.2", "1.3")
FORMATS = ("header", "esp-idf", "zephyr")  # what `generate` writes (README: outputs)
RECORD_MAX = 16384  # the largest TLS record plaintext (RFC 8446 section 5.1), in bytes

# How suites and groups are ranked (configgen/costs.py): the criteria, in a board's order.
CRITERIA = ("future", "flash", "compute", "heap")


class Margin(str, Enum):
    """How much room the buffers get ([policy].margin)."""

    MINIMAL = "minimal"  # exactly what was measured
    BALANCED = "balanced"  # a quarter more, a fallback suite of another family




@dataclass(frozen=True)
class Sdk:
    """An SDK version and the mbedTLS release it ships ([[sdk]] of a board profile)."""

    name: str  # "ESP-IDF"
    version: str  # "v5.5.5"
    mbedtls: str  # "3.6.6"
    source: str  # where that was read


@dataclass(frozen=True)
class Board:
    """What a board and its SDK impose (profiles/*.toml; fields in profiles/README.md)."""

    name: str
    description: str
    mbedtls: tuple[str, ...]
    heap_kib: int
    entropy: str
    time: str
    network: str
    filesystem: bool
    accelerated: tuple[str, ...]
    platform_enable: tuple[tuple[str, str], ...]
    source: str  # "profiles/esp32.toml" or the user's path, for reasons in the header
    esp_idf: str | None = None  # the ESP-IDF release the board's SDK is ("v5.5.5"), if ESP-IDF
    # How suites and groups are ranked: criteria in order (configgen/costs.py), smaller first.
    priority: tuple[str, ...] = CRITERIA
    sdk: tuple[Sdk, ...] = ()  # the mbedTLS release each SDK version ships, one per line


@dataclass(frozen=True)
class Server:
    name: str  # as the header's reasons name it: [[server]].name, else `where`
    host: str
    port: int
    sni: str | None
    alpn: tuple[str, ...]
    snapshot: Path | None
    app_record_max: int | None  # largest application-data record the server sends, if known

    @property
    def where(self) -> str:
        """host:port, an IPv6 address in brackets."""
        return endpoint(self.host, self.port)


@dataclass(frozen=True)
class Policy:
    tls: tuple[str, ...]
    allow_sha1: bool
    allow_unsupported_critical_extensions: bool
    allow_cbc: bool
    allow_no_forward_secrecy: bool
    allow_weak_ciphers: bool  # NULL, RC4, DES, 3DES suites
    psk: bool  # the device holds a pre-shared key, so PSK suites may be used
    margin: Margin
    at: str | None  # validation date pinned for reproducible builds (ISO date)


@dataclass(frozen=True)
class Override:
    name: str
    value: str | None
    reason: str


@dataclass(frozen=True)
class Profile:
    path: Path
    board: Board
    mbedtls: str
    servers: tuple[Server, ...]
    ca: tuple[Path, ...]
    ca_format: str
    client_cert: Path | None
    client_key: Path | None
    policy: Policy
    enable: tuple[Override, ...]
    disable: tuple[Override, ...]
    format: str = "header"  # what `generate` writes: one of FORMATS
    esp_idf: str | None = None  # the ESP-IDF release targeted (the board's unless the profile says)
    sha256: str = ""  # of the profile file as read, for the banner

    def relative(self, path: Path) -> str:
        """A path as the profile names it (relative to the profile), for reasons."""
        try:
            return path.relative_to(self.path.parent).as_posix()
        except ValueError:
            return path.as_posix()
