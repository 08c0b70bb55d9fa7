"""The option set: name -> value and the reasons it is there, in mbedTLS's header order.

Modelled on mbedTLS's scripts/config.py: a header is an ordered list of settings. Only
active settings are held; anything absent is off.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None  # None: a flag (#define NAME)
    section: str
    index: int  # position in the line's default config header
    reasons: tuple[str, ...]  # sorted "via" lines
    derivation: str | None = None  # how a numeric value follows from the facts


@dataclass(frozen=True)
class OptionSet:
    line: str
    version: str
    settings: tuple[Setting, ...]  # in header order
    weakened: tuple[tuple[str, str], ...] = ()  # (option, why), for the banner
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # what will likely fail on the board: banner and stderr

    def names(self) -> set[str]:
        return {s.name for s in self.settings}

    def get(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)

    def values(self) -> dict[str, str | None]:
        return {s.name: s.value for s in self.settings}
