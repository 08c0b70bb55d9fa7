"""Requirements + one line's knowledge base -> the option set, with a reason for every option.

Pure: no files, no network. The order of evaluation:

1. each requirement becomes a *want* (a C expression over mbedTLS macros: a suite's guard,
   a feature's expression from data/features.toml, a hash's or curve's guard from the KB)
   or a *value* (MPI_MAX_SIZE, IN/OUT_CONTENT_LEN, SSL_CIPHERSUITES, an override's value);
2. the values are set first (check_config.h checks some of them);
3. the wants are closed over mbedTLS's dependency rules together (closure.enable), in the
   order the requirements come, never adding a forbidden option;
4. every resulting option is explained: by each requirement whose want alone needs it, else
   by the check_config.h rule that pulled it in.
"""

from __future__ import annotations

from functools import lru_cache
from collections.abc import Sequence
from typing import Any, Mapping, cast

from configgen import resources
from configgen.errors import ResolveConflict
from configgen.kb import closure
from configgen.kb.model import KnowledgeBase
from configgen.model.options import OptionSet, Setting
from configgen.model.requirements import Need, Requirement, Requirements

VALUE_OPTIONS = {
    Need.MPI_BYTES: "MBEDTLS_MPI_MAX_SIZE",
    Need.IN_CONTENT: "MBEDTLS_SSL_IN_CONTENT_LEN",
    Need.OUT_CONTENT: "MBEDTLS_SSL_OUT_CONTENT_LEN",
}


@lru_cache(maxsize=None)
def features() -> Mapping[str, Mapping[str, str]]:
    """configgen/data/features.toml: what each client feature needs, per line."""
    return resources.read_toml("data/features.toml")


def feature_want(name: str, line: str) -> str:
    """The expression a feature needs on a line; ResolveConflict when the line lacks it."""
    entry = features()[name]
    want = entry.get(f"want_{line.replace('.', '_')}", entry["want"])
    if want == "0":
        raise ResolveConflict(entry.get("unavailable", f"mbedTLS {line} cannot provide {name}"))
    return want


def _x509_entry(kb: KnowledgeBase, table: str, key: str, value: object) -> Mapping[str, Any] | None:
    return next((e for e in kb.x509.get(table, ()) if e.get(key) == value), None)


def want_of(requirement: Requirement, kb: KnowledgeBase) -> str | None:
    """The expression a requirement needs to hold on this line (None: it sets a value)."""
    need, value = requirement.need, requirement.value
    if need is Need.FEATURE:
        return feature_want(str(value), kb.line)
    if need is Need.SUITE:
        suite = kb.suite(int(value))  # type: ignore[call-overload]
        if suite is None:
            raise ResolveConflict(f"ciphersuite 0x{value:04X} is not implemented by mbedTLS {kb.version}")
        return suite.guard
    if need is Need.GROUP:
        entry = _x509_entry(kb, "groups", "name", value)
        if entry is None:
            raise ResolveConflict(f"mbedTLS {kb.version} does not implement the group {value}")
        return f"defined({entry['option']})"
    if need is Need.HASH:
        entry = _x509_entry(kb, "hashes", "name", value)
        if entry is None:
            raise ResolveConflict(f"mbedTLS {kb.version} does not implement {value}")
        return str(entry["guard"])
    if need is Need.SIGNATURE:
        entry = _x509_entry(kb, "signature_algorithms", "oid", value)
        if entry is None:
            raise ResolveConflict(f"mbedTLS {kb.version} cannot parse signature algorithm {value}")
        return str(entry["guard"])
    if need is Need.PUBLIC_KEY:
        entry = _x509_entry(kb, "pk_types", "oid", value)
        if entry is None:
            raise ResolveConflict(f"mbedTLS {kb.version} cannot parse public-key algorithm {value}")
        return str(entry["guard"])
    return None


def _values(reqs: Requirements, kb: KnowledgeBase) -> dict[str, tuple[str, list[str], str | None]]:
    """Value options: the largest value any requirement asks for, with every reason."""
    found: dict[str, tuple[int, list[str], str | None]] = {}
    for r in reqs.items:
        if r.need in VALUE_OPTIONS:
            name = VALUE_OPTIONS[r.need]
            old = found.get(name)
            number = int(r.value)  # type: ignore[call-overload]
            if old is None or number > old[0]:
                found[name] = (number, (old[1] if old else []) + [r.via], r.derivation)
            else:
                old[1].append(r.via)
    values = {name: (str(v), vias, d) for name, (v, vias, d) in found.items()}
    if reqs.suites:
        names = [kb.suite(s).macro for s in reqs.suites]  # type: ignore[union-attr]
        vias = [r.via for r in reqs.items if r.need is Need.SUITE]
        values["MBEDTLS_SSL_CIPHERSUITES"] = (",".join(names), vias, None)
    for r in reqs.items:
        if r.need is Need.OPTION:
            option, setting = cast(tuple[str, object], r.value)
            if setting is not None:
                values[option] = (str(setting), [r.via], r.derivation)
    return values


def resolve(reqs: Requirements, kb: KnowledgeBase) -> OptionSet:
    """The option set that meets every requirement on this line (see the module doc)."""
    forbid = {f.option: f.via for f in reqs.forbid}
    for r in reqs.items:
        if r.need is Need.OPTION:
            name = r.value[0]  # type: ignore[index]
            if kb.option(name) is None:
                raise ResolveConflict(f"{name} is not an option of mbedTLS {kb.version}", where=r.via)
            if name in forbid:
                raise ResolveConflict(f"{name} is both enabled ({r.via}) and disabled ({forbid[name]})")
    for name, via in forbid.items():
        if kb.option(name) is None:
            raise ResolveConflict(f"{name} is not an option of mbedTLS {kb.version}", where=via)

    values = _values(reqs, kb)
    wants: list[tuple[str, Requirement]] = []
    options: dict[str, str | None] = {name: value for name, (value, _, _) in values.items()}
    for r in reqs.items:
        if r.need is Need.OPTION and r.value[1] is None:  # type: ignore[index]
            options[r.value[0]] = None  # type: ignore[index]
        want = want_of(r, kb)
        if want is not None:
            wants.append((want, r))

    explained: dict[str, tuple[str, str]] = {}
    try:
        final = closure.enable(
            kb, options, [w for w, _ in wants], forbid=frozenset(forbid), explain=explained
        )
    except ResolveConflict as conflict:
        raise _blame(conflict, kb, options, wants, forbid) from None

    reasons: dict[str, set[str]] = {name: set() for name in final}
    for name, (_, vias, _) in values.items():
        reasons[name].update(vias)
    for r in reqs.items:
        if r.need is Need.OPTION:
            reasons[r.value[0]].add(r.via)  # type: ignore[index]
    by_want: dict[str, list[str]] = {}
    for want, r in wants:
        by_want.setdefault(want, []).append(r.via)
        for name in closure.direct(kb, want, frozenset(forbid)):
            if name in reasons:
                reasons[name].add(r.via)
    for name, (kind, detail) in explained.items():
        if reasons.get(name):
            continue
        if kind == "want":
            reasons[name].update(by_want.get(detail, ()))
        else:
            reasons[name].add(f"mbedTLS {kb.version} dependency: {detail}")

    weakened = tuple(sorted({(r.weakens, r.via) for r in reqs.items if r.weakens}))
    settings = []
    for name, value in final.items():
        option = kb.option(name)
        if option is None:
            raise ResolveConflict(f"{name} is not an option of mbedTLS {kb.version}")
        derivation = values[name][2] if name in values else None
        settings.append(
            Setting(name, value, option.section, option.index, tuple(sorted(reasons[name])), derivation)
        )
    settings.sort(key=lambda s: s.index)
    return OptionSet(kb.line, kb.version, tuple(settings), weakened, reqs.notes, reqs.warnings)


def _blame(conflict: ResolveConflict, kb: KnowledgeBase, options: Mapping[str, str | None],
           wants: Sequence[tuple[str, Requirement]], forbid: Mapping[str, str]) -> ResolveConflict:
    """Name the requirement (and the fact behind it) that cannot be met, Kconfiglib-style."""
    for want, r in wants:
        try:
            closure.enable(kb, options, [want], forbid=frozenset(forbid))
        except ResolveConflict:
            blocked = sorted(closure.cone_of(kb, want) & set(forbid))
            hint = (
                "it needs " + ", ".join(f"{n} (disabled by {forbid[n]})" for n in blocked)
                if blocked
                else None
            )
            return ResolveConflict(
                f"mbedTLS {kb.version} cannot meet this requirement: {conflict.message}",
                where=r.via,
                hint=hint,
            )
    return conflict
