"""The answers as the project profile TOML, and where each server's snapshot goes beside it.

An existing profile is edited in place with tomlkit: its comments and the keys the wizard
does not ask about are kept. Paths are stored relative to the profile. Returns text; the run
writes it (and `profile.load` checks it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT

from configgen.probe import Target
from configgen.wizard.questions import Answers, is_board_path, items, presents_client, sdk_formats


def snapshot_name(profile_path: Path, where: Target) -> str:
    """Where a server's snapshot goes, beside the profile."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", where.host)
    return f"{profile_path.stem}.{host}-{where.port}.json"


def profile_text(answers: Answers, existing: str | None, base: Path,
                 snapshots: Sequence[str], targets: Sequence[Target]) -> str:
    """The project profile: the existing document (comments and keys the wizard does not ask
    about kept) with the answers set."""
    doc = tomlkit.parse(existing) if existing else _new_document()
    board = answers["board"]
    doc["board"] = _stored(base, board) if is_board_path(board) else board
    doc["mbedtls"] = answers["mbedtls"]
    if sdk_formats(answers) and answers.get("format", "header") != "header":
        doc["format"] = answers["format"]
    elif "format" in doc:
        del doc["format"]
    old = doc.get("server")
    servers = old if isinstance(old, AoT) else tomlkit.aot()
    while len(servers) > len(targets):
        del servers[len(servers) - 1]
    for index, (where, name) in enumerate(zip(targets, snapshots)):
        if index == len(servers):
            servers.append(tomlkit.table())
        _server_table(servers[index], answers, index, where, name)
    doc["server"] = servers
    trust = doc.setdefault("trust", tomlkit.table())
    trust["ca"] = [_stored(base, p) for p in items(answers["trust.ca"])]
    trust["format"] = answers["trust.format"]
    if presents_client(answers):
        client = doc.setdefault("client", tomlkit.table())
        client["cert"] = _stored(base, answers["client.cert"])
        client["key"] = _stored(base, answers["client.key"])
    elif "client" in doc:
        del doc["client"]
    return tomlkit.dumps(doc)


def _new_document() -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Project profile written by 'configgen wizard' (format: README.md)."))
    doc.add(tomlkit.comment("Paths are relative to this file; re-run the wizard to change it."))
    return doc


def _server_table(table: Any, answers: Answers, index: int, where: Target, name: str) -> None:
    table["host"] = where.host
    table["port"] = where.port
    _set_or_drop(table, "sni", answers.get(f"server.{index}.sni") or None)
    _set_or_drop(table, "alpn", list(where.alpn) or None)
    record_max = (answers.get(f"server.{index}.app_record_max") or "").strip()
    _set_or_drop(table, "app_record_max", int(record_max) if record_max else None)
    table["snapshot"] = name


def _set_or_drop(table: Any, key: str, value: Any) -> None:
    if value is not None:
        table[key] = value
    elif key in table:
        del table[key]


def _stored(base: Path, answer: str) -> str:
    """A path the user typed, as the profile stores it (relative to the profile)."""
    return Path(os.path.relpath(Path(answer).resolve(), base.resolve())).as_posix()
