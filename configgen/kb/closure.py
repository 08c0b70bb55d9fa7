"""Close a set of options over mbedTLS's own dependency rules.

The rules are the configuration headers themselves (run by cpp.run): the adjust headers
derive macros from options, and check_config.h rejects what is incomplete with `#error`.
`enable()` only ever adds options, in this order of evaluation:

1. run the headers with the current options;
2. the problem is the first unmet want, else the first `#error`, read as the want
   "not (the conditions that guard this #error)";
3. solve the want on its negation normal form: `A && B` solves both; `A || B` takes the
   branch that adds the fewest options (then the lower weight, then the first written);
   `defined(X)` adds X when X is a user option, and otherwise solves the conditions under
   which the headers `#define X` (derived macros such as MBEDTLS_MD_CAN_SHA256);
   `!defined(X)` and numeric comparisons cannot be made true by adding anything;
4. when that finds nothing, try each user option in the problem's cone alone, then in pairs;
5. repeat until no problem is left; a problem nothing solves is a conflict.

The result is deterministic for the same inputs.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from typing import Mapping, Sequence

from configgen.errors import ResolveConflict
from configgen.kb import cpp
from configgen.kb.model import KnowledgeBase

# Options the closure never picks on its own: they change how mbedTLS is built rather than
# what it can do (alternative implementations, PSA's own configuration mechanism, tests), or
# they promise code from elsewhere. A requirement may still name one explicitly.
_NEVER_SUFFIXES = ("_ALT",)
_NEVER = frozenset(
    {
        "MBEDTLS_PSA_CRYPTO_CONFIG",
        "MBEDTLS_PSA_CRYPTO_SPM",
        "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG",
        "MBEDTLS_TEST_HOOKS",
        "MBEDTLS_NO_PLATFORM_ENTROPY",
        "MBEDTLS_DEPRECATED_WARNING",
        "MBEDTLS_DEPRECATED_REMOVED",
        "MBEDTLS_USE_PSA_CRYPTO",
        "MBEDTLS_PSA_CRYPTO_CLIENT",  # means "another party implements PSA": link errors
    }
)
_MAX_STEPS = 300
_MAX_DEPTH = 12

Options = Mapping[str, "str | None"]


@lru_cache(maxsize=8)
def pickable(kb: KnowledgeBase) -> frozenset[str]:
    """Boolean options the closure may add."""
    return frozenset(
        o.name
        for o in kb.options
        if o.is_flag and o.name not in _NEVER and not o.name.endswith(_NEVER_SUFFIXES)
    )


@lru_cache(maxsize=8)
def _sites(
    kb: KnowledgeBase,
) -> tuple[dict[str, list[str]], dict[tuple[str, int], str], dict[str, list[str]]]:
    """Where the headers define and undefine each macro and raise each #error, as the full condition
    (a C expression, include context included) under which that line is reached. Include
    guards are left out: they do not decide anything."""
    defines: dict[str, list[str]] = {}
    errors: dict[tuple[str, int], str] = {}
    undefs: dict[str, list[str]] = {}
    files = kb.preprocessor_files

    def walk(name: str, program: Sequence[cpp.Directive], outer: list[str], seen: frozenset[str]) -> None:
        # each frame: (condition of the current branch, conditions of earlier branches)
        stack: list[tuple[str | None, list[str]]] = []
        for index, directive in enumerate(program):
            kind = directive[1]
            if kind == "if":
                stack.append((directive[2], []))
            elif kind == "ifdef":
                stack.append((f"defined({directive[2]})", []))
            elif kind == "ifndef":
                following = program[index + 1] if index + 1 < len(program) else None
                guard = following and following[1] == "define" and following[2] == directive[2]
                stack.append((None if guard else f"!defined({directive[2]})", []))
            elif kind in ("elif", "else"):
                current, earlier = stack.pop()
                earlier = earlier + ([current] if current else [])
                negated = " && ".join(f"!({c})" for c in earlier)
                this = directive[2] if kind == "elif" else None
                parts = [p for p in (negated, this) if p]
                stack.append((" && ".join(f"({p})" for p in parts) or None, earlier))
            elif kind == "endif":
                stack.pop()
            elif kind in ("define", "undef", "error", "include"):
                conditions = outer + [c for c, _ in stack if c]
                condition = " && ".join(f"({c})" for c in conditions) or "1"
                if kind == "define":
                    defines.setdefault(directive[2], []).append(condition)
                elif kind == "undef":
                    undefs.setdefault(directive[2], []).append(condition)
                elif kind == "error":
                    errors[(name, directive[0])] = condition
                elif directive[2] in files and directive[2] not in seen:
                    target = directive[2]
                    walk(target, files[target], conditions, seen | {target})
                elif directive[2] == "MBEDTLS_CONFIG_FILE":
                    walk("<config>", kb.config_tail, conditions, seen)

    walk("<entry>", kb.preprocessor_entry, [], frozenset())
    return defines, errors, undefs


def default_weight(kb: KnowledgeBase, name: str) -> float:
    """What adding an option costs when the caller has no better measure: one, and much
    more for what mbedTLS's documentation marks deprecated or warns about (SSL 3.0, MD5…)."""
    option = kb.option(name)
    cautions = option.cautions if option else ()
    return 1.0 + 20.0 * ("deprecated" in cautions) + 10.0 * ("warning" in cautions)


def error_condition(kb: KnowledgeBase, file: str, line: int) -> str:
    """The condition under which check_config.h (or another header) raises this #error."""
    return _sites(kb)[1].get((file, line), "1")


def _nnf(node: cpp.Node, negate: bool = False) -> cpp.Node:
    kind = node[0]
    if kind == "not":
        return _nnf(node[1], not negate)
    if kind in ("and", "or"):
        flipped = {"and": "or", "or": "and"}[kind] if negate else kind
        return (flipped, _nnf(node[1], negate), _nnf(node[2], negate))
    return ("not", node) if negate else node


class _Solver:
    def __init__(self, kb: KnowledgeBase, weights: Mapping[str, float], forbid: frozenset[str]):
        self.kb = kb
        self.weights = weights
        self.forbid = forbid
        self.allowed = pickable(kb) - forbid
        self.explicit: frozenset[str] = frozenset()  # options a want names itself
        self.defines, _, self.undefs = _sites(kb)

    def cost(self, names: tuple[str, ...]) -> tuple[float, int]:
        return sum(self.weights.get(n, default_weight(self.kb, n)) for n in names), len(names)

    def score(self, names: tuple[str, ...], current: Options) -> tuple[float, int, int]:
        """Cheaper first; at equal cost, the choice that leaves fewer #errors to solve."""
        weight, count = self.cost(names)
        errors = len(self.kb.evaluate({**current, **dict.fromkeys(names)}).errors)
        return weight, errors, count

    def make_true(self, expr: str, current: Options, explicit: bool = False) -> tuple[str, ...] | None:
        """Options that make `expr` hold (not closed over #errors), or None. With `explicit`,
        options the expression names itself may be added even if the closure would never
        pick them on its own (a requirement that asks for MBEDTLS_ENTROPY_HARDWARE_ALT)."""
        self.explicit = frozenset(
            n for n in cpp.identifiers(expr)
            if explicit and n not in self.forbid and (o := self.kb.option(n)) is not None and o.is_flag
        )
        return self._solve(_nnf(cpp.parse(expr)), dict(current), frozenset(), 0)

    def _solve(self, node: cpp.Node, current: dict[str, str | None], visiting: frozenset[str],
               depth: int) -> tuple[str, ...] | None:
        macros = self.kb.evaluate(current).macros
        if macros.value(node, frozenset()):
            return ()
        if depth > _MAX_DEPTH:
            return None
        kind = node[0]
        if kind == "and":
            first = self._solve(node[1], current, visiting, depth + 1)
            if first is None:
                return None
            second = self._solve(node[2], {**current, **dict.fromkeys(first)}, visiting, depth + 1)
            return None if second is None else tuple(dict.fromkeys(first + second))
        if kind == "or":
            options = [
                found
                for branch in (node[1], node[2])
                if (found := self._solve(branch, current, visiting, depth + 1)) is not None
            ]
            return min(options, key=lambda found: self.score(found, current)) if options else None
        if kind in ("defined", "id"):
            name = node[1]
            if (name in self.allowed or name in self.explicit) and name not in current:
                # a user option the adjust headers may #undef again: avoid those conditions
                keep = " && ".join(f"!({c})" for c in self.undefs.get(name, ()))
                if not keep:
                    return (name,)
                rest = self._solve(_nnf(cpp.parse(keep)), {**current, name: None}, visiting, depth + 1)
                return None if rest is None else (name, *rest)
            if name in visiting or name not in self.defines:
                return None
            sites = " || ".join(f"({c})" for c in self.defines[name])
            return self._solve(_nnf(cpp.parse(sites)), current, visiting | {name}, depth + 1)
        return None

    def by_trial(self, expr: str, current: Options, wants: Sequence[str]) -> tuple[str, ...] | None:
        """Fallback: user options in the cone of `expr`, alone then in pairs."""
        candidates = sorted(self.cone(cpp.identifiers(expr)) - set(current))
        for size in (1, 2):
            scored = []
            for group in combinations(candidates, size):
                trial = {**current, **dict.fromkeys(group)}
                outcome = self.kb.evaluate(trial)
                if outcome.holds(expr):
                    remaining = len(outcome.errors) + sum(not outcome.holds(w) for w in wants)
                    scored.append((remaining, self.cost(group), group))
            if scored:
                return min(scored)[2]
        return None

    def cone(self, names: set[str]) -> frozenset[str]:
        seen: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            for condition in self.defines.get(name, ()):
                pending.extend(cpp.identifiers(condition))
        return frozenset(seen & self.allowed)


def cone_of(kb: KnowledgeBase, expr: str) -> frozenset[str]:
    """User options that can influence an expression (what forbidding may block)."""
    solver = _Solver(kb, {}, frozenset())
    return solver.cone(cpp.identifiers(expr)) | (cpp.identifiers(expr) & solver.allowed)


@lru_cache(maxsize=4096)
def direct(kb: KnowledgeBase, want: str, forbid: frozenset[str] = frozenset()) -> frozenset[str]:
    """The options that make a want hold by themselves, before mbedTLS's own dependencies:
    what a reason for that want should be attached to."""
    return frozenset(_Solver(kb, {}, forbid).make_true(want, {}, explicit=True) or ())


def enable(
    kb: KnowledgeBase,
    options: Options,
    wants: Sequence[str],
    weights: Mapping[str, float] | None = None,
    forbid: frozenset[str] = frozenset(),
    explain: dict[str, tuple[str, str]] | None = None,
) -> dict[str, str | None]:
    """`options` plus what it takes for every expression in `wants` to hold and for the
    configuration headers to raise no `#error`. Raises ResolveConflict when stuck.

    When `explain` is given, it receives for each added option the problem it solved:
    ("want", expression) or ("error", "message (file:line)")."""
    solver = _Solver(kb, weights or {}, forbid)
    current: dict[str, str | None] = dict(options)
    for _ in range(_MAX_STEPS):
        outcome = kb.evaluate(current)
        unmet = [w for w in wants if not outcome.holds(w)]
        if not unmet and not outcome.errors:
            return current
        if unmet:
            target, problem, kind = unmet[0], f"needed for '{unmet[0]}'", "want"
        else:
            error = outcome.errors[0]
            target = f"!({error_condition(kb, error.file, error.line)})"
            message = error.message.replace('" "', "").strip('"')
            problem, kind = f"{message} ({error.file}:{error.line})", "error"
        added = solver.make_true(target, current, explicit=bool(unmet))
        if added:
            trial = {**current, **dict.fromkeys(added)}
            if not kb.evaluate(trial).holds(target):
                added = None
        if not added:
            added = solver.by_trial(target, current, wants)
        if not added:
            raise ResolveConflict(
                f"nothing can be added to satisfy: {problem}",
                hint=f"options so far: {', '.join(sorted(current)) or 'none'}",
            )
        current.update(dict.fromkeys(added))
        if explain is not None:
            for name in added:
                explain[name] = (kind, target if kind == "want" else problem)
    raise ResolveConflict(f"mbedTLS {kb.version}: dependency closure did not settle")
