"""`generate --format`: the header's option set rendered for an SDK, as files by name.

One path, different renderers: `generate()` resolves the option set (and renders the header);
the formats here take that option set. "header" is the header alone; "esp-idf" the
sdkconfig.defaults fragment and the user header (configgen/sdk/espidf.py); "zephyr" the header
and the prj.conf fragment that makes it Zephyr's mbedTLS configuration (configgen/sdk/zephyr.py).
Multi-file formats write into a directory (`-o DIR`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from configgen import kb as knowledge
from configgen.generate import Generated, command_for, generate
from configgen.model.profile import Profile
from configgen.render import HeaderContext
from configgen.sdk import espidf, zephyr

HEADER = "mbedtls_config.h"


@dataclass(frozen=True)
class Output:
    files: tuple[tuple[str, str], ...]  # (file name, text), written into the output directory
    hint: str | None  # what the user adds to the build (the CMake line), printed after writing
    generated: Generated


def command(profile: Profile, fmt: str, directory: str | None, line_option: str | None,
            offline: bool, debug: bool) -> str:
    """The normalised command that regenerates a format's files."""
    words = [*shlex.split(command_for(profile, None, line_option, offline, debug)), "--format", fmt]
    if directory and directory != "-":
        words += ["-o", Path(directory).name]
    return shlex.join(words)


def _folder(directory: str | None) -> str:
    """The output directory as the project's CMakeLists.txt names it: relative, inside."""
    if not directory or directory == "-":
        return ""
    path = Path(directory)
    return "" if path.is_absolute() or ".." in path.parts or path == Path(".") else path.as_posix()


def generate_format(profile: Profile, fmt: str, directory: str | None = None,
                    line_option: str | None = None, command_text: str | None = None,
                    offline: bool = False, debug: bool = False,
                    heap_peak: int | None = None) -> Output:
    """`generate()` and then the format's renderer over its option set."""
    command_text = command_text or command(profile, fmt, directory, line_option, offline, debug)
    result = generate(profile, HEADER, line_option, command_text, offline, debug)
    context = HeaderContext(profile.board.name, command_text, result.inputs)
    if fmt == "esp-idf":
        assert profile.esp_idf is not None  # profile.load insists on a release for this format
        plan = espidf.plan(result.options, profile, knowledge.load(profile.mbedtls), profile.esp_idf)
        folder = _folder(directory)
        files = espidf.render(plan, result.options, context, folder)
        return Output(tuple(files.items()), "\n    ".join(espidf.cmake_lines(folder)), result)
    if fmt == "zephyr":
        conf = zephyr.render(result.options, profile, context, HEADER, heap_peak)
        return Output(((HEADER, result.text), (zephyr.FRAGMENT, conf)), None, result)
    raise ValueError(f"unknown format {fmt!r}")
