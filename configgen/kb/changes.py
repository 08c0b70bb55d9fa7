"""What changed between two extracted knowledge bases (`configgen kb diff 3.6.6 3.6.7`). Pure.

The knowledge base is kept per line; this says, in lines a reviewer reads, what a newer
release of the line adds or removes: options (and their defaults), ciphersuites, error
codes, verify flags, X.509 tables and the configuration headers' directives.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping


def _keyed(items: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any]) -> dict[Any, Mapping[str, Any]]:
    return {key(item): item for item in items}


def _compare(what: str, old: dict[Any, Mapping[str, Any]], new: dict[Any, Mapping[str, Any]],
             name: Callable[[Any], str], fields: tuple[str, ...]) -> list[str]:
    found = [f"{what} added: {name(k)}" for k in new if k not in old]
    found += [f"{what} removed: {name(k)}" for k in old if k not in new]
    for key in old.keys() & new.keys():
        for field in fields:
            if old[key].get(field) != new[key].get(field):
                found.append(f"{what} {name(key)}: {field} {old[key].get(field)!r} -> {new[key].get(field)!r}")
    return sorted(found)


def _nested(where: str, old: Any, new: Any) -> list[str]:
    """Differences inside X.509 tables: per key of a table, per item of a list."""
    if old == new:
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return [line for key in sorted(old.keys() | new.keys())
                for line in _nested(f"{where} {key}", old.get(key), new.get(key))]
    if isinstance(old, list) and isinstance(new, list):
        return ([f"{where}: added {item!r}" for item in new if item not in old]
                + [f"{where}: removed {item!r}" for item in old if item not in new])
    return [f"{where}: {old!r} -> {new!r}"]


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One line per difference between two knowledge bases (extract.extract() data)."""
    found = _compare("option", _keyed(old["options"], lambda o: o["name"]),
                     _keyed(new["options"], lambda o: o["name"]), str,
                     ("default_enabled", "value", "section", "requires"))
    found += _compare("suite", _keyed(old["suites"], lambda s: s["id"]),
                      _keyed(new["suites"], lambda s: s["id"]),
                      lambda i: f"0x{i:04X}", ("name", "guard", "requires", "min_tls", "max_tls"))
    found += _compare("error", _keyed(old["errors"], lambda e: (e["code"], e["name"])),
                      _keyed(new["errors"], lambda e: (e["code"], e["name"])),
                      lambda k: f"-0x{-k[0]:04X} {k[1]}", ("description", "module"))
    found += _compare("verify flag", _keyed(old["verify_flags"], lambda f: f["name"]),
                      _keyed(new["verify_flags"], lambda f: f["name"]), str, ("bit", "description"))
    found += _nested("x509", old["x509"], new["x509"])
    old_files, new_files = old["preprocessor"]["files"], new["preprocessor"]["files"]
    found += [f"configuration header {name}: directives changed"
              for name in sorted(old_files.keys() | new_files.keys())
              if old_files.get(name) != new_files.get(name)]
    if old["config_tail"] != new["config_tail"]:
        found.append("config tail: changed")
    return found
