"""generate(): a project profile in, header text out — the path every front end takes.

Reading files happens here (profile, snapshots, certificates); derive, resolve and render
stay pure. The CLI's `generate`, `--check`, the wizard's last step and the golden tests all
call `generate()`.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from configgen import inspect, kb as knowledge
from configgen.derive import Certificate, Inputs, derive
from configgen.errors import ConfiggenError, ProfileError
from configgen.options import OptionSet
from configgen.probe import snapshot
from configgen.probe.facts import ServerFacts
from configgen.profile import Profile, Server
from configgen.render import HeaderContext, render_header
from configgen.resolve import resolve


@dataclass(frozen=True)
class Generated:
    text: str
    options: OptionSet
    profile: Profile
    command: str  # what regenerates it, as the banner says


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _server_facts(profile: Profile, server: Server) -> ServerFacts:
    if server.snapshot is None:
        raise ProfileError(
            "no snapshot to replay",
            where=f"{profile.path}:[server] {server.name}",
            hint=f"record one with 'configgen probe {server.host}:{server.port} -o FILE' and name it in snapshot = ...",
        )
    return snapshot.load(server.snapshot)


def _certificates(profile: Profile, paths: tuple[Path, ...], role: str) -> tuple[Certificate, ...]:
    found = []
    for path in paths:
        facts = inspect.parse(inspect.read_bytes(path), profile.relative(path))
        if not facts.certificates:
            raise ConfiggenError("holds no certificate", where=profile.relative(path))
        found += [Certificate(c, profile.relative(path), role) for c in facts.certificates]
    return tuple(found)


def gather(profile: Profile) -> Inputs:
    """Read what the profile names: snapshots and certificates (the I/O edge)."""
    servers = tuple((s, _server_facts(profile, s)) for s in profile.servers)
    anchors = _certificates(profile, profile.ca, "anchor")
    client = _certificates(profile, (profile.client_cert,), "client") if profile.client_cert else ()
    return Inputs(profile, servers, anchors, client, pem=profile.ca_format == "pem")


def banner_inputs(profile: Profile) -> tuple[tuple[str, str, str], ...]:
    rows = [("profile", profile.path.name, _sha(profile.path)), ("board", profile.board.source, "")]
    for server in profile.servers:
        detail = f"snapshot {profile.relative(server.snapshot)} {_sha(server.snapshot)}" if server.snapshot else ""
        rows.append(("server", f"{server.host}:{server.port}", detail))
    rows += [("trust", profile.relative(p), _sha(p)) for p in profile.ca]
    if profile.client_cert:
        rows.append(("client", profile.relative(profile.client_cert), _sha(profile.client_cert)))
    return tuple(rows)


def command_for(profile: Profile, output: str | None, line_option: str | None) -> str:
    """The normalised command that regenerates the header (no absolute paths)."""
    words = ["configgen", "generate", "--profile", profile.path.name]
    if line_option:
        words += ["--mbedtls", line_option]
    if output and output != "-":
        words += ["-o", Path(output).name]
    return shlex.join(words)


def generate(
    profile: Profile,
    output: str | None = None,
    line_option: str | None = None,
    command: str | None = None,
) -> Generated:
    """The header for a project profile (and the option set behind it). `command` replaces
    the regenerate command the banner names (for wrappers, like pip-tools'
    CUSTOM_COMPILE_COMMAND)."""
    base = knowledge.load(profile.mbedtls)
    inputs = gather(profile)
    options = resolve(derive(inputs, base), base)
    command = command or command_for(profile, output, line_option)
    context = HeaderContext(
        board=profile.board.name,
        command=command,
        inputs=banner_inputs(profile),
        file_name=Path(output).name if output and output != "-" else "mbedtls_config.h",
    )
    return Generated(render_header(options, base, context), options, profile, command)
