"""A small C preprocessor for mbedTLS's configuration headers.

mbedTLS decides what a configuration means in its headers: `config_adjust_*.h` derive macros
such as MBEDTLS_MD_CAN_SHA256 from the user's options, and `check_config.h` rejects
combinations with `#error`. The knowledge base keeps those headers' *directives* (extracted
from the sources, see `directives()`), and this module runs them for a candidate set of
options — the same decisions the compiler makes, without a compiler.

A directive is a JSON-friendly list `[line, kind, *args]`:

    [12, "if", "defined(A) && !defined(B)"]   [13, "ifdef", "A"]   [14, "ifndef", "A"]
    [15, "elif", "expr"]   [16, "else"]   [17, "endif"]
    [18, "define", "NAME", "(a, b)" or None, "body"]   [19, "undef", "NAME"]
    [20, "include", "mbedtls/config_psa.h" or "MBEDTLS_CONFIG_FILE"]   [21, "error", "text"]

Only what configuration headers use is supported: object-like and simple function-like macros
in `#if` expressions, `defined`, integer arithmetic and comparisons. An identifier that is not
a macro evaluates to 0, as in C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

Directive = list[Any]  # [line, kind, *args]

_DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)\s*(.*)$")
_DEFINE_RE = re.compile(r"^(\w+)(\([^)]*\))?\s*(.*)$")
_INCLUDE_RE = re.compile(r'^[<"]([^>"]+)[>"]|^(\w+)')


def blank_comments(text: str) -> str:
    """Blank out C comments, keeping string literals and every newline (line numbers hold)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(" " + "\n" * text.count("\n", i, end))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text[i] in "\"'":
            j = i + 1
            while j < n and text[j] not in (text[i], "\n"):
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def strip_comments(text: str) -> str:
    """Remove C comments and join continued lines, keeping line numbers stable."""
    lines = blank_comments(text).split("\n")
    result: list[str] = []
    pending = ""
    pad = 0
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1] + " "
            pad += 1
            continue
        result.append(pending + line)
        result.extend([""] * pad)
        pending, pad = "", 0
    if pending:
        result.append(pending)
    return "\n".join(result)


def directives(text: str) -> list[Directive]:
    """The preprocessor directives of a header, in order, comments removed."""
    found: list[Directive] = []
    for number, line in enumerate(strip_comments(text).split("\n"), start=1):
        match = _DIRECTIVE_RE.match(line)
        if not match:
            continue
        kind, rest = match.group(1), " ".join(match.group(2).split())
        if kind in ("if", "elif"):
            found.append([number, kind, rest])
        elif kind in ("ifdef", "ifndef", "undef"):
            found.append([number, kind, rest.split()[0]])
        elif kind in ("else", "endif"):
            found.append([number, kind])
        elif kind == "define":
            define = _DEFINE_RE.match(match.group(2).strip())
            if define:
                name, params, body = define.groups()
                found.append([number, "define", name, params, " ".join(body.split())])
        elif kind == "include":
            include = _INCLUDE_RE.match(rest)
            if include:
                found.append([number, "include", include.group(1) or include.group(2)])
        elif kind == "error":
            found.append([number, "error", rest])
    return found


def render(directive: Directive) -> str:
    """A directive as a line of C (for headers that must repeat one, like the config tail)."""
    kind, args = directive[1], directive[2:]
    if kind == "define":
        name, params, body = args
        return " ".join(p for p in (f"#define {name}{params or ''}", body) if p)
    if kind == "include":
        target = args[0]
        return f'#include "{target}"' if "/" in target or "." in target else f"#include {target}"
    if kind == "error":
        return f"#error {args[0]}"
    return " ".join([f"#{kind}", *args])


# --- expressions -----------------------------------------------------------------------
#
# An expression is parsed once into a tuple tree and evaluated many times:
#   ("num", v)  ("id", name)  ("defined", name)  ("call", name, (arg_text, ...))
#   ("not", a)  ("neg", a)  ("inv", a)  ("and", a, b)  ("or", a, b)
#   ("bin", op, a, b)  ("cond", c, a, b)

Node = tuple[Any, ...]
# An expression compiled (_compile): its value under the macros, some of them being expanded.
Test = Callable[["Macros", frozenset[str]], int]

_TOKEN_RE = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|('(?:\\.|[^'])')|([A-Za-z_]\w*)"
    r"|(<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>!~&|^?:(),]))"
)


@lru_cache(maxsize=None)
def tokenize(expr: str) -> tuple[str, ...]:
    tokens: list[str] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        match = _TOKEN_RE.match(expr, pos)
        if not match:
            raise ValueError(f"cannot read #if expression at {expr[pos:]!r}")
        number, char, name, op = match.groups()
        if char is not None:
            body = char[1:-1]
            tokens.append(str(ord(body[-1]) if not body.startswith("\\") or len(body) == 2 else 0))
        else:
            tokens.append(number or name or op)
        pos = match.end()
    return tuple(tokens)


_BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}


@lru_cache(maxsize=None)
def parse(expr: str) -> Node:
    """The tree of a `#if` expression (cached: the same text is parsed once)."""
    parser = _Parser(tokenize(expr))
    if not parser.tokens:
        return ("num", 0)
    node = parser.ternary()
    if parser.pos != len(parser.tokens):
        raise ValueError(f"unexpected {parser.tokens[parser.pos]!r} in #if expression {expr!r}")
    return node


class _Parser:
    def __init__(self, tokens: Sequence[str]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'a token'} in #if expression")
        self.pos += 1
        return token

    def ternary(self) -> Node:
        condition = self.binary(1)
        if self.peek() == "?":
            self.take("?")
            yes = self.ternary()
            self.take(":")
            return ("cond", condition, yes, self.ternary())
        return condition

    def binary(self, level: int) -> Node:
        left = self.unary()
        while True:
            op = self.peek()
            prec = _BINARY.get(op or "")
            if prec is None or prec < level:
                return left
            self.take()
            right = self.binary(prec + 1)
            if op == "&&":
                left = ("and", left, right)
            elif op == "||":
                left = ("or", left, right)
            else:
                left = ("bin", op, left, right)

    def unary(self) -> Node:
        token = self.take()
        if token in ("!", "-", "~"):
            return ({"!": "not", "-": "neg", "~": "inv"}[token], self.unary())
        if token == "+":
            return self.unary()
        if token == "(":
            node = self.ternary()
            self.take(")")
            return node
        if token == "defined":
            if self.peek() == "(":
                self.take("(")
                name = self.take()
                self.take(")")
            else:
                name = self.take()
            return ("defined", name)
        if token[0].isdigit():
            if token[:2].lower() == "0x":
                return ("num", int(token, 16))
            return ("num", int(token, 8) if token.startswith("0") else int(token))
        if self.peek() == "(":
            return ("call", token, tuple(self.arguments()))
        return ("id", token)

    def arguments(self) -> list[str]:
        self.take("(")
        depth, current, args = 0, list[str](), list[str]()
        while True:
            token = self.take()
            if token == "(":
                depth += 1
            elif token == ")":
                if depth == 0:
                    args.append(" ".join(current))
                    return args
                depth -= 1
            elif token == "," and depth == 0:
                args.append(" ".join(current))
                current = []
                continue
            current.append(token)


class Macros:
    """The macro table while a program runs: name -> (params or None, body)."""

    def __init__(self, initial: Mapping[str, tuple[tuple[str, ...] | None, str]] | None = None):
        self.table: dict[str, tuple[tuple[str, ...] | None, str]] = dict(initial or {})

    def defined(self, name: str) -> bool:
        return name in self.table

    def evaluate(self, expr: str) -> int:
        """The value of a `#if` expression under the current macros."""
        return self.value(parse(expr), frozenset())

    def value(self, node: Node, active: frozenset[str]) -> int:
        """The value of a parsed expression; `active`: the macros being expanded (C expands
        no macro inside its own expansion)."""
        return _compile(node)(self, active)

    def _expand(self, node: Node, active: frozenset[str]) -> int:
        name = node[1]
        entry = self.table.get(name)
        if entry is None or name in active:
            return 0
        params, body = entry
        if (params is None) != (node[0] == "id"):
            return 0
        if params is not None:
            body = _substitute(body, params, list(node[2]))
        if not body.strip():
            return 0
        return self.value(parse(body), active | {name})


def _substitute(body: str, params: tuple[str, ...], args: list[str]) -> str:
    mapping = dict(zip(params, args))
    return " ".join(mapping.get(t, t) for t in tokenize(body))


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%") and b == 0:
        return 0
    return {
        "|": lambda: a | b, "^": lambda: a ^ b, "&": lambda: a & b,
        "==": lambda: int(a == b), "!=": lambda: int(a != b),
        "<": lambda: int(a < b), ">": lambda: int(a > b),
        "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        "<<": lambda: a << b, ">>": lambda: a >> b,
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "/": lambda: int(a / b), "%": lambda: a % b,
    }[op]()


# --- programs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """An `#error` the headers raised for a configuration."""

    file: str
    line: int
    message: str


@dataclass
class Outcome:
    """What the configuration headers made of a set of options."""

    macros: Macros
    errors: list[Diagnostic] = field(default_factory=list)

    def holds(self, expr: str) -> bool:
        return bool(self.macros.evaluate(expr))


# What the system headers that check_config.h includes (<limits.h>) define, as on every
# target configgen serves.
SYSTEM_MACROS = {"CHAR_BIT": "8"}


def parse_params(params: str | None) -> tuple[str, ...] | None:
    if params is None:
        return None
    inner = params.strip()[1:-1]
    return tuple(p.strip() for p in inner.split(",") if p.strip())


def run(
    files: Mapping[str, Sequence[Directive]],
    entry: Sequence[Directive],
    config: Sequence[Directive],
    predefined: Mapping[str, str] | None = None,
) -> Outcome:
    """Run the directives of `entry` as the compiler would, with `config` as the user's
    configuration file (it is what `#include MBEDTLS_CONFIG_FILE` brings in).

    `files` maps an include name ("mbedtls/check_config.h") to its directives; includes of
    files not in it (system headers) are skipped.
    """
    initial = {**SYSTEM_MACROS, **(predefined or {})}
    macros = Macros({name: (None, body) for name, body in initial.items()})
    macros.table.setdefault("MBEDTLS_CONFIG_FILE", (None, '"configgen-config.h"'))
    outcome = Outcome(macros)
    sources: dict[str, Sequence[Directive]] = dict(files)
    sources["<config>"] = config
    _run_file("<entry>", entry, sources, outcome, depth=0)
    return outcome


def _run_file(
    name: str,
    program: Sequence[Directive],
    sources: Mapping[str, Sequence[Directive]],
    outcome: Outcome,
    depth: int,
) -> None:
    if depth > 40:
        raise ValueError(f"includes nested too deeply at {name}")
    macros = outcome.macros
    following, tests = _compiled(program) if name == "<config>" else _cached(program)
    # Only directives of active branches are visited: a branch not taken is jumped over to
    # the next #elif/#else/#endif of its conditional. Each open conditional: taken yet?
    taken: list[bool] = []
    i, end = 0, len(program)
    while i < end:
        directive = program[i]
        kind = directive[1]
        if kind == "if" or kind == "ifdef" or kind == "ifndef":
            if kind == "if":
                hold = bool((tests[i] or _test_at(program, tests, i))(macros, _NOTHING_ACTIVE))
            else:
                hold = macros.defined(directive[2]) == (kind == "ifdef")
            taken.append(hold)
            i = i + 1 if hold else following[i]
        elif kind == "elif":
            if taken[-1]:
                i = _endif(program, following, i)
            elif (tests[i] or _test_at(program, tests, i))(macros, _NOTHING_ACTIVE):
                taken[-1] = True
                i += 1
            else:
                i = following[i]
        elif kind == "else":
            if taken[-1]:
                i = following[i]
            else:
                taken[-1] = True
                i += 1
        elif kind == "endif":
            taken.pop()
            i += 1
        else:
            i += 1
            if kind == "define":
                macros.table[directive[2]] = (parse_params(directive[3]), directive[4])
            elif kind == "undef":
                macros.table.pop(directive[2], None)
            elif kind == "error":
                outcome.errors.append(Diagnostic(name, directive[0], directive[2]))
            elif kind == "include":
                target = directive[2]
                if target == "MBEDTLS_CONFIG_FILE":
                    target = "<config>"
                elif target not in sources:
                    continue
                _run_file(target, sources[target], sources, outcome, depth + 1)


Compiled = tuple[list[int], list["Test | None"]]


def _compiled(program: Sequence[Directive]) -> Compiled:
    """For each #if, #ifdef, #ifndef, #elif and #else: the index of the next directive of the
    same conditional (#elif, #else or #endif; the program's end where it never comes); and
    room for each #if's and #elif's expression, compiled when first reached (_test_at)."""
    following = [len(program)] * len(program)
    tests: list[Test | None] = [None] * len(program)
    open_: list[int] = []  # the current branch of each open conditional
    for index, directive in enumerate(program):
        kind = directive[1]
        if kind in ("if", "ifdef", "ifndef"):
            open_.append(index)
        elif kind in ("elif", "else"):
            following[open_.pop()] = index
            open_.append(index)
        elif kind == "endif":
            following[open_.pop()] = index
    return following, tests


# The knowledge base's header programs live as long as it does: each is compiled once and
# kept beside it (the program itself is held, so its id cannot be reused).
_COMPILED: dict[int, tuple[Sequence[Directive], Compiled]] = {}


def _cached(program: Sequence[Directive]) -> Compiled:
    found = _COMPILED.get(id(program))
    if found is None or found[0] is not program:
        found = _COMPILED[id(program)] = (program, _compiled(program))
    return found[1]


def _test_at(program: Sequence[Directive], tests: list[Test | None], index: int) -> Test:
    test = tests[index] = _compile(parse(program[index][2]))
    return test


_NOTHING_ACTIVE: frozenset[str] = frozenset()


@lru_cache(maxsize=None)
def _compile(node: Node) -> Test:
    """An expression tree as nested closures, so that evaluating it many times does not walk
    the tree: `#if` semantics (and, or and ?: short-circuit; an identifier that is not a
    macro is 0)."""
    kind = node[0]
    if kind == "num":
        number: int = node[1]
        return lambda m, active: number
    if kind == "defined":
        name: str = node[1]
        return lambda m, active: int(name in m.table)
    if kind in ("and", "or"):
        a, b = _compile(node[1]), _compile(node[2])
        if kind == "and":
            return lambda m, active: int(bool(a(m, active)) and bool(b(m, active)))
        return lambda m, active: int(bool(a(m, active)) or bool(b(m, active)))
    if kind in ("not", "neg", "inv"):
        a = _compile(node[1])
        if kind == "not":
            return lambda m, active: int(not a(m, active))
        if kind == "neg":
            return lambda m, active: -a(m, active)
        return lambda m, active: ~a(m, active)
    if kind == "bin":
        op, a, b = node[1], _compile(node[2]), _compile(node[3])
        return lambda m, active: _apply(op, a(m, active), b(m, active))
    if kind == "cond":
        c, a, b = _compile(node[1]), _compile(node[2]), _compile(node[3])
        return lambda m, active: a(m, active) if c(m, active) else b(m, active)
    return lambda m, active: m._expand(node, active)


def _endif(program: Sequence[Directive], following: list[int], index: int) -> int:
    while index < len(program) and program[index][1] != "endif":
        index = following[index]
    return index


def config_directives(options: Mapping[str, str | None], tail: Iterable[Directive] = ()) -> list[Directive]:
    """A user configuration file as directives: each option defined (value or empty)."""
    config: list[Directive] = [
        [0, "define", name, None, "" if value is None else str(value)]
        for name, value in options.items()
    ]
    config.extend(tail)
    return config


def identifiers(expr: str) -> set[str]:
    """Every identifier an expression mentions (for dependency cones)."""
    return {t for t in tokenize(expr) if t[0].isalpha() or t[0] == "_"} - {"defined"}

