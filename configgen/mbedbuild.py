"""Compile against real mbedTLS sources: the judge of every header configgen writes.

A build is keyed by the hash of everything that decides it (tree, header text, compiler,
flags), kept in the cache, and reused: a full library build takes seconds, a cached one
nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from configgen import output
from configgen.errors import ConfiggenError
from configgen.sources import SourceTree, cache_dir


class BuildError(ConfiggenError):
    """mbedTLS did not compile with a header; `output` holds the compiler's words."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Library:
    """A built mbedTLS: one static archive with every library object, and its config."""

    tree: SourceTree
    archive: Path
    config: Path
    compiler: str  # the compiler and flags it was built with ("cc -O1")

    def include_flags(self) -> list[str]:
        return [
            f"-I{self.tree.include_dir}",
            f"-I{self.tree.root / 'library'}",
            f"-DMBEDTLS_CONFIG_FILE=\"{self.config}\"",
        ]


def _key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def significant(header_text: str) -> str:
    """What the compiler sees of a header: its text without comments and blank lines (so a
    header whose banner or via lines changed reuses the build of its options)."""
    text = re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", " ", header_text, flags=re.S))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _config_flags(tree: SourceTree, config: Path) -> list[str]:
    return [
        f"-I{tree.include_dir}",
        f"-I{tree.root / 'library'}",
        f"-DMBEDTLS_CONFIG_FILE=\"{config}\"",
    ]


def write_config(tree: SourceTree, header_text: str) -> Path:
    """Store a header in the cache under its hash and return its path."""
    key = _key(str(tree.root), tree.version, header_text)
    path = cache_dir() / "configs" / f"{key}.h"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(path, header_text)
    return path


def preprocess(tree: SourceTree, header_text: str, source: str, cc: str = "cc") -> str:
    """Run the preprocessor over one library file (e.g. "library/ssl_ciphersuites.c").

    Raises BuildError with the #error lines when check_config.h rejects the header.
    """
    config = write_config(tree, header_text)
    result = subprocess.run(
        [cc, "-E", "-P", *_config_flags(tree, config), str(tree.root / source)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BuildError(f"preprocessing {source} failed", result.stderr)
    return result.stdout


def check_config(tree: SourceTree, header_text: str, cc: str = "cc") -> str:
    """Compile the configuration translation unit: check_config.h is the oracle.

    Returns the compiler's stderr (empty when clean); raises BuildError on failure.
    """
    config = write_config(tree, header_text)
    with tempfile.TemporaryDirectory() as work:
        unit = Path(work) / "check.c"
        output.write_text(unit, '#include "common.h"\nint configgen_check;\n')
        result = subprocess.run(
            [cc, "-c", "-Wall", "-Werror", *_config_flags(tree, config), str(unit),
             "-o", str(Path(work) / "check.o")],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise BuildError("the header does not pass mbedTLS's configuration checks", result.stderr)
    return result.stderr


def build_library(
    tree: SourceTree,
    header_text: str,
    cc: str = "cc",
    cflags: tuple[str, ...] = ("-O1",),
    ar: str = "ar",
    jobs: int | None = None,
) -> Library:
    """Compile every library/*.c with the header into one archive, cached by hash."""
    config = write_config(tree, header_text)
    key = _key(str(tree.root), tree.version, significant(header_text), cc, *cflags)
    out = cache_dir() / "builds" / key
    archive = out / "libmbedtls_all.a"
    built = Library(tree, archive, config, " ".join((cc, *cflags)))
    if archive.is_file():
        return built
    sources = sorted((tree.root / "library").glob("*.c"))
    tmp_dir = Path(tempfile.mkdtemp(prefix="build-", dir=cache_dir()))

    def compile_one(src: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
        obj = tmp_dir / (src.stem + ".o")
        proc = subprocess.run(
            [cc, *cflags, "-c", *_config_flags(tree, config), str(src), "-o", str(obj)],
            capture_output=True,
            text=True,
        )
        return obj, proc

    try:
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            results = list(pool.map(compile_one, sources))
        failed = [proc.stderr for _, proc in results if proc.returncode != 0]
        if failed:
            raise BuildError("mbedTLS did not compile with this header", "\n".join(failed))
        subprocess.run(
            [ar, "rcs", str(tmp_dir / archive.name), *(str(obj) for obj, _ in results)],
            check=True,
            capture_output=True,
        )
        out.mkdir(parents=True, exist_ok=True)
        output.move_into_place(tmp_dir / archive.name, archive)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return built


def build_program(
    library: Library, source: Path | str | tuple[Path, ...], output: Path, cc: str = "cc",
    extra: tuple[str, ...] = (), cflags: tuple[str, ...] = ("-O1",),
) -> Path:
    """Compile and link one C program (one source file or several) against a built library;
    `extra` goes after the archive (libraries, link options)."""
    files = source if isinstance(source, tuple) else (source,)
    result = subprocess.run(
        [cc, *cflags, *library.include_flags(), *map(str, files), str(library.archive), *extra,
         "-o", str(output)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BuildError(f"{Path(files[0]).name} did not build", result.stderr)
    return output
