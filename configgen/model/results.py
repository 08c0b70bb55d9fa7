"""What verify and footprint found: a header's build steps, sizes and handshakes.

The modules that run compilers and servers (configgen/verify.py, footprint.py)
return these; report/ renders them without loading those modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from configgen.model.endpoint import endpoint

from configgen.model.explanations import CodeExplanation, FlagsExplanation


@dataclass(frozen=True)
class VerifyServer:
    """A server verify handshakes with, and the name the client verifies and sends as SNI."""

    host: str
    port: int
    name: str

    @property
    def where(self) -> str:
        return endpoint(self.host, self.port)


@dataclass(frozen=True)
class Footprint:
    """Sizes in bytes of a library archive or a linked program, and how it was built."""

    target: str  # "Cortex-M4 library", "host library" (archives) or "Cortex-M4 firmware" (linked)
    compiler: str  # the compiler and flags, as a person would type them
    text: int
    data: int
    bss: int

    @property
    def total(self) -> int:
        return self.text + self.data + self.bss

    @property
    def flash(self) -> int:
        """What a linked program takes in flash: code and initialised data."""
        return self.text + self.data

    @property
    def ram(self) -> int:
        """What it takes in static RAM: initialised and zeroed data."""
        return self.data + self.bss


@dataclass(frozen=True)
class Step:
    """One build step: what it proved, or the compiler's errors, one line each."""

    name: str  # "check_config.h", "library", "client"
    ok: bool
    detail: str
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Handshake:
    server: str  # host:port
    name: str
    ok: bool
    result: str  # the client's last word: "ok: SUITE", "error -0x2700 in mbedtls_ssl_handshake"
    code: CodeExplanation | None = None
    flags: FlagsExplanation | None = None
    heap_peak: int | None = None  # bytes, when valgrind measured the run
    suite: str | None = None  # what the handshake negotiated, when it completed


@dataclass(frozen=True)
class Verification:
    header: str
    version: str  # of the tree: "3.6.6"
    tree: str
    line_from: str  # how the line was chosen: "--mbedtls-src", "the header's banner", ...
    steps: tuple[Step, ...]
    footprint: Footprint | None
    footprint_note: str  # what was changed to measure it, or why it was not measured
    firmware: Footprint | None  # the device client linked for Cortex-M4, when it could be
    firmware_note: str  # why it was not, when it was not
    handshakes: tuple[Handshake, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps) and all(h.ok for h in self.handshakes)


