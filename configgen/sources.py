"""mbedTLS source trees: the user's own copy, or Debian's source packages in a cache.

configgen judges its output by compiling against the real mbedTLS sources. A tree comes
either from the user (`--mbedtls-src DIR` or CONFIGGEN_MBEDTLS_SRC, e.g. their SDK's copy)
or from Debian's source package of a tested release (TESTED_RELEASES), fetched once with
`apt-get source --download-only` and unpacked into a cache outside the repository.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from configgen import readers
from configgen.errors import SourceTreeError
from configgen.values import line_of

# The mbedTLS releases configgen is tested against, and the Debian source package of each.
DEBIAN_PACKAGES: dict[str, str] = {
    "2.28.3": "2.28.3-1",  # bookworm
    "3.6.6": "3.6.6-0.1~deb13u1",  # trixie
    "3.6.7": "3.6.7-3",  # sid
}
TESTED_RELEASES = tuple(DEBIAN_PACKAGES)
# The release each line's knowledge base is extracted from: a line's tested release.
LINE_RELEASES: dict[str, str] = {"2.28": "2.28.3", "3.6": "3.6.6"}
ENV_SOURCE_TREES = "CONFIGGEN_MBEDTLS_SRC"
ENV_CACHE = "CONFIGGEN_CACHE"

_VERSION_RE = re.compile(r'#define\s+MBEDTLS_VERSION_STRING\s+"(\d+)\.(\d+)\.(\d+)"')
_VERSION_HEADER = readers.Kind("an mbedTLS header", 1 * readers.MIB, SourceTreeError)


@dataclass(frozen=True)
class SourceTree:
    """An mbedTLS source tree of a known version."""

    root: Path
    version: str  # "3.6.6"

    @property
    def line(self) -> str:
        return line_of(self.version)

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
            match = _VERSION_RE.search(readers.read_text(path, _VERSION_HEADER, latin1=True))
            if match:
                return ".".join(match.groups())
    raise SourceTreeError(
        "not an mbedTLS source tree (no include/mbedtls/build_info.h or version.h "
        "declaring MBEDTLS_VERSION_STRING)",
        where=str(root),
        hint="point at the directory that holds include/, library/ and scripts/",
    )


def unsupported(version: str) -> str | None:
    """Why configgen cannot work with a release or line, in one line (None: it can)."""
    if version.split(".")[0] == "4":
        return (f"mbedTLS {version}: 4.x is not supported yet; for ESP-IDF use "
                "'configgen generate --format esp-idf' (ESP-IDF maps its sdkconfig onto 4.x itself)")
    if line_of(version) not in LINE_RELEASES:
        known = ", ".join(LINE_RELEASES)
        return f"mbedTLS {version} is not a line configgen supports (supported: {known})"
    return None


def open_tree(root: Path | str) -> SourceTree:
    """A tree the user names, checked to be mbedTLS of a line configgen supports."""
    root = Path(root).expanduser().resolve()
    version = detect_version(root)
    problem = unsupported(version)
    if problem:
        raise SourceTreeError(problem, where=str(root))
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


def release_for(wanted: str) -> str:
    """The tested release a line or release names ("3.6" -> "3.6.6", "3.6.7" -> "3.6.7")."""
    release = LINE_RELEASES.get(wanted, wanted)
    if release not in DEBIAN_PACKAGES:
        problem = unsupported(wanted)
        if problem:
            raise SourceTreeError(problem)
        known = ", ".join((*LINE_RELEASES, *TESTED_RELEASES))
        raise SourceTreeError(f"no source package of mbedTLS {wanted} (known: {known})",
                              hint="pass your own tree with --mbedtls-src DIR")
    return release


def find_tree(wanted: str, dirs: list[str] | None = None, fetch: bool = True) -> SourceTree:
    """The tree for an mbedTLS line ("3.6") or tested release ("3.6.7"): the user's own if
    given (of that line, or exactly that release), else the cached Debian one."""
    for tree in user_trees(dirs):
        if wanted in (tree.line, tree.version):
            return tree
    release = release_for(wanted)
    cached = cached_tree(release)
    if cached is not None:
        return cached
    if not fetch:
        raise SourceTreeError(
            f"no mbedTLS {release} sources in {cache_dir()}",
            hint="run 'configgen sources' (needs apt with deb-src entries) or pass --mbedtls-src",
        )
    return fetch_debian(release)


def cached_tree(wanted: str) -> SourceTree | None:
    """The cached tree of a line's or a tested release's source package, if fetched."""
    release = release_for(wanted)
    root = cache_dir() / "mbedtls" / f"mbedtls-{release}"
    if (root / ".configgen-complete").is_file():
        return SourceTree(root, release)
    return None


def fetch_debian(release: str) -> SourceTree:
    """Download Debian's source package of a tested release and unpack the upstream tarball.

    The pristine upstream tarball is used, not Debian's patched tree: Debian's patches change
    the default configuration (e.g. threading), and configgen's facts are about upstream.
    """
    import shutil  # what only fetching needs loads when it fetches (every command reads this module)
    import subprocess
    import tarfile
    import tempfile

    from configgen import output

    debian_version = DEBIAN_PACKAGES[release]
    target = cache_dir() / "mbedtls" / f"mbedtls-{release}"
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
        tarballs = sorted(Path(work).glob(f"mbedtls_{release}.orig.tar.*"))
        if result.returncode != 0 or not tarballs:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise SourceTreeError(
                f"apt-get source mbedtls={debian_version} failed: {last}",
                hint="add deb-src entries for bookworm, trixie and sid and run apt-get update "
                "(bash .ci/setup does both), or pass --mbedtls-src DIR",
            )
        unpacked = Path(work) / "unpacked"
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(unpacked, filter="data")
        (top,) = [p for p in unpacked.iterdir() if p.is_dir()]
        if detect_version(top) != release:
            raise SourceTreeError(f"{tarballs[0].name} does not hold mbedTLS {release}")
        output.write_text(top / ".configgen-complete", f"mbedtls={debian_version}\n")
        output.move_into_place(top, target)
    return SourceTree(target, release)
