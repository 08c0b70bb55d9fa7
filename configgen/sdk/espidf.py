"""The option set as ESP-IDF speaks it: sdkconfig symbols, a user header, one CMake line. Pure.

ESP-IDF builds mbedTLS from its own `esp_config.h`, which defines or undefines each mbedTLS
macro from a `CONFIG_MBEDTLS_*` symbol and includes `MBEDTLS_USER_CONFIG_FILE` last. So:

- a symbol that sets mbedTLS macros (the esp_config.h rows of
  configgen/sdk/esp-idf-<release>.json) is `y` exactly when the option set has one of them;
- the record buffer sizes go to their int symbols, the role to the TLS-mode choice, the
  board's hardware drivers and certificate choices to their symbols (configgen/sdk/espidf.toml);
- Kconfig's `depends on` is closed over, so every `y` can hold;
- the options no symbol yields (esp_config.h run over the symbols says so) go to the user
  header: MBEDTLS_MPI_MAX_SIZE, MBEDTLS_SSL_CIPHERSUITES, X.509 limits and the like.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

# What a TLS stack keeps besides its record buffers during a handshake: the estimate derive
# uses to decide that a board's heap is short.
from configgen.derive import HANDSHAKE_WORKING_SET as WORKING_SET
from configgen import __version__, resources
from configgen.errors import ProfileError
from configgen.kb import cpp
from configgen.kb.model import KnowledgeBase
from configgen.model.options import OptionSet, Setting
from configgen.model.profile import Profile
from configgen.render import HeaderContext
from configgen.render import _environment as environment
from configgen.sdk import esp_idf_releases, rules
from configgen.sdk.extract_espidf import data_name

FRAGMENT = "sdkconfig.defaults.mbedtls"
USER_HEADER = "mbedtls_user_config.h"
RECORDS, FEATURES, BOARD = ("Record buffers", "Features: each symbol sets the mbedTLS macros named",
                            "Role, board and certificates")
_SINGLE = re.compile(r"^(?:defined\(CONFIG_(\w+)\)|CONFIG_(\w+))$")
_ON = re.compile(r"^(?:defined\(CONFIG_(\w+)\)|!\(!defined\(CONFIG_(\w+)\)\))$")
_OFF = re.compile(r"^!defined\(CONFIG_(\w+)\)$")


@dataclass(frozen=True)
class Release:
    """One ESP-IDF release: its Kconfig symbols, its esp_config.h rows, configgen's rules."""

    name: str
    mbedtls: str
    vocabulary: str  # "mbedtls-3.6": 3.6 option names; "psa": PSA_WANT_* as mbedTLS 4 has them
    user_prefixes: tuple[str, ...]
    symbols: Mapping[str, Mapping[str, Any]]
    rows: tuple[Mapping[str, Any], ...]
    kconfig: str
    esp_config: str
    rules: Mapping[str, Any]


@dataclass(frozen=True)
class Line:
    """One sdkconfig line: CONFIG_<symbol>=<value>, with why."""

    symbol: str
    value: str  # "y", "n", a number
    reasons: tuple[str, ...]
    section: str
    sets: tuple[str, ...] = ()  # the mbedTLS macros this symbol defines (when not its own name)
    derivation: str | None = None  # how a number follows from the facts


@dataclass(frozen=True)
class Plan:
    """What ESP-IDF is told: the sdkconfig lines and the user header's settings."""

    release: Release
    lines: tuple[Line, ...]
    user: tuple[Setting, ...]
    redefined: frozenset[str]  # user settings esp_config.h already defines otherwise
    unexpressed: tuple[str, ...]  # options neither a symbol nor the user header can carry


@lru_cache(maxsize=None)
def load(name: str) -> Release:
    """An ESP-IDF release's facts (configgen/sdk/esp-idf-<name>.json) and rules."""
    table = rules("espidf.toml")
    if name not in table["release"]:
        raise ProfileError(f"ESP-IDF {name!r} is not a release configgen knows "
                           f"(known: {', '.join(esp_idf_releases())})")
    data = json.loads(resources.read_text(f"sdk/{data_name(name)}"))
    own = table["release"][name]
    return Release(name, own["mbedtls"], own["vocabulary"], tuple(own["user_header"]),
                   data["symbols"], tuple(data["rows"]), data["kconfig"], data["esp_config"], table)


def _port(release: Release, macro: str) -> bool:
    return any(fnmatch.fnmatchcase(macro, p) for p in release.rules["port"]["macros"])


def _board_symbols(release: Release) -> set[str]:
    board = release.rules["board"]
    return {*board["accelerated"].values(), board["bundle"], board["dynamic_buffer"]}


def flags(release: Release) -> dict[str, tuple[str, ...]]:
    """Each settable bool symbol -> the mbedTLS macros it alone defines (esp_config.h order),
    leaving out the port's own macros and the symbols the board decides."""
    found: dict[str, list[str]] = {}
    skip = _board_symbols(release)
    for row in release.rows:
        when = row["when"]
        if row["action"] != "define" or len(when) != 1 or _port(release, row["macro"]):
            continue
        if row["value"] is not None and not (row["macro"].startswith("PSA_WANT_") and row["value"] == "1"):
            continue
        match = _SINGLE.match(when[0])
        symbol = match and (match.group(1) or match.group(2))
        facts = release.symbols.get(symbol or "")
        if not symbol or not facts or symbol in skip or facts["type"] != "bool" or not facts["prompt"]:
            continue
        if row["macro"] not in found.setdefault(symbol, []):
            found[symbol].append(row["macro"])
    return {symbol: tuple(macros) for symbol, macros in found.items()}


def _vocabulary(options: OptionSet, kb: KnowledgeBase, release: Release) -> set[str]:
    """The macros the option set amounts to, in the release's vocabulary."""
    values = options.values()
    if release.vocabulary == "mbedtls-3.6":
        return set(values)
    # mbedTLS 3.6 derives PSA_WANT_* from the legacy options once PSA is on.
    outcome = kb.evaluate({**values, "MBEDTLS_PSA_CRYPTO_C": None})
    return set(values) | {name for name in outcome.macros.table if name.startswith("PSA_WANT_")}


def esp_config(release: Release, config: Mapping[str, str],
               chip: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The mbedTLS macros esp_config.h defines for these sdkconfig values (symbol -> "y", "n"
    or a number; absent is n) on a chip (its SOC_* macros; unknown: none): its rows run in
    order, as the compiler would."""
    initial: dict[str, tuple[tuple[str, ...] | None, str]] = {
        name: (None, value) for name, value in (chip or {}).items()}
    for symbol, value in config.items():
        if value != "n":
            initial[f"CONFIG_{symbol}"] = (None, "1" if value == "y" else value)
    macros = cpp.Macros(initial)
    for row in release.rows:
        if not macros.evaluate(" && ".join(f"({c})" for c in row["when"]) or "1"):
            continue
        if row["action"] == "define":
            macros.table[row["macro"]] = (None, row["value"] or "")
        else:
            macros.table.pop(row["macro"], None)
    found: dict[str, str | None] = {}
    for name, (_, body) in macros.table.items():
        if name.startswith("CONFIG_") or name in (chip or {}):
            continue
        if body.startswith("CONFIG_"):
            body = config.get(body[len("CONFIG_"):], body)
        found[name] = body or None
    return found


def _why_on(macros: list[str], options: OptionSet) -> tuple[str, ...]:
    reasons: set[str] = set()
    for macro in macros:
        setting = options.get(macro)
        reasons.update(setting.reasons if setting else
                       (f"{macro} follows from the header's options (mbedTLS 3.6 config_adjust_psa_from_legacy.h)",))
    return tuple(sorted(reasons))


def _records(release: Release, options: OptionSet) -> list[Line]:
    lines: dict[str, Line] = {}
    for row in release.rows:
        setting = options.get(row["macro"])
        value = row["value"] or ""
        if row["action"] != "define" or setting is None or setting.value is None or not value.startswith("CONFIG_"):
            continue
        symbol = value[len("CONFIG_"):]
        low, high = release.symbols[symbol].get("range", (0, 1 << 31))
        size = min(max(int(setting.value, 0), low), high)
        why = setting.reasons
        if size != int(setting.value, 0):
            why += (f"Kconfig range of CONFIG_{symbol} is {low}-{high}",)
        for term in row["when"]:
            on, off = _ON.match(term), _OFF.match(term)
            name = (on.group(1) or on.group(2)) if on else off.group(1) if off else None
            if name:
                known = lines[name].reasons if name in lines else ()
                why_on = (f"esp_config.h reads CONFIG_{symbol} only with{'' if on else 'out'} it",)
                lines[name] = Line(name, "y" if on else "n", tuple(sorted({*known, *why_on})), RECORDS)
        lines[symbol] = Line(symbol, str(size), tuple(why), RECORDS, (row["macro"],), setting.derivation)
    return list(lines.values())


def _board(release: Release, options: OptionSet, profile: Profile) -> list[Line]:
    rules = release.rules
    board = profile.board
    found = []
    if options.get("MBEDTLS_SSL_CLI_C") and not options.get("MBEDTLS_SSL_SRV_C"):
        found.append(Line(rules["choice"]["client_only"], "y",
                          ("the device is a TLS client (MBEDTLS_SSL_CLI_C, no MBEDTLS_SSL_SRV_C)",), BOARD))
    accelerated = ", ".join(f'"{a}"' for a in board.accelerated)
    for what, symbol in sorted(rules["board"]["accelerated"].items()):
        on = what in board.accelerated
        found.append(Line(symbol, "y" if on else "n",
                          (f"board {board.name}: accelerated = [{accelerated}] ({board.source})",), BOARD))
    if profile.ca:
        anchors = ", ".join(profile.relative(p) for p in profile.ca)
        found.append(Line(rules["board"]["bundle"], "n",
                          (f"[trust].ca: the firmware loads its own trust anchors ({anchors}); "
                           "the bundle of public roots would only cost flash",), BOARD))
    buffers = sum(int(s.value) for s in options.settings
                  if s.name in ("MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_OUT_CONTENT_LEN") and s.value)
    short = buffers + WORKING_SET > board.heap_kib * 1024
    found.append(Line(rules["board"]["dynamic_buffer"], "y" if short else "n", (
        f"board {board.name}: {board.heap_kib} KiB of heap for {buffers:,} bytes of record buffers "
        f"and about {WORKING_SET // 1024} KiB of handshake: "
        + ("allocate the buffers only while in use" if short else "fixed buffers fit"),), BOARD))
    return found


def _close(release: Release, lines: dict[str, Line]) -> None:
    """Turn on what Kconfig's `depends on` asks of every symbol that is on, and what it
    `select`s (Kconfig would anyway: the fragment says so, with why)."""
    changed = True
    while changed:
        changed = False
        for line in list(lines.values()):
            if line.value == "n":
                continue
            facts_of = release.symbols.get(line.symbol, {})
            pulled = [(n, "depends on") for n in facts_of.get("needs", ())]
            pulled += [(n, "selects") for n in facts_of.get("selects", ())]
            for need, how in pulled:
                facts = release.symbols[need]
                current = lines.get(need)
                if facts["type"] != "bool" or facts.get("choice") or (current and current.value == "y"):
                    continue
                if not facts["prompt"] and current is None:
                    continue
                reason = f"Kconfig: CONFIG_{line.symbol} {how} CONFIG_{need}"
                section = current.section if current else FEATURES
                lines[need] = Line(need, "y", (reason,), section, current.sets if current else ())
                changed = True


def plan(options: OptionSet, profile: Profile, kb: KnowledgeBase, release_name: str) -> Plan:
    """The sdkconfig lines and user header that make ESP-IDF build `options`."""
    release = load(release_name)
    have = _vocabulary(options, kb, release)
    lines: dict[str, Line] = {line.symbol: line for line in _records(release, options)}
    for symbol, macros in flags(release).items():
        on = [m for m in macros if m in have]
        sets = macros if list(macros) != [symbol] else ()
        if on:
            lines[symbol] = Line(symbol, "y", _why_on(on, options), FEATURES, sets)
        else:
            lines[symbol] = Line(symbol, "n", (f"no input needs {' or '.join(macros)}",), FEATURES, sets)
    lines.update({line.symbol: line for line in _board(release, options, profile)})
    _close(release, lines)
    config = {**release.rules["computed"], **{s: line.value for s, line in lines.items()}}
    provided = esp_config(release, config)
    user, unexpressed = [], []
    for setting in options.settings:
        if setting.name in provided and (setting.value is None or provided[setting.name] == setting.value):
            continue
        if setting.name.startswith(release.user_prefixes):
            user.append(setting)
        else:
            unexpressed.append(setting.name)
    order = {RECORDS: 0, FEATURES: 1, BOARD: 2}
    ordered = sorted(lines.values(), key=lambda line: order[line.section])
    redefined = frozenset(s.name for s in user if s.name in provided)
    return Plan(release, tuple(ordered), tuple(user), redefined, tuple(unexpressed))


def cmake_lines(folder: str = "") -> tuple[str, str]:
    """The lines of the project's top-level CMakeLists.txt (before project()) that read the
    fragment and make esp_config.h include the user header; `folder` is where they are,
    relative to the project (as -o named it)."""
    at = f"{folder.rstrip('/')}/" if folder else ""
    return (f'set(SDKCONFIG_DEFAULTS "sdkconfig.defaults;{at}{FRAGMENT}")',
            'idf_build_set_property(COMPILE_OPTIONS '
            f'"-DMBEDTLS_USER_CONFIG_FILE=\\"${{CMAKE_SOURCE_DIR}}/{at}{USER_HEADER}\\"" APPEND)')


def render(plan: Plan, options: OptionSet, context: HeaderContext, folder: str = "") -> dict[str, str]:
    """The fragment and the user header, by file name (`folder`: see cmake_lines)."""
    env = environment()
    sections = [(title, [line for line in plan.lines if line.section == title])
                for title in (RECORDS, FEATURES, BOARD)]
    common = dict(plan=plan, options=options, board=context.board, command=context.command,
                  inputs=context.inputs, configgen_version=__version__, cmake=cmake_lines(folder),
                  user_header=USER_HEADER, fragment=FRAGMENT)
    return {
        FRAGMENT: env.get_template("sdkconfig.defaults.j2").render(
            file_name=FRAGMENT, sections=sections, **common),
        USER_HEADER: env.get_template("mbedtls_user_config.h.j2").render(file_name=USER_HEADER, **common),
    }
