"""Option set -> header text, through the Jinja2 templates in templates/. Pure.

Deterministic: the same option set and context give the same bytes (no dates, no absolute
paths). Options follow mbedTLS's own header order under its own section names; each carries
its sorted `via` lines, and a numeric value its derivation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby

import jinja2

from configgen import __version__
from configgen.kb import cpp
from configgen.kb.model import KnowledgeBase
from configgen.model.options import OptionSet
from configgen.resources import data_dir


@dataclass(frozen=True)
class HeaderContext:
    """What the banner says besides the options: board, inputs, how to regenerate."""

    board: str
    command: str
    inputs: tuple[tuple[str, str, str], ...] = field(default=())  # (label, name, detail)
    file_name: str = "mbedtls_config.h"
    verified: tuple[str, ...] = ()  # what building and handshaking showed (live servers only)
    release: str = ""  # the mbedTLS release the header is for ("3.6.2")
    release_how: str = ""  # where that release came from
    end_of_life: str | None = None  # the line's end-of-life sentence, when it has one


def _comment(text: object) -> str:
    """Text that is safe inside a C comment on one line."""
    return " ".join(str(text).replace("*/", "* /").split())


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["comment"] = _comment
    return env


def render_header(options: OptionSet, kb: KnowledgeBase, context: HeaderContext) -> str:
    """The config header text for an option set."""
    sections = [
        (title or "Configuration format", list(items))
        for title, items in groupby(options.settings, key=lambda s: s.section)
    ]
    template = _environment().get_template("mbedtls_config.h.j2")
    return template.render(
        options=options,
        board=context.board,
        command=context.command,
        inputs=context.inputs,
        file_name=context.file_name,
        verified=context.verified,
        release=context.release or options.version,
        release_how=context.release_how,
        end_of_life=context.end_of_life,
        configgen_version=__version__,
        sections=sections,
        tail=[cpp.render(d) for d in kb.config_tail],
    )
