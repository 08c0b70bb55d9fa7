"""The wizard: asks, probes, inspects, and writes a project profile and the header.

It is a front end to what `configgen generate --profile` does, never a second
implementation (STYLE.md, copier rules 1-5):

- Every question is a `Question` (name, kind, message, help, validator, `when`). Its default
  is looked up by name in `layered()`, the one place answers are layered: this run's answers
  > the existing profile > defaults derived from facts > the board's defaults.
- Validators call the functions the non-interactive path calls (`arguments.parse_server`,
  `sources.open_tree`, `inspect.read_bytes`/`parse`); the profile the wizard writes is then
  checked by `profile.load` itself, and the header comes from `generate()` replaying the
  snapshots the wizard saved, exactly as the banner's command does.
- A key password is asked with `questionary.password` and kept in memory only.
- Nothing stays on disk unless the user confirms: the profile and snapshots are written (they
  must be, for `profile.load` and `generate()` to read them) inside `_undo_on_failure()`,
  which restores the previous state on Ctrl-C, on an error, or when the user declines.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT

from configgen import sources
from configgen import kb as knowledge
from configgen.arguments import parse_server
from configgen import profile as profiles
from configgen.errors import ConfiggenError
from configgen.model.profile import Profile
from configgen.generate import ENV_KEY_PASSWORD, Generated, anchors, command_for, generate
from configgen.output import write_if_changed
from configgen.model.facts import ServerFacts
from configgen.probe import Target, Timeouts, probe, snapshot
from configgen.probe.plan import target_for
from configgen.probe.runner import Progress
from configgen.prove import Mode, prove
from configgen.sdk import outputs
from configgen.wizard.answers import State, existing_answers
from configgen.wizard.findings import enabled_lines, findings, findings_table, summary
from configgen.wizard.prompts import Terminal, ask
from configgen.wizard.questions import (
    FILE_QUESTIONS,
    PLATFORM_QUESTIONS,
    SOURCE_TREE,
    Answers,
    Kind,
    Question,
    is_board_path,
    items,
    more_servers,
    presents_client,
    sdk_formats,
    server_questions,
)

NO_TERMINAL = 'no terminal to ask on; use "configgen generate --profile FILE"'

ProbeFn = Callable[[Target, Progress], ServerFacts]


def _stored(base: Path, answer: str) -> str:
    """A path the user typed, as the profile stores it (relative to the profile)."""
    return Path(os.path.relpath(Path(answer).resolve(), base.resolve())).as_posix()


# --- probing ---------------------------------------------------------------------------------


def target(answers: Answers, index: int, line: str) -> Target:
    """What `generate` would probe for server `index`, as its profile entry will say (PSK
    suites too when the existing profile's [policy].psk says the device has a key)."""
    host, port = parse_server(answers[f"server.{index}.address"])
    sni = answers.get(f"server.{index}.sni") or None
    return target_for(host, port, sni, _alpn(answers, index), line, knowledge.load(line).suites,
                      bool(answers.get("policy.psk")))


def _alpn(answers: Answers, index: int) -> tuple[str, ...]:
    return tuple(items(answers.get(f"server.{index}.alpn") or ""))


def probe_live(where: Target, progress: Progress) -> ServerFacts:
    """The real probe, as `configgen generate` runs it."""
    return probe(where, Timeouts(5.0, 5.0), 30.0, progress=progress)


def _show_progress(where: str) -> Progress:
    def show(connections: int, question: str) -> None:
        sys.stdout.write(f"\r\033[K  probing {where}: {connections} connections ({question})")
        sys.stdout.flush()

    return show


# --- the profile written ---------------------------------------------------------------------


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


@contextlib.contextmanager
def _undo_on_failure() -> Iterator[list[tuple[Path, str | None]]]:
    """Yield a list to record (path, previous text or None) before writing each file; on any
    exception (Ctrl-C included) every recorded file is put back as it was."""
    before: list[tuple[Path, str | None]] = []
    try:
        yield before
    except BaseException:
        for path, text in reversed(before):
            if text is None:
                path.unlink(missing_ok=True)
            else:
                write_if_changed(path, text)
        raise


def _remember(before: list[tuple[Path, str | None]], path: Path) -> None:
    before.append((path, path.read_text() if path.is_file() else None))


class Declined(Exception):
    """The user said no at the last question (nothing is kept)."""


# --- the run ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _key_password(password: str | None) -> Iterator[None]:
    """The device key's password where generate and configgen's test client read it
    (CONFIGGEN_KEY_PASSWORD), for the duration of the block; never written anywhere."""
    before = os.environ.get(ENV_KEY_PASSWORD)
    if password:
        os.environ[ENV_KEY_PASSWORD] = password
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_KEY_PASSWORD, None)
        else:
            os.environ[ENV_KEY_PASSWORD] = before


@dataclass(frozen=True)
class Wizard:
    """One run: where to write, how to ask, how to probe (tests replace the last two)."""

    profile_path: Path
    header_path: Path
    terminal: Terminal = Terminal()
    probe: ProbeFn = probe_live

    def run(self) -> Generated:
        """Ask everything, then write the profile, its snapshots and the header."""
        state = State(existing_answers(self.profile_path))
        source = f"answers pre-filled from {self.profile_path}" if state.existing else "a new profile"
        print(f"configgen wizard: {source}; writes {self.profile_path} and {self.header_path} at the "
              "end, when you say so (Ctrl-C stops with nothing written)\n")
        self._servers(state)
        state.ask(PLATFORM_QUESTIONS, self.terminal)
        if state.answered.get("mbedtls") == SOURCE_TREE:
            state.answered["mbedtls"] = self._line_of_tree(state)
        self._reprobe(state)
        state.ask(FILE_QUESTIONS, self.terminal)
        return self._write(state)

    def _servers(self, state: State) -> None:
        index = 0
        while True:
            self._server(state, index, state.layered()["mbedtls"])  # re-probed if the line changes
            if not self._more(state, index):
                return
            index += 1

    def _more(self, state: State, index: int) -> bool:
        question = more_servers(index)
        state.answered[question.name] = ask(question, state.layered(), self.terminal)
        return bool(state.answered[question.name])

    def _server(self, state: State, index: int, line: str) -> None:
        while True:
            state.ask(server_questions(index), self.terminal)
            try:
                self._probe(state, index, line)
                return
            except ConfiggenError as error:
                print(f"  {error}")

    def _probe(self, state: State, index: int, line: str) -> None:
        where = target(state.layered(), index, line)
        progress = _show_progress(where.where)
        progress(0, f"mbedTLS {line} suites")
        try:
            facts = self.probe(where, progress)
        finally:
            sys.stdout.write("\r\033[K")
        state.facts[index] = facts
        print(f"  {summary(facts)}")

    def _reprobe(self, state: State) -> None:
        """Probe again with the chosen line's suites where it differs from the probe's."""
        line = state.layered()["mbedtls"]
        for index, facts in sorted(state.facts.items()):
            if facts.mbedtls != line:
                self._probe(state, index, line)

    def _line_of_tree(self, state: State) -> str:
        tree = sources.open_tree(state.answered["mbedtls.source"])
        board = profiles.load_board(state.layered()["board"])
        if tree.line not in board.mbedtls:
            raise ConfiggenError(f"board {board.name!r} ships mbedTLS {', '.join(board.mbedtls)}, "
                                 f"not {tree.version}", where=str(tree.root))
        print(f"  {tree.root}: mbedTLS {tree.version}")
        return tree.line

    def _write(self, state: State) -> Generated:
        """Stage the profile and snapshots, show findings and options, then ask to keep them."""
        with _undo_on_failure() as before:
            loaded = self._stage(state, before)
            password = state.answered.get("client.key.password")
            rows = findings(loaded, [state.facts[i] for i in sorted(state.facts)],
                            password.encode() if password else None)
            print("\nFindings\n" + "\n".join(findings_table(rows)))
            command = None
            if loaded.format != "header":  # the profile names an SDK format; the wizard shows the header
                command = f"{command_for(loaded, str(self.header_path), None, True)} --format header"
            with _key_password(password):  # in this process's memory only, for generate and the proof
                result = generate(loaded, str(self.header_path), offline=True, command=command)
                print("\nWhat the header enables, and why\n" + "\n".join(enabled_lines(result)) + "\n")
                tree = state.answered.get("mbedtls.source")
                proven = prove(result.text, loaded, anchors(loaded), Mode.AUTO, [tree] if tree else None,
                               lambda what: print(f"  {what}..."))
            print("Verified before writing\n" + "\n".join(f"  {line}" for line in proven.banner()) + "\n")
            if result.options.warnings:
                print("Warnings\n" + "\n".join(f"  {w}" for w in result.options.warnings) + "\n")
            question = Question("write", Kind.CONFIRM,
                                f"Write {self.profile_path}, {len(loaded.servers)} snapshot(s) and "
                                f"{self.header_path}?", "no: nothing is kept")
            if not ask(question, {"write": True}, self.terminal):
                raise Declined
            _remember(before, self.header_path)
            write_if_changed(self.header_path, result.text)
        if loaded.format != "header":
            print(f"The profile asks for format {loaded.format!r}: "
                  f"{outputs.command(loaded, loaded.format, 'DIR', None, True, False)} writes its files.")
        return result

    def _stage(self, state: State, before: list[tuple[Path, str | None]]) -> Profile:
        """Write the snapshots and the profile, and read the profile back with profile.load."""
        answers = state.layered()
        base = self.profile_path.parent
        targets = [target(answers, i, answers["mbedtls"]) for i in sorted(state.facts)]
        names = [answers.get(f"server.{i}.snapshot") or snapshot_name(self.profile_path, t)
                 for i, t in enumerate(targets)]
        existing = self.profile_path.read_text() if self.profile_path.is_file() else None
        for index, name in enumerate(names):
            _remember(before, base / name)
            snapshot.save(state.facts[index], base / name)
        _remember(before, self.profile_path)
        write_if_changed(self.profile_path, profile_text(answers, existing, base, names, targets))
        return profiles.load(self.profile_path)
