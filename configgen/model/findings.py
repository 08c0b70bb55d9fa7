"""What the advisor and the checks found: a review of a header, the differences between two
headers, a diagnosis of a debug log, a stale output (advise/ and check.py give them;
report/ renders them)."""

from __future__ import annotations

from dataclasses import dataclass

from configgen.model.header import Define


# Finding kinds, most urgent first; the first four fail the review.
FAILING = ("does not compile", "known defect", "missing", "too small")


KINDS = (*FAILING, "unmaintained", "risky", "unneeded", "different value")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    option: str
    detail: str  # a sentence for people
    reasons: tuple[str, ...] = ()  # why configgen needs it ("via" lines)
    predicted: tuple[str, ...] = ()  # "-0x262E MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG + ..."
    size: int | None = None  # bytes of code an unneeded option brings, when measured


@dataclass(frozen=True)
class Review:
    where: str
    version: str
    findings: tuple[Finding, ...]

    @property
    def failing(self) -> bool:
        return any(f.kind in FAILING for f in self.findings)

    def of(self, kind: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)

    @property
    def unneeded_bytes(self) -> int:
        """The measured code size of the unneeded options, summed."""
        return sum(f.size or 0 for f in self.of("unneeded"))

    def groups(self) -> tuple[tuple[str, str, tuple[Finding, ...]], ...]:
        """(kind, count in words, findings) per kind found, most urgent first."""
        found = []
        for kind in KINDS:
            group = self.of(kind)
            if group:
                size = self.unneeded_bytes if kind == "unneeded" else 0
                count = f"{len(group)}" + (f", about {size / 1024:.0f} KB of code" if size else "")
                found.append((kind, count, group))
        return tuple(found)


@dataclass(frozen=True)
class Change:
    option: str
    kind: str  # "added", "removed", "value", "reasons"
    old: Define | None
    new: Define | None
    security: str | None = None  # why a reviewer should look twice, or None
    suites_added: tuple[str, ...] = ()
    suites_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeaderDiff:
    old: str
    new: str
    changes: tuple[Change, ...]  # security-relevant first, then header order
    weakened_added: tuple[str, ...] = ()
    weakened_removed: tuple[str, ...] = ()

    @property
    def options(self) -> tuple[str, ...]:
        """The options whose #define changed (not those whose reasons alone changed)."""
        return tuple(c.option for c in self.changes if c.kind != "reasons")

    def groups(self) -> tuple[tuple[str, tuple[Change, ...]], ...]:
        """(title, changes): security-relevant, other, reasons only; empty groups left out."""
        defined = [c for c in self.changes if c.kind != "reasons"]
        found = (("Security-relevant", tuple(c for c in defined if c.security)),
                 ("Other changes", tuple(c for c in defined if not c.security)),
                 ("Reasons changed, values unchanged",
                  tuple(c for c in self.changes if c.kind == "reasons")))
        return tuple((title, changes) for title, changes in found if changes)


@dataclass(frozen=True)
class ErrorSite:
    function: str
    code: int


@dataclass(frozen=True)
class Trace:
    """What a debug log shows of one handshake (fields are empty when the log does not say)."""

    version: str | None  # "3.6.6", from the banner; the line is guessed from file names
    line: str | None
    suites: tuple[int, ...]  # offered in the ClientHello, in order
    sni: str | None
    extensions: tuple[str, ...]
    groups: tuple[str, ...]
    max_version: str | None
    chosen_suite: int | None
    steps: tuple[str, ...]  # handshake steps entered, in order, without repeats
    skipped: tuple[str, ...]  # steps mbedTLS logged as skipped
    alerts_received: tuple[tuple[int, int], ...]
    alerts_sent: tuple[tuple[int, int], ...]
    errors: tuple[ErrorSite, ...]  # every "X() returned N (-0x...)", in order
    final: ErrorSite | None  # what the application reported last
    eof: bool  # the peer closed the connection (recv returned 0)
    notable: tuple[str, ...]  # NOTABLE messages seen
    verify_flags: int | None
    verify_messages: tuple[str, ...]
    alloc_failed: int | None  # bytes of the allocation that failed
    ca_load_failed: bool
    certificate_seen: bool  # the server's certificate arrived (so the ServerHello did too)
    subjects: tuple[str, ...] = ()  # of the certificates the server sent, when the log shows them
    issuers: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[int, ...]:
        found = [e.code for e in self.errors]
        if self.final is not None:
            found.append(self.final.code)
        return tuple(dict.fromkeys(found))

    @property
    def reached(self) -> str | None:
        return self.steps[-1] if self.steps else None


@dataclass(frozen=True)
class Diagnosis:
    trace: Trace
    cause: str  # a short id: no-common-suite, client-certificate-required, ...
    summary: str  # what happened, in a sentence
    fix: str
    check: str  # the configgen command that checks the fix
    code: int | None  # the error the application saw


@dataclass(frozen=True)
class Stale:
    path: str
    exists: bool
    header: HeaderDiff | None = None  # a header's changes
    removed: tuple[str, ...] = ()  # a fragment's CONFIG_ lines regenerating drops, sorted
    added: tuple[str, ...] = ()  # and those it adds
