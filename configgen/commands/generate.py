"""configgen generate: a project profile in, the mbedTLS config header (or an SDK's files) out."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from configgen import kb as knowledge
from configgen import profile as profiles
from configgen.model.profile import FORMATS, Profile
from configgen import sources
from configgen.advise import debughelp
from configgen.errors import ConfiggenError, SourceTreeError
from configgen.generate import Generated, generate
from configgen.kb.model import LINES
from configgen.output import current_text, write_if_changed
from configgen.prove import Mode
from configgen.report.progress import ProgressLine

ENV_COMMAND = "CONFIGGEN_COMMAND"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", required=True, type=Path, help="the project profile (TOML)")
    parser.add_argument("-o", "--output", default="-",
                        help="the header to write (- for stdout); with --format esp-idf or zephyr, "
                             "the directory to write the files into")
    parser.add_argument("--format", choices=FORMATS,
                        help="header (default), esp-idf (sdkconfig.defaults fragment + user header) "
                             "or zephyr (header + prj.conf fragment); default: the profile's format")
    parser.add_argument("--heap-peak", type=int, metavar="BYTES",
                        help="zephyr: the peak heap 'configgen verify --server' measured, to size "
                             "CONFIG_MBEDTLS_HEAP_SIZE (estimated from the buffers without it)")
    parser.add_argument("--mbedtls", choices=LINES, help="the mbedTLS line (default: the profile's)")
    parser.add_argument(
        "--mbedtls-src", metavar="DIR",
        help="the mbedTLS tree the firmware builds: its release is the target, and the header is "
        "proven against it (default: the board's SDK release, else the line's tested release, "
        "proven against the cached sources)",
    )
    parser.add_argument(
        "--offline", action="store_true",
        help="replay the servers' recorded snapshots instead of probing them (deterministic builds)",
    )
    parser.add_argument(
        "--debug", action="store_true",
        help="add MBEDTLS_DEBUG_C and print the C that makes the debug log appear",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 when OUTPUT differs from what would be generated",
    )
    proof = parser.add_mutually_exclusive_group()
    proof.add_argument(
        "--verify", dest="verify", action="store_const", const=Mode.REQUIRED, default=Mode.AUTO,
        help="the header must be proven against the live servers (exit 1 when it cannot be)",
    )
    proof.add_argument(
        "--no-verify", dest="verify", action="store_const", const=Mode.OFF,
        help="write the header without building it and handshaking with the servers",
    )


def _warn(result: Generated) -> None:
    """What the integrator must know of the header (the banner says it too), on stderr."""
    said = [result.release.end_of_life] if result.release.end_of_life else []
    said += [*result.notes, *result.options.warnings]
    if result.proven is not None and result.proven.version is None:
        said.append(f"the header is unverified: {result.proven.skipped}")
    for warning in said:
        print(f"configgen: warning: {warning}", file=sys.stderr)


def _in_words(path: Path, old: str | None, new: str, line: str) -> list[str]:
    """What regenerating `path` would change, in words."""
    from configgen import check  # only --check reads what changes
    from configgen.advise import causes
    from configgen.report import text as report

    return report.stale(check.stale(str(path), old, new, knowledge.load(line), causes.security()))


def _tree_version(directory: str | None, line: str) -> str | None:
    """The release of the user's tree (--mbedtls-src), checked to be of the profile's line."""
    if directory is None:
        return None
    tree = sources.open_tree(directory)
    if tree.line != line:
        raise SourceTreeError(f"is mbedTLS {tree.version}; the profile builds for {line}",
                              where=directory, hint=f"pass --mbedtls {tree.line}, or a {line} tree")
    return tree.version


def run(args: argparse.Namespace) -> int:
    profile = profiles.load(args.profile, args.mbedtls)
    fmt = args.format or profile.format
    if fmt == "esp-idf" and profile.esp_idf is None:
        raise ConfiggenError(f"board {profile.board.name!r} names no ESP-IDF release",
                             hint='set esp_idf = "v5.5.5" (or "v6.0.2") in the project profile')
    if args.heap_peak is not None and (fmt != "zephyr" or args.heap_peak <= 0):
        raise ConfiggenError("--heap-peak takes a positive number of bytes, with --format zephyr")
    if fmt != "header":
        return _run_format(args, profile, fmt)
    tree_version = _tree_version(args.mbedtls_src, profile.mbedtls)
    with ProgressLine() as progress:
        result = generate(profile, args.output, args.mbedtls, os.environ.get(ENV_COMMAND), args.offline,
                          args.debug, tree_version, verify=args.verify,
                          mbedtls_src=[args.mbedtls_src] if args.mbedtls_src else None, progress=progress.step)
    text = result.text
    _warn(result)
    if args.debug and not args.check:
        print(f"{debughelp.cost(profile.mbedtls)}.\n\n{debughelp.snippet(profile.board.name)}",
              file=sys.stderr)
    if args.check:
        if args.output == "-":
            print("configgen: --check needs -o HEADER", file=sys.stderr)
            return 2
        old = current_text(Path(args.output))
        if old != text:
            print(f"{args.output} is stale: run '{result.command}'", file=sys.stderr)
            print("\n".join(_in_words(Path(args.output), old, text, profile.mbedtls)), file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    changed = write_if_changed(Path(args.output), text)
    print(f"{'Wrote' if changed else 'No change to header in'} {args.output!r}", file=sys.stderr)
    return 0


def _run_format(args: argparse.Namespace, profile: Profile, fmt: str) -> int:
    """An SDK format: several files, into the directory -o names (stdout: one after another)."""
    from configgen.sdk.outputs import generate_format  # the SDKs' rules load only for --format

    directory = Path(args.output)
    if args.output != "-" and directory.exists() and not directory.is_dir():
        raise ConfiggenError(f"--format {fmt} writes several files: -o names a directory",
                             where=args.output)
    out = generate_format(profile, fmt, args.output, args.mbedtls, os.environ.get(ENV_COMMAND),
                          args.offline, args.debug, args.heap_peak)
    _warn(out.generated)
    if args.check:
        if args.output == "-":
            print("configgen: --check needs -o DIR", file=sys.stderr)
            return 2
        held = [(name, current_text(directory / name), text) for name, text in out.files]
        stale = [(name, old, text) for name, old, text in held if old != text]
        if stale:
            print(f"{', '.join(str(directory / n) for n, _, _ in stale)} stale: run '{out.generated.command}'",
                  file=sys.stderr)
            for name, old, text in stale:
                print("\n".join(_in_words(directory / name, old, text, profile.mbedtls)), file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    if args.output == "-":
        for name, text in out.files:
            sys.stdout.write(f"==> {name} <==\n{text}\n")
    else:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in out.files:
            changed = write_if_changed(directory / name, text)
            print(f"{'Wrote' if changed else 'No change to'} {str(directory / name)!r}", file=sys.stderr)
    if out.hint:
        print(f"Add to the project's top-level CMakeLists.txt (before project()):\n    {out.hint}")
    return 0
