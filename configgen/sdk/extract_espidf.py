"""Regenerate configgen's facts about one ESP-IDF release from that release's own files.

    python -m configgen.sdk.extract_espidf KCONFIG CONFIG_MAP.json RELEASE

reads `components/mbedtls/Kconfig` (with kconfiglib, a test dependency: only this script and
the tests need it) and the table extracted from the release's `esp_config.h` (which mbedTLS
macro each CONFIG_ symbol defines or undefines, under which conditions), and writes
configgen/sdk/esp-idf-RELEASE.json: every symbol's type, whether it has a prompt (only then
does sdkconfig.defaults set it), its range and choice, what its `depends on` asks of other
symbols of the component and what it `select`s (unconditionally) — plus the esp_config.h rows as they are. The renderer
(configgen/sdk/espidf.py) reads that file and never the Kconfig. Output is deterministic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from configgen import output, readers, resources

_TABLE = readers.Kind("a table extracted from esp_config.h (JSON)", 4 * readers.MIB)


def data_name(release: str) -> str:
    return f"esp-idf-{release}.json"


def _conjuncts(expr: Any, kconfiglib: Any) -> list[Any]:
    """The terms of an && chain (an || or a comparison is one opaque term)."""
    if isinstance(expr, tuple) and expr[0] == kconfiglib.AND:
        return _conjuncts(expr[1], kconfiglib) + _conjuncts(expr[2], kconfiglib)
    return [expr]


def _dependencies(sym: Any, kconfiglib: Any) -> tuple[list[str], list[str]]:
    """The symbols of this component that `depends on` needs y, and those it needs n."""
    on: set[str] = set()
    off: set[str] = set()
    for term in _conjuncts(sym.direct_dep, kconfiglib):
        if isinstance(term, kconfiglib.Symbol) and term.nodes:
            on.add(term.name)
        elif (isinstance(term, tuple) and term[0] == kconfiglib.NOT
              and isinstance(term[1], kconfiglib.Symbol) and term[1].nodes):
            off.add(term[1].name)
    return sorted(on), sorted(off)


def extract(kconfig: Path, config_map: Path, release: str) -> dict[str, Any]:
    import kconfiglib  # a test dependency: only the extractor and the tests read Kconfig

    config = kconfiglib.Kconfig(str(kconfig), warn=False)
    symbols: dict[str, Any] = {}
    for sym in config.unique_defined_syms:
        needs, excludes = _dependencies(sym, kconfiglib)
        entry: dict[str, Any] = {
            "type": kconfiglib.TYPE_TO_STR[sym.orig_type],
            "prompt": any(node.prompt for node in sym.nodes),
        }
        if sym.choice is not None:
            entry["choice"] = sym.choice.name
        if sym.ranges:
            low, high, _ = sym.ranges[0]
            entry["range"] = [int(low.str_value, 0), int(high.str_value, 0)]
        if needs:
            entry["needs"] = needs
        if excludes:
            entry["excludes"] = excludes
        selects = sorted(target.name for target, cond in sym.selects if cond is config.y)
        if selects:
            entry["selects"] = selects
        symbols[sym.name] = entry
    table = readers.read_json(config_map, _TABLE)
    return {
        "release": release,
        "kconfig": f"{kconfig.name}: components/mbedtls/Kconfig of ESP-IDF {release}",
        "esp_config": table["source"],
        "note": table["note"],
        "symbols": dict(sorted(symbols.items())),
        "rows": table["rows"],
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    kconfig, config_map, release = Path(argv[0]), Path(argv[1]), argv[2]
    output.write_text(resources.path(f"sdk/{data_name(release)}"), dumps(extract(kconfig, config_map, release)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
