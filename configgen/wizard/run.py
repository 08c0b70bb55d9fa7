"""One run of the wizard, and `configgen wizard`'s entry point `main()`.

Asks the server questions and probes each server (`probe_live`, replaced in tests), asks
the platform questions (re-probing when the mbedTLS line changed) and the file questions,
then stages the snapshots and the profile, reads the profile back with `profile.load`,
shows the findings and what the header enables, proves the header, and asks to keep it all.

The header comes from `generate()` replaying the snapshots the wizard saved, exactly as the
banner's command does. Nothing stays on disk unless the user confirms: the files are written
(they must be, for `profile.load` and `generate()` to read them) inside
`_undo_on_failure()`, which restores the previous state on Ctrl-C, on an error, or when the
user declines. The key password lives in this process's environment for `generate` and the
proof only, never in a file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from configgen import kb as knowledge
from configgen import profile as profiles
from configgen import sources
from configgen.arguments import parse_server
from configgen.errors import ConfiggenError
from configgen.generate import ENV_KEY_PASSWORD, Generated, command_for, generate
from configgen.model.facts import ServerFacts
from configgen.model.profile import Profile
from configgen.output import current_text, write_if_changed
from configgen.probe import Target, Timeouts, probe, snapshot
from configgen.probe.plan import target_for
from configgen.probe.runner import Progress
from configgen.prove import Mode, prove
from configgen.report.progress import ProgressLine
from configgen.sdk import outputs
from configgen.wizard.answers import State, existing_answers
from configgen.wizard.findings import enabled_lines, findings, findings_table, summary
from configgen.wizard.profilefile import profile_text, snapshot_name
from configgen.wizard.prompts import Terminal, ask
from configgen.wizard.questions import (
    FILE_QUESTIONS,
    PLATFORM_QUESTIONS,
    SOURCE_TREE,
    Answers,
    items,
    more_servers,
    server_questions,
    write_files,
)

NO_TERMINAL = 'no terminal to ask on; use "configgen generate --profile FILE"'

ProbeFn = Callable[[Target, Progress], ServerFacts]


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


# --- the undo transaction --------------------------------------------------------------------


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
    before.append((path, current_text(path)))


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
        with ProgressLine(sys.stdout, indent="  ") as shown:
            progress = shown.probing(where.where)
            progress(0, f"mbedTLS {line} suites")
            facts = self.probe(where, progress)
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
                proven = prove(result.text, loaded, result.anchors, Mode.AUTO, [tree] if tree else None,
                               lambda what: print(f"  {what}..."), result.release.release)
            print("Verified before writing\n" + "\n".join(f"  {line}" for line in proven.banner()) + "\n")
            if result.options.warnings:
                print("Warnings\n" + "\n".join(f"  {w}" for w in result.options.warnings) + "\n")
            question = write_files(self.profile_path, len(loaded.servers), self.header_path)
            if not ask(question, {question.name: True}, self.terminal):
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
        existing = current_text(self.profile_path)
        for index, name in enumerate(names):
            _remember(before, base / name)
            snapshot.save(state.facts[index], base / name)
        _remember(before, self.profile_path)
        write_if_changed(self.profile_path, profile_text(answers, existing, base, names, targets))
        return profiles.load(self.profile_path)


def main(profile_path: Path, header_path: Path) -> int:
    """`configgen wizard`: run on this terminal, then say how to regenerate without questions."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfiggenError(NO_TERMINAL)
    try:
        result = Wizard(profile_path, header_path).run()
    except Declined:
        print("Nothing written.")
        return 0
    print(f"Wrote {profile_path} and {header_path}. To regenerate without questions:")
    print(f"  {result.command}")
    return 0
