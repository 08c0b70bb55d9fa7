"""The wizard's questions, as data, and the checks their answers pass.

Every question is a `Question` (name, kind, message, help, validator, `when`, choices); its
default is not here but looked up by name in `answers.State.layered()`. The validators call
the functions the non-interactive path calls (`arguments.parse_server`,
`profile.check_app_record_max`, `sources.open_tree`, `inspect.read_bytes`/`parse`), so an
answer the wizard takes is one `configgen generate --profile` takes too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from configgen import inspect, sources
from configgen import profile as profiles
from configgen.arguments import parse_server
from configgen.errors import ConfiggenError
from configgen.model.certificates import FileFacts

SOURCE_TREE = "source tree"  # the mbedtls answer that means "detect it from a tree"

Answers = Mapping[str, Any]
Validator = Callable[[str, Answers], "str | None"]  # the problem with an answer, or None


class Kind(str, Enum):
    TEXT = "text"
    PATH = "path"
    SELECT = "select"
    CONFIRM = "confirm"
    PASSWORD = "password"


def _always(_answers: Answers) -> bool:
    return True


def _no_choices(_answers: Answers) -> tuple[tuple[str, str], ...]:
    return ()


@dataclass(frozen=True)
class Question:
    """One question. Its default is `layered(...)[name]`; `validate` returns a problem or None."""

    name: str
    kind: Kind
    message: str
    help: str
    validate: Validator | None = None
    when: Callable[[Answers], bool] = _always
    choices: Callable[[Answers], tuple[tuple[str, str], ...]] = _no_choices  # (value, title)


# --- validators: the functions the non-interactive path calls -----------------------------


def _problem(check: Callable[[], object]) -> str | None:
    try:
        check()
    except ConfiggenError as error:
        return error.message
    return None


def check_address(text: str, _answers: Answers | None = None) -> str | None:
    return _problem(lambda: parse_server(text.strip()))


def check_app_record_max(text: str, _answers: Answers | None = None) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        return "a number of bytes, or empty when unknown"
    return profiles.check_app_record_max(int(text))


def check_source_tree(text: str, _answers: Answers | None = None) -> str | None:
    return _problem(lambda: sources.open_tree(text.strip()))


def read_facts(path: str | Path, password: bytes | None = None, label: str | None = None) -> FileFacts:
    """A certificate or key file an answer names, read as `generate` reads it."""
    return inspect.parse(inspect.read_bytes(path), label or str(path), password)


def _file_check(path: str, want: str) -> str | None:
    try:
        facts = read_facts(path)
    except inspect.PasswordNeeded:
        return None if want == "keys" else "is encrypted: give the certificate itself"
    except ConfiggenError as error:
        return error.message
    return None if getattr(facts, want) else f"holds no {want[:-1]}"


def check_certificates(text: str, _answers: Answers | None = None) -> str | None:
    paths = items(text)
    if not paths:
        return "name at least one file"
    return next((f"{p}: {problem}" for p in paths if (problem := _file_check(p, "certificates"))), None)


def check_key(text: str, _answers: Answers | None = None) -> str | None:
    return _file_check(text.strip(), "keys")


def check_password(text: str, answers: Answers) -> str | None:
    return _problem(lambda: read_facts(answers["client.key"], text.encode()))


def items(text: str) -> list[str]:
    """The items of a comma-separated answer (files, ALPN protocols)."""
    return [p.strip() for p in text.split(",") if p.strip()]


def _needs_password(path: str) -> bool:
    try:
        read_facts(path)
    except inspect.PasswordNeeded:
        return True
    return False


# --- the questions -------------------------------------------------------------------------


def server_questions(index: int) -> tuple[Question, ...]:
    """The questions about server `index` (0-based)."""
    prefix = f"server.{index}"
    return (
        Question(f"{prefix}.address", Kind.TEXT, "Server the device connects to (host:port)",
                 "the TLS endpoint, e.g. broker.example.com:8883", check_address),
        Question(f"{prefix}.sni", Kind.TEXT, "Server name (SNI) to send",
                 "empty: the host name, none for an IP address"),
        Question(f"{prefix}.alpn", Kind.TEXT, "ALPN protocols (comma-separated)",
                 "empty when the device asks for none"),
        Question(f"{prefix}.app_record_max", Kind.TEXT,
                 "Largest message the device receives from it, in bytes",
                 "empty when unknown: the input buffer then holds a full 16 KiB TLS record",
                 check_app_record_max),
    )


def more_servers(index: int) -> Question:
    return Question(f"server.more.{index}", Kind.CONFIRM, "Another server?",
                    "e.g. an OTA server beside the MQTT broker")


def _board_choices(answers: Answers) -> tuple[tuple[str, str], ...]:
    names = profiles.board_names()
    if is_board_path(answers.get("board", "")):
        names.append(answers["board"])
    width = max(map(len, names))
    return tuple((n, f"{n:<{width}}  {profiles.load_board(n).description}") for n in names)


def is_board_path(board: str) -> bool:
    """A board named by path (the user's own board profile), as profile.load_board tells."""
    return board.endswith(".toml") or "/" in board


def _line_choices(answers: Answers) -> tuple[tuple[str, str], ...]:
    lines = profiles.load_board(answers["board"]).mbedtls
    return tuple((line, f"mbedTLS {line}") for line in lines) + (
        (SOURCE_TREE, "detect it from an mbedTLS source tree"),)


def sdk_formats(answers: Answers) -> bool:
    """The board's SDK has a format of its own (an ESP32: ESP-IDF's sdkconfig)."""
    return profiles.load_board(answers["board"]).esp_idf is not None


_FORMAT_CHOICES = (("header", "header: mbedtls_config.h, the whole mbedTLS configuration"),
                   ("esp-idf", "esp-idf: sdkconfig.defaults fragment + user header for ESP-IDF's own"))


def presents_client(answers: Answers) -> bool:
    """The device presents a client certificate."""
    return bool(answers.get("client"))


def _encrypted_key(answers: Answers) -> bool:
    return presents_client(answers) and _needs_password(answers["client.key"])


PLATFORM_QUESTIONS = (
    Question("board", Kind.SELECT, "Board", "what the board and its SDK impose (profiles/)",
             choices=_board_choices),
    Question("mbedtls", Kind.SELECT, "mbedTLS line", "the board's line by default",
             choices=_line_choices),
    Question("mbedtls.source", Kind.PATH, "mbedTLS source tree",
             "the directory holding include/ and library/", check_source_tree,
             when=lambda a: a.get("mbedtls") == SOURCE_TREE),
    Question("format", Kind.SELECT, "Output format",
             "what 'configgen generate' writes from this profile (the wizard writes the header)",
             when=sdk_formats, choices=lambda _a: _FORMAT_CHOICES),
)

FILE_QUESTIONS = (
    Question("trust.ca", Kind.PATH, "Trust anchors the device loads (CA file)",
             "PEM or DER; several files separated by commas", check_certificates),
    Question("client", Kind.CONFIRM, "Does the device present a client certificate?",
             "yes for mutual TLS, when the server asks for one"),
    Question("client.cert", Kind.PATH, "Client certificate file", "the device's own certificate",
             check_certificates, when=presents_client),
    Question("client.key", Kind.PATH, "Client private key file",
             "read for its type only; never printed or copied", check_key, when=presents_client),
    Question("client.key.password", Kind.PASSWORD, "Password of the private key",
             "kept in memory only, never written", check_password, when=_encrypted_key),
)


def write_files(profile_path: Path, snapshots: int, header_path: Path) -> Question:
    """The last question, once everything is shown: keep the files staged?"""
    return Question("write", Kind.CONFIRM, f"Write {profile_path}, {snapshots} snapshot(s) and "
                    f"{header_path}?", "no: nothing is kept")
