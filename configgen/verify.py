"""verify: a header compiled against real mbedTLS sources, measured, and tried on real servers.

Each server must accept a TCP connection first (else ProbeError: bad input, before any
build). The steps run in order, each needing the one before: mbedTLS's check_config.h accepts the
header (cc -Wall -Werror); every library/*.c compiles with it (cc -O1, cached by header
hash); the library is measured (Cortex-M4 with arm-none-eabi-gcc when installed: the archive,
and a small device client linked against it; else the host build); and, for each server
given, configgen's test client linked with it completes a handshake and one application-data
round trip, under valgrind massif for its peak heap when valgrind is installed. A failed
handshake is decoded by the advisor (error code and X.509 verify flags). Results are frozen
dataclasses; the command prints them.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from configgen import footprint, handshake, headerfile, mbedbuild, sources
from configgen import kb as knowledge
from configgen.advise import causes as advice
from configgen.advise.explain import AdviceInputError, explain_code, explain_flags
from configgen.model.explanations import CodeExplanation
from configgen.errors import ConfiggenError, SourceTreeError
from configgen.headerfile import HeaderError
from configgen.model.header import Header
from configgen.kb.model import LINES
from configgen.model.results import Footprint, Handshake, Step, Verification, VerifyServer
from configgen.probe import transport

HOST_TOOLS = ("cc", "ar", "size")  # what mbedbuild and the host footprint run
TIMEOUT = 30.0  # seconds for one client run: connect, handshake and round trip
CONNECT_TIMEOUT = 5.0  # seconds for the TCP connection that checks a server is there first

_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<message>.*)$")
_UNDEFINED = re.compile(r"undefined reference to [`'](?P<symbol>\w+)'")


@dataclass(frozen=True)
class Client:
    """What the test client loads and sends: trust anchors, its own credentials, a payload."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None
    payload: tuple[str, ...] = ()  # client.c arguments for the round trip (--send TEXT, --mqtt 1)


def choose_tree(header: Header, dirs: list[str] | None, line: str | None) -> tuple[sources.SourceTree, str]:
    """The tree to compile against, and where its line came from: --mbedtls, else the user's
    tree (--mbedtls-src or $CONFIGGEN_MBEDTLS_SRC), else the header's line in the cache."""
    user = sources.user_trees(dirs)
    given = "--mbedtls-src" if dirs else f"${sources.ENV_SOURCE_TREES}"
    known = {name: frozenset(o.name for o in knowledge.load(name).options) for name in LINES}
    guessed = headerfile.guess_line(header, known)
    if user:
        matching = [t for t in user if (line or guessed) in (None, t.line)]
        if line and not matching:
            found = ", ".join(f"{t.version} at {t.root}" for t in user)
            raise SourceTreeError(f"no mbedTLS {line} tree in {given} ({found})", where="--mbedtls")
        tree = (matching or user)[0]
        how = f"from --mbedtls, tree from {given}" if line else f"detected from {given}"
        if not line and guessed not in (None, tree.line):
            how += f"; the header's option names look like mbedTLS {guessed}'s"
    else:
        chosen = line or guessed
        if chosen is None:
            raise HeaderError("cannot tell which mbedTLS line this header is for", where=header.where,
                              hint="pass --mbedtls 2.28|3.6 or --mbedtls-src DIR")
        tree = sources.find_tree(chosen)
        how = ("from --mbedtls" if line else "from the header's banner" if header.line_hint
               else "from the header's option names")
    if header.line_hint and header.line_hint != tree.line:
        raise HeaderError(f"is a configgen header for mbedTLS {header.line_hint}, the sources are "
                          f"mbedTLS {tree.version} ({tree.root})", where=header.where,
                          hint=f"verify it against a {header.line_hint} tree")
    return tree, how


def compiler_errors(output: str, tree: sources.SourceTree, names: dict[Path, str]) -> tuple[str, ...]:
    """One line per compiler or linker error, paths relative to the tree (`names`: what to
    call other files, e.g. the cached copy of the header); the last line of `output` when no
    error is recognised."""
    found: list[str] = []
    for line in output.splitlines():
        diagnostic = _DIAGNOSTIC.match(line)
        undefined = _UNDEFINED.search(line)
        if diagnostic:
            path = Path(diagnostic["file"])
            shown = names.get(path) or (str(path.relative_to(tree.root)) if path.is_relative_to(tree.root)
                                        else path.name)
            found.append(f"{shown}:{diagnostic['line']}: {diagnostic['message']}")
        elif undefined:
            found.append(f"undefined reference to {undefined['symbol']}")
    lines = [line for line in output.splitlines() if line.strip()]
    return tuple(dict.fromkeys(found)) or tuple(lines[-1:])


def _failed(name: str, detail: str, error: mbedbuild.BuildError, tree: sources.SourceTree,
            header: Header) -> Step:
    names = {mbedbuild.write_config(tree, header.text): header.where}
    return Step(name, False, detail, compiler_errors(error.output, tree, names))


def _measure(tree: sources.SourceTree, header: Header,
             library: mbedbuild.Library) -> tuple[Footprint, str, str | None]:
    """The Cortex-M4 footprint, what was changed to build it bare metal, and that bare-metal
    header; the host's footprint, why, and None when Cortex-M4 cannot be measured."""
    missing = footprint.missing_arm_tools()
    if missing:
        return footprint.host(library), (f"Cortex-M4 skipped: {', '.join(missing)} not found "
                                         f"(apt-get install {footprint.ARM_PACKAGES})"), None
    try:
        bare = footprint.bare_metal(tree, header.text)
    except mbedbuild.BuildError as error:
        return footprint.host(library), f"Cortex-M4 skipped: {error.message}", None
    try:
        measured = footprint.cortex_m4(tree, bare)
    except mbedbuild.BuildError as error:
        first = _first_error(error, tree, header, bare)
        return footprint.host(library), f"Cortex-M4 skipped: it does not build bare metal: {first}", None
    before, after = header.active(), headerfile.parse(bare, "bare metal").active()
    dropped = [name for name in before if name not in after]
    added = [name for name in after if name not in before]
    changes = ([f"without {', '.join(dropped)}"] if dropped else []) + (
        [f"with {', '.join(added)}"] if added else [])
    return measured, f"bare metal as mbedTLS's footprint.sh: {'; '.join(changes)}" if changes else "", bare


def _first_error(error: mbedbuild.BuildError, tree: sources.SourceTree, header: Header, bare: str) -> str:
    """The first compiler error of a bare-metal build, named after the user's header."""
    names = {mbedbuild.write_config(tree, bare): f"{header.where} (bare metal)"}
    return next(iter(compiler_errors(error.output, tree, names)), error.message)


def _firmware(tree: sources.SourceTree, header: Header, bare: str,
              client_auth: bool) -> tuple[Footprint | None, str]:
    """The device client linked for Cortex-M4, or None and why not."""
    with tempfile.TemporaryDirectory(prefix="configgen-verify-") as work:
        try:
            return footprint.firmware(tree, bare, client_auth, Path(work)), ""
        except mbedbuild.BuildError as error:
            first = _first_error(error, tree, header, bare)
            return None, f"device client not linked: {first}"


def _handshake(program: Path, server: VerifyServer, address: str, setup: Client, header: Header,
               kb: knowledge.KnowledgeBase, heap: bool) -> Handshake:
    args = ["--name", server.name, *handshake.integration_arguments(header.text), *setup.payload]
    if setup.cert is not None and setup.key is not None:
        args += ["--cert", str(setup.cert), "--key", str(setup.key)]
    outcome = handshake.run_client(program, address, server.port, setup.ca, args, TIMEOUT,
                                   heap=heap)
    if outcome.ok:
        return Handshake(server.where, server.name, True, outcome.text, heap_peak=outcome.heap_peak,
                         suite=outcome.suite)
    known = advice.load()
    flags = explain_flags(outcome.flags, kb, known) if outcome.flags else None
    return Handshake(server.where, server.name, False, outcome.text,
                     _decode(outcome.code, kb, known), flags, outcome.heap_peak, outcome.suite)


def _decode(code: int | None, kb: knowledge.KnowledgeBase, known: advice.Causes) -> CodeExplanation | None:
    """The advisor's reading of the client's error code; None for what is not an mbedTLS
    code (the client's own -1 when it cannot read a file): its line says it all."""
    if code is None:
        return None
    try:
        return explain_code(code, [kb], known, [knowledge.load(line) for line in LINES])
    except AdviceInputError:
        return None


def verify(header: Header, tree: sources.SourceTree, line_from: str, servers: Sequence[VerifyServer] = (),
           setup: Client | None = None, progress: Callable[[str], None] = lambda _: None,
           client_auth: bool = False, measure: bool = True) -> Verification:
    """Compile, measure and (with servers and a client setup) handshake; see the module doc.
    `client_auth`: the device presents a certificate (the linked client parses its own);
    without `measure`, the footprint is left out (generate's proof needs only the handshakes)."""
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ConfiggenError(f"{', '.join(missing)} not found: verify compiles mbedTLS with the host's "
                             "C compiler and binutils", hint="apt-get install gcc binutils")
    reached: list[tuple[VerifyServer, str]] = []  # and the numeric address the client connects to
    for server in servers if setup is not None else ():  # before any build: bad input otherwise
        progress(f"connecting to {server.where}")
        reached.append((server, transport.reachable(server.host, server.port, server.where, CONNECT_TIMEOUT)))

    def result(steps: list[Step], size: Footprint | None = None, note: str = "",
               linked: tuple[Footprint | None, str] = (None, ""),
               shaken: tuple[Handshake, ...] = ()) -> Verification:
        return Verification(header.where, tree.version, str(tree.root), line_from, tuple(steps),
                            size, note or ("" if size else "not measured: the header does not build"),
                            *linked, shaken)

    progress(f"checking the header against mbedTLS {tree.version}'s check_config.h")
    try:
        mbedbuild.check_config(tree, header.text)
    except mbedbuild.BuildError as error:
        return result([_failed("check_config.h", "mbedTLS's check_config.h rejects the header",
                               error, tree, header)])
    steps = [Step("check_config.h", True, "mbedTLS's check_config.h accepts the header (cc -Wall -Werror)")]
    progress(f"compiling mbedTLS {tree.version} with the header")
    try:
        library = mbedbuild.build_library(tree, header.text)
    except mbedbuild.BuildError as error:
        return result(steps + [_failed("library", "mbedTLS does not compile with the header",
                                       error, tree, header)])
    steps.append(Step("library", True, f"every library/*.c compiles ({library.compiler})"))
    size: Footprint | None = None
    note, bare = "not measured", None
    linked: tuple[Footprint | None, str] = (None, "")
    if measure:
        progress("measuring the library's footprint")
        size, note, bare = _measure(tree, header, library)
        linked = _firmware(tree, header, bare, client_auth) if bare is not None else (None, "")
    if not servers or setup is None:
        return result(steps, size, note, linked)
    with tempfile.TemporaryDirectory(prefix="configgen-verify-") as work:
        progress("linking configgen's test client")
        try:
            program = handshake.build_client(library, Path(work) / "client")
        except mbedbuild.BuildError as error:
            return result(steps + [_failed("client", "configgen's test client does not build with the header",
                                           error, tree, header)], size, note, linked)
        steps.append(Step("client", True, "configgen's test client (configgen/data/client.c) links"))
        kb = knowledge.load(tree.line)
        shaken = []
        for server, address in reached:
            progress(f"handshake with {server.where}")
            shaken.append(_handshake(program, server, address, setup, header, kb,
                                     measure and handshake.can_measure_heap()))
    return result(steps, size, note, linked, tuple(shaken))
