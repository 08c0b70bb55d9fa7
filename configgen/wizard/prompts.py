"""One question asked on a terminal through questionary, with its layered default.

Enter answers every prompt, a yes/no one too (`auto_enter=False`): answered on the key press
alone, a habitual "n" + Enter also answered the next question. A password is asked with
`questionary.password` and returned, never stored. The only module of the wizard that
imports questionary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import questionary

from configgen.wizard.questions import Answers, Kind, Question, Validator


@dataclass(frozen=True)
class Terminal:
    """Where questions are asked: the real terminal (None, None) or a test's pipe."""

    input: Any = None
    output: Any = None

    def kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in (("input", self.input), ("output", self.output)) if v is not None}


def _for_questionary(check: Validator, answers: Answers) -> Callable[[str], str | bool]:
    def validate(text: str) -> str | bool:
        return check(text, answers) or True  # questionary wants True for a good answer

    return validate


def _confirm(q: Question, default: Any, validate: Any, io: dict[str, Any]) -> questionary.Question:
    # Enter confirms, as every other question: answered on the key press alone, a habitual
    # "n" + Enter also answered the next question (it confirmed writing the files).
    return questionary.confirm(q.message, default=bool(default), instruction=f"({q.help}) ",
                               auto_enter=False, **io)


def _select(q: Question, default: Any, validate: Any, io: dict[str, Any],
            answers: Answers) -> questionary.Question:
    choices = [questionary.Choice(title, value) for value, title in q.choices(answers)]
    known = default in {c.value for c in choices}
    return questionary.select(q.message, choices, default=default if known else None,
                              instruction=f"({q.help})", **io)


def _password(q: Question, default: Any, validate: Any, io: dict[str, Any]) -> questionary.Question:
    return questionary.password(f"{q.message} ({q.help})", validate=validate, **io)


def _path(q: Question, default: Any, validate: Any, io: dict[str, Any]) -> questionary.Question:
    return questionary.path(f"{q.message} ({q.help})", default=str(default or ""),
                            validate=validate, **io)


def _text(q: Question, default: Any, validate: Any, io: dict[str, Any]) -> questionary.Question:
    return questionary.text(q.message, default=str(default or ""), validate=validate,
                            instruction=f"({q.help})", **io)


_PROMPTS = {Kind.CONFIRM: _confirm, Kind.PASSWORD: _password, Kind.PATH: _path, Kind.TEXT: _text}


def ask(question: Question, answers: Answers, terminal: Terminal) -> Any:
    """Ask one question with its layered default; KeyboardInterrupt propagates (Ctrl-C)."""
    default = answers.get(question.name)
    check = question.validate
    validate = _for_questionary(check, answers) if check else None
    io = terminal.kwargs()
    if question.kind is Kind.SELECT:
        prompt = _select(question, default, validate, io, answers)
    else:
        prompt = _PROMPTS[question.kind](question, default, validate, io)
    answer = prompt.unsafe_ask()
    return answer.strip() if isinstance(answer, str) and question.kind is not Kind.PASSWORD else answer
