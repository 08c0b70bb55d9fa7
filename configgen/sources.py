"""mbedTLS source trees: the user's own copy, or Debian's source packages in a cache.

configgen judges its output by compiling against the real mbedTLS sources. A tree comes
either from the user (`--mbedtls-src DIR` or CONFIGGEN_MBEDTLS_SRC, e.g. their SDK's copy)
or from Debian's source package of the supported release, fetched once with
`apt-get source --download-only` and unpacked into a cache outside the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from configgen.errors import SourceTreeError

# The mbedTLS lines configgen knows, and the Debian source package that provides each.
DEBIAN_PACKAGES: dict[str, str] = {
    "2.28": "2.28.3-1",  # bookworm
    "3.6": "3.6.6-0.1~deb13u1",  # trixie
}
ENV_SOURCE_TREES = "CONFIGGEN_MBEDTLS_SRC"
ENV_CACHE = "CONFIGGEN_CACHE"

_VERSION_RE = re.compile(r'#define\s+MBEDTLS_VERSION_STRING\s+"(\d+)\.(\d+)\.(\d+)"')


@dataclass(frozen=True)
class SourceTree:
    """An mbedTLS source tree of a known version."""

    root: Path
    version: str  # "3.6.6"

    @property
    def line(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def include_dir(self) -> Path:
        return self.root / "include"

    @property
    def config_header(self) -> Path:
        """The default configuration header of this line."""
        name = "config.h" if self.line == "2.28" else "mbedtls_config.h"
        return self.include_dir / "mbedtls" / name


def cache_dir() -> Path:
    """Where fetched sources live: $CONFIGGEN_CACHE, else $XDG_CACHE_HOME/configgen."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "configgen"


def detect_version(root: Path) -> str:
    """The mbedTLS version a tree declares in its own headers ("2.28.3")."""
    if not root.exists():
        raise SourceTreeError("no such directory", where=str(root))
    if not root.is_dir():
        raise SourceTreeError("not a directory", where=str(root))
    for header in ("include/mbedtls/build_info.h", "include/mbedtls/version.h"):
        path = root / header
        if path.is_file():
            match = _VERSION_RE.search(path.read_text(errors="replace"))
            if match:
                return ".".join(match.groups())
    raise SourceTreeError(
        "not an mbedTLS source tree (no include/mbedtls/build_info.h or version.h "
        "declaring MBEDTLS_VERSION_STRING)",
        where=str(root),
        hint="point at the directory that holds include/, library/ and scripts/",
    )


def open_tree(root: Path | str) -> SourceTree:
    """A tree the user names, checked to be mbedTLS of a line configgen supports."""
    root = Path(root).expanduser().resolve()
    version = detect_version(root)
    line = ".".join(version.split(".")[:2])
    if line not in DEBIAN_PACKAGES:
        known = ", ".join(sorted(DEBIAN_PACKAGES))
        raise SourceTreeError(
            f"mbedTLS {version} is not a line configgen supports (supported: {known})",
            where=str(root),
        )
    tree = SourceTree(root, version)
    if not tree.config_header.is_file() or not (root / "library").is_dir():
        raise SourceTreeError(
            f"mbedTLS {version} tree lacks {tree.config_header.relative_to(root)} or library/",
            where=str(root),
        )
    return tree


def user_trees(dirs: list[str] | None = None) -> list[SourceTree]:
    """Trees named on the command line, else in $CONFIGGEN_MBEDTLS_SRC (os.pathsep list)."""
    named = list(dirs or [])
    if not named and os.environ.get(ENV_SOURCE_TREES):
        named = [d for d in os.environ[ENV_SOURCE_TREES].split(os.pathsep) if d]
    return [open_tree(d) for d in named]


def find_tree(line: str, dirs: list[str] | None = None, fetch: bool = True) -> SourceTree:
    """The tree for an mbedTLS line: the user's own if given, else the cached Debian one."""
    if line not in DEBIAN_PACKAGES:
        known = ", ".join(sorted(DEBIAN_PACKAGES))
        raise SourceTreeError(f"unknown mbedTLS line {line!r} (supported: {known})")
    for tree in user_trees(dirs):
        if tree.line == line:
            return tree
    cached = cached_tree(line)
    if cached is not None:
        return cached
    if not fetch:
        raise SourceTreeError(
            f"no mbedTLS {line} sources in {cache_dir()}",
            hint="run 'configgen sources' (needs apt with deb-src entries) or pass --mbedtls-src",
        )
    return fetch_debian(line)


def cached_tree(line: str) -> SourceTree | None:
    upstream = DEBIAN_PACKAGES[line].split("-")[0]
    root = cache_dir() / "mbedtls" / f"mbedtls-{upstream}"
    if (root / ".configgen-complete").is_file():
        return SourceTree(root, upstream)
    return None


def fetch_debian(line: str) -> SourceTree:
    """Download Debian's source package of the line and unpack the upstream tarball.

    The pristine upstream tarball is used, not Debian's patched tree: Debian's patches change
    the default configuration (e.g. threading), and configgen's facts are about upstream.
    """
    debian_version = DEBIAN_PACKAGES[line]
    upstream = debian_version.split("-")[0]
    target = cache_dir() / "mbedtls" / f"mbedtls-{upstream}"
    if shutil.which("apt-get") is None:
        raise SourceTreeError(
            "apt-get is not available to fetch Debian's mbedtls source package",
            hint="pass your own tree with --mbedtls-src DIR",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        result = subprocess.run(
            ["apt-get", "source", "--download-only", f"mbedtls={debian_version}"],
            cwd=work,
            capture_output=True,
            text=True,
        )
        tarballs = sorted(Path(work).glob(f"mbedtls_{upstream}.orig.tar.*"))
        if result.returncode != 0 or not tarballs:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise SourceTreeError(
                f"apt-get source mbedtls={debian_version} failed: {last}",
                hint="add deb-src entries for bookworm and trixie and run apt-get update "
                "(bash .ci/setup does both), or pass --mbedtls-src DIR",
            )
        unpacked = Path(work) / "unpacked"
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(unpacked, filter="data")
        (top,) = [p for p in unpacked.iterdir() if p.is_dir()]
        if detect_version(top) != upstream:
            raise SourceTreeError(f"{tarballs[0].name} does not hold mbedTLS {upstream}")
        (top / ".configgen-complete").write_text(f"mbedtls={debian_version}\n")
        if target.exists():
            shutil.rmtree(target)
        top.rename(target)
    return SourceTree(target, upstream)
