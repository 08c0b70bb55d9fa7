"""review: an existing header against what the target needs.

`review(header, needed, kb, causes, security)` compares the header's active options with
the option set configgen derives for the same profile (`needed`), and says what is missing
(with the error the device would hit, from causes.toml, or the #error mbedTLS's own
configuration checks raise), what is too small, what is not needed and what is risky, and
which known defects of the release (kb/releases.toml) the header walks into with the
profile's servers. Pure: the header is parsed text, the option set and the servers' facts
come from `generate()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from configgen.advise.causes import Causes, Security
from configgen.model.header import Header
from configgen.kb import releases
from configgen.kb.model import KnowledgeBase
from configgen.model.facts import ServerFacts
from configgen.model.options import OptionSet
from configgen.model.findings import Finding, KINDS, Review

# Options whose value is a size or a count the inputs need at least.
AT_LEAST = frozenset({
    "MBEDTLS_MPI_MAX_SIZE", "MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_OUT_CONTENT_LEN",
    "MBEDTLS_SSL_MAX_CONTENT_LEN", "MBEDTLS_X509_MAX_INTERMEDIATE_CA",
})
SUITES = "MBEDTLS_SSL_CIPHERSUITES"


def _number(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().rstrip("uUlL")
    try:
        return int(text, 0)
    except ValueError:
        return None


def predicted_errors(option: str, kb: KnowledgeBase, causes: Causes) -> tuple[str, ...]:
    """The errors a device is likely to hit without `option` (causes.toml names the option
    among their fixes), as "-0x262E X509_UNKNOWN_SIG_ALG + OID_NOT_FOUND"."""
    codes = {e.name: e.code for e in kb.errors}
    found = []
    for name, low in causes.errors_fixed_by(kb.line, option):
        code = codes[name] + (codes[low] if low else 0)
        label = name.removeprefix("MBEDTLS_ERR_") + (f" + {low.removeprefix('MBEDTLS_ERR_')}" if low else "")
        found.append(f"-0x{-code:04X} {label}")
    return tuple(found)


def _value_of(header: Header, kb: KnowledgeBase, name: str) -> str | None:
    """The value the header gives an option, or mbedTLS's built-in default when it sets none."""
    active = header.active()
    if name in active:
        return active[name]
    option = kb.option(name)
    return option.value if option is not None else None


def _suites(value: str | None) -> list[str]:
    return [s.strip() for s in (value or "").replace("\\", " ").replace(",", " ").split() if s.strip()]


def _needed_findings(header: Header, needed: OptionSet, kb: KnowledgeBase,
                     causes: Causes) -> list[Finding]:
    active = header.active()
    found = []
    for setting in needed.settings:
        name, want = setting.name, setting.value
        if name == SUITES:
            if name in active and not set(_suites(want)) & set(_suites(active[name])):
                found.append(Finding(
                    "missing", name,
                    f"the header's suite list offers none of {', '.join(_suites(want))}",
                    setting.reasons, predicted_errors(name, kb, causes)))
            continue
        if name in AT_LEAST:
            have, need = _number(_value_of(header, kb, name)), _number(want)
            if have is not None and need is not None and have < need:
                where = "" if name in active else " (mbedTLS's default)"
                found.append(Finding(
                    "too small", name, f"{have}{where}, the inputs need at least {need}",
                    setting.reasons, predicted_errors(name, kb, causes)))
            continue
        if want is None and name not in active:
            found.append(Finding("missing", name, "not defined", setting.reasons,
                                 predicted_errors(name, kb, causes)))
        elif want is not None and _value_of(header, kb, name) != want:
            shown = active.get(name) or "mbedTLS's default"
            found.append(Finding("different value", name, f"{shown}, configgen derives {want}",
                                 setting.reasons))
    return found


def review(header: Header, needed: OptionSet, kb: KnowledgeBase, causes: Causes,
           security: Security, sizes: Mapping[str, int],
           release: releases.ReleaseFacts | None = None, servers: Sequence[ServerFacts] = ()) -> Review:
    """What the header lacks, has too small, does not need, or risks, against `needed`, for
    the release the device runs (default: the knowledge base's) and the servers it talks to
    (their probe facts: which known defects the header walks into); `sizes` (option ->
    bytes of code, sizes.toml of the line) estimates what unneeded options cost."""
    release = release or releases.facts_for(kb.version)
    found = [
        Finding("does not compile", "", f"{d.message} ({d.file}:{d.line})")
        for d in kb.evaluate(header.active()).errors
    ]
    found += _needed_findings(header, needed, kb, causes)
    wanted = needed.names()
    codes = {e.name: e.code for e in kb.errors}
    found += [Finding("known defect", w.option, w.why,
                      predicted=(f"-0x{-codes[w.fact.error]:04X} {w.fact.error.removeprefix('MBEDTLS_ERR_')}",))
              for w in release.walked_into(header.active(), servers, kb)]
    if release.end_of_life:
        found.append(Finding("unmaintained", f"mbedTLS {kb.line}", release.end_of_life))
    for name in header.active():
        risk = security.risk(kb.line, name)
        if risk:
            setting = needed.get(name)
            why = f"{risk}; needed: {setting.reasons[0]}" if setting and setting.reasons else risk
            found.append(Finding("risky", name, why))
        if name not in wanted and kb.option(name) is not None and name != SUITES:
            size = sizes.get(name)
            cost = f" (about {size / 1024:.1f} KB of code)" if size else ""
            found.append(Finding("unneeded", name, f"no input needs it{cost}", size=size))
        elif kb.option(name) is None:
            found.append(Finding("unneeded", name, f"not an option of mbedTLS {kb.version}"))
    order = {kind: i for i, kind in enumerate(KINDS)}
    ranked = sorted(found, key=lambda f: (order[f.kind], _index(kb, f.option)))
    return Review(header.where, release.release, tuple(ranked))


def _index(kb: KnowledgeBase, name: str) -> int:
    option = kb.option(name)
    return option.index if option is not None else len(kb.options)
