"""A C config header as configgen reads it: its verbatim lines and the option defines among
them (configgen/headerfile.py parses one; readers.read_header reads the file)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Define:
    """One `#define` of an option, as the header has it."""

    name: str
    value: str | None  # None for a flag; the text before any trailing comment otherwise
    active: bool  # False when commented out (//#define NAME)
    line: int  # 1-based line of the #define
    comment: str | None = None  # trailing /* ... */ on the same line (configgen's derivation)
    reasons: tuple[str, ...] = ()  # the "via" lines below it
    conditional: bool = False  # inside #if/#ifdef: whether it applies depends on other macros


@dataclass(frozen=True)
class Header:
    """A parsed header: the verbatim lines and the option defines among them."""

    lines: tuple[str, ...]  # with their line endings: "".join(lines) is the original text
    defines: tuple[Define, ...]
    where: str  # the file name, for messages
    line_hint: str | None = None  # "2.28" or "3.6" when the banner of configgen says so
    board: str | None = None
    weakened: tuple[str, ...] = ()  # configgen's "Weakened on purpose" entries

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def generated(self) -> bool:
        return self.line_hint is not None

    def active(self) -> dict[str, str | None]:
        """Option name -> value of every active define (the last one wins, as in C)."""
        return {d.name: d.value for d in self.defines if d.active}

    def define(self, name: str) -> Define | None:
        found = [d for d in self.defines if d.name == name]
        active = [d for d in found if d.active]
        return (active or found)[-1] if found else None
