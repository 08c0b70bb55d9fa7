"""The answers, layered in one place: this run's answers > an existing profile's values >
defaults that follow from the facts probed > the board's defaults (`State.layered()`).

`existing_answers()` reads an existing profile (checked by `profile.load` first) back into
answers, paths as the user types them, so a re-run pre-fills every question.
"""

from __future__ import annotations

import contextlib
import os
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configgen import profile as profiles
from configgen.errors import ConfiggenError
from configgen.model.endpoint import endpoint
from configgen.model.facts import ServerFacts
from configgen.wizard.prompts import Terminal, ask
from configgen.wizard.questions import Answers, Question, is_board_path, items, read_facts


@dataclass(frozen=True)
class State:
    """What the wizard knows so far: this run's answers and the facts it gathered."""

    existing: dict[str, Any]
    answered: dict[str, Any] = field(default_factory=dict)
    facts: dict[int, ServerFacts] = field(default_factory=dict)

    def layered(self) -> ChainMap[str, Any]:
        """Answers by priority: this run > existing profile > facts > board defaults."""
        partial = ChainMap(self.answered, self.existing)
        return ChainMap(self.answered, self.existing, facts_defaults(partial, self.facts),
                        board_defaults(partial))

    def ask(self, questions: Sequence[Question], terminal: Terminal) -> None:
        for question in questions:
            if question.when(self.layered()):
                self.answered[question.name] = ask(question, self.layered(), terminal)


def facts_defaults(answers: Answers, facts: Mapping[int, ServerFacts]) -> dict[str, Any]:
    """Defaults that follow from what was observed."""
    found: dict[str, Any] = {}
    if facts:
        found["client"] = any(f.client_auth is not None for f in facts.values())
        board = answers.get("board")
        if board and all("1.2" not in f.versions for f in facts.values()) \
                and "3.6" in profiles.load_board(board).mbedtls:
            found["mbedtls"] = "3.6"
    ca = items(answers.get("trust.ca") or "")
    with contextlib.suppress(ConfiggenError):
        if ca and not read_facts(ca[0]).container.is_pem:
            found["trust.format"] = "der"
    return found


def board_defaults(answers: Answers) -> dict[str, Any]:
    """What the board imposes, and the defaults of a profile nobody has written yet."""
    board = answers.get("board") or profiles.board_names()[0]
    return {"board": board, "mbedtls": profiles.load_board(board).mbedtls[0],
            "trust.format": "pem", "client": False, "format": "header"}


# --- the existing profile as answers -------------------------------------------------------


def existing_answers(path: Path) -> dict[str, Any]:
    """An existing profile's answers (checked by profile.load first); {} when there is none."""
    if not path.is_file():
        return {}
    profiles.load(path)
    data = profiles.read_toml(path)
    base = path.parent
    board = data["board"]
    found: dict[str, Any] = {"board": _shown(base, board) if is_board_path(board) else board}
    if "mbedtls" in data:
        found["mbedtls"] = data["mbedtls"]
    if "format" in data:
        found["format"] = data["format"]
    entries = data.get("server", [])
    for index, entry in enumerate(entries):
        prefix = f"server.{index}"
        found[f"{prefix}.address"] = endpoint(entry["host"], entry.get("port", 443))
        found[f"{prefix}.sni"] = entry.get("sni", "")
        found[f"{prefix}.alpn"] = ", ".join(entry.get("alpn", ()))
        found[f"{prefix}.app_record_max"] = str(entry.get("app_record_max", ""))
        found[f"server.more.{index}"] = index + 1 < len(entries)
        if "snapshot" in entry:
            found[f"{prefix}.snapshot"] = entry["snapshot"]
    found["policy.psk"] = data.get("policy", {}).get("psk", False)
    trust = data.get("trust", {})
    if trust.get("ca"):
        found["trust.ca"] = ", ".join(_shown(base, p) for p in trust["ca"])
    found["trust.format"] = trust.get("format", "pem")
    client = data.get("client", {})
    found["client"] = bool(client)
    for key in ("cert", "key"):
        if key in client:
            found[f"client.{key}"] = _shown(base, client[key])
    return found


def _shown(base: Path, stored: str) -> str:
    """A path stored relative to the profile, as the user types it (relative to here)."""
    return os.path.relpath(base / stored)
