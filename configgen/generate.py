"""generate(): a project profile in, header text out — the path every front end takes.

Reading files happens here (profile, snapshots, certificates); derive, resolve and render
stay pure. The CLI's `generate`, `--check`, the wizard's last step and the golden tests all
call `generate()`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from configgen import inspect, kb as knowledge
from configgen.kb import releases
from configgen.advise import debughelp
from configgen.model.certificates import CertFacts, KeyFacts
from configgen.derive import Inputs, derive
from configgen.errors import ConfiggenError, ProbeError, ProfileError
from configgen.model.options import OptionSet
from configgen.probe import snapshot
from configgen.model.facts import ServerFacts
from configgen.model.inputs import Certificate, ProbedServer
from configgen.model.profile import Override, Profile, Server
from configgen.model.proof import Proven
from configgen.prove import Mode, prove
from configgen.render import HeaderContext, render_header
from configgen.resolve import resolve


@dataclass(frozen=True)
class Generated:
    text: str
    options: OptionSet
    profile: Profile
    command: str  # what regenerates it, as the banner says
    inputs: tuple[tuple[str, str, str], ...]  # the banner's input rows (see banner_inputs)
    release: releases.ReleaseFacts  # the facts of the release the header is for
    proven: Proven | None = None  # what building it and handshaking with the servers showed
    notes: tuple[str, ...] = ()  # where facts came from instead (a snapshot for an unreachable server)
    servers: tuple[ServerFacts, ...] = ()  # the servers' facts, probed or replayed
    anchors: tuple[CertFacts, ...] = ()  # the trust anchors, as parsed for the header


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Reads:
    """The files `gather` reads, each read once, and the digest of each for the banner."""

    digests: dict[Path, str] = field(default_factory=dict)

    def read(self, path: Path, reader: Callable[[Path], bytes]) -> bytes:
        data = reader(path)
        self.digests[path] = _sha(data)
        return data


def _snapshot(server: Server, reads: Reads) -> ServerFacts:
    assert server.snapshot is not None
    return snapshot.parse(reads.read(server.snapshot, snapshot.read_bytes), server.snapshot,
                          (server.host, server.port))


def _server_facts(profile: Profile, server: Server, offline: bool,
                  reads: Reads) -> tuple[ServerFacts, str | None]:
    """The server's facts, live unless `offline`; a recorded snapshot when it is named and
    the server cannot be reached. The second value is a note for the banner, if any."""
    if offline:
        if server.snapshot is None:
            raise ProfileError(
                "no snapshot to replay offline",
                where=f"{profile.path}:[server] {server.name}",
                hint=f"record one with 'configgen probe {server.where} -o FILE' "
                "and name it in snapshot = ...",
            )
        return _snapshot(server, reads), None
    try:
        return probe_live(server, profile.mbedtls, profile.policy.psk), None
    except ProbeError as error:
        if server.snapshot is None:
            raise
        note = (f"{server.name} could not be probed ({error.message}); its facts come from the "
                f"snapshot {profile.relative(server.snapshot)}")
        return _snapshot(server, reads), note


def probe_live(server: Server, line: str, psk: bool) -> ServerFacts:
    """Probe a server with the suites of an mbedTLS line (the probe's own defaults)."""
    from configgen.probe.plan import target_for  # the prober loads only when it runs
    from configgen.probe.runner import probe
    from configgen.probe.transport import Timeouts

    target = target_for(server.host, server.port, server.sni, server.alpn, line,
                        knowledge.load(line).suites, psk)
    return probe(target, Timeouts(5.0, 5.0), 30.0)


def _certificates(profile: Profile, paths: tuple[Path, ...], role: str,
                  reads: Reads) -> tuple[Certificate, ...]:
    found = []
    for path in paths:
        facts = inspect.parse(reads.read(path, inspect.read_bytes), profile.relative(path))
        if not facts.certificates:
            raise ConfiggenError("holds no certificate", where=profile.relative(path))
        found += [Certificate(c, profile.relative(path), role) for c in facts.certificates]
    return tuple(found)


def gather(profile: Profile, offline: bool = False,
           release: releases.ReleaseFacts | None = None, reads: Reads | None = None) -> Inputs:
    """Read what the profile names: servers (live or recorded) and certificates (the I/O
    edge); `reads` records the digest of each file read."""
    reads = reads if reads is not None else Reads()
    found = [(s, *_server_facts(profile, s, offline, reads)) for s in profile.servers]
    anchors = _certificates(profile, profile.ca, "anchor", reads)
    client = (_certificates(profile, (profile.client_cert,), "client", reads)
              if profile.client_cert else ())
    key = _device_key(profile) if profile.client_key else None
    return Inputs(
        profile,
        tuple(probed(server, facts) for server, facts, _ in found),
        anchors,
        client,
        pem=profile.ca_format == "pem",
        at=check_time(profile),
        notes=tuple(note for _, _, note in found if note),
        release=release,
        client_key=key,
    )


def probed(server: Server, facts: ServerFacts) -> ProbedServer:
    """A server with the chain it sends, parsed here, once, for every stage after."""
    sent = tuple(cert for index, der in enumerate(facts.certificate_chain)
                 for cert in inspect.parse(der, f"{facts.where} chain[{index}]").certificates)
    return ProbedServer(server, facts, sent)


# The device key's password, for a key that is encrypted: from the environment only, so it
# is never written into a profile, a header or a log (configgen's test client reads it too).
ENV_KEY_PASSWORD = "CONFIGGEN_KEY_PASSWORD"


def _device_key(profile: Profile) -> KeyFacts:
    """[client].key, parsed (decrypted with $CONFIGGEN_KEY_PASSWORD when it is encrypted)."""
    assert profile.client_key is not None
    where = profile.relative(profile.client_key)
    password = os.environ.get(ENV_KEY_PASSWORD)
    try:
        facts = inspect.parse(inspect.read_bytes(profile.client_key), where,
                              password.encode() if password else None)
    except inspect.PasswordNeeded as error:
        raise ConfiggenError(
            f"{error.message}: configgen needs it decrypted to check that it is the certificate's "
            "key and what loading it takes", where=where,
            hint=f"set {ENV_KEY_PASSWORD} in the environment (it is never written anywhere)") from None
    if not facts.keys:
        raise ConfiggenError("holds no private key", where=where,
                             hint="[client].key names the device's private key (PEM or DER)")
    return facts.keys[0]


def check_time(profile: Profile) -> dt.datetime:
    """When certificate chains are checked: [policy].at (reproducible builds), else now."""
    if profile.policy.at:
        return dt.datetime.combine(dt.date.fromisoformat(profile.policy.at), dt.time(12),
                                   tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def banner_inputs(profile: Profile, offline: bool, reads: Reads) -> tuple[tuple[str, str, str], ...]:
    """The banner's input rows, with the digest of each file as `gather` read it."""
    sha = reads.digests
    profile_sha = profile.sha256[:16]
    rows = [("profile", profile.path.name, profile_sha), ("board", profile.board.source, "")]
    for server in profile.servers:
        detail = (f"snapshot {profile.relative(server.snapshot)} {sha[server.snapshot]}"
                  if offline and server.snapshot else "probed live")
        rows.append(("server", server.where, detail))
    rows += [("trust", profile.relative(p), sha[p]) for p in profile.ca]
    if profile.client_cert:
        rows.append(("client", profile.relative(profile.client_cert), sha[profile.client_cert]))
    return tuple(rows)


def command_for(profile: Profile, output: str | None, line_option: str | None, offline: bool,
                debug: bool = False) -> str:
    """The normalised command that regenerates the header (no absolute paths)."""
    words = ["configgen", "generate", "--profile", profile.path.name]
    if line_option:
        words += ["--mbedtls", line_option]
    if offline:
        words.append("--offline")
    if debug:
        words.append("--debug")
    if output and output != "-":
        words += ["-o", Path(output).name]
    return shlex.join(words)


def _known_defects(options: OptionSet, release: releases.ReleaseFacts, servers: tuple[ServerFacts, ...],
                   kb: knowledge.KnowledgeBase) -> OptionSet:
    """The option set, warned of each known defect of the target release it walks into with
    the servers (an override can lead there; what derive chooses does not)."""
    walks = release.walked_into(options.values(), servers, kb)
    return replace(options, warnings=options.warnings + tuple(f"{w.why}: {w.fact.fix}" for w in walks))


def generate(
    profile: Profile,
    output: str | None = None,
    line_option: str | None = None,
    command: str | None = None,
    offline: bool = False,
    debug: bool = False,
    tree_version: str | None = None,
    *,
    verify: Mode = Mode.AUTO,
    mbedtls_src: list[str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Generated:
    """The header for a project profile (and the option set behind it). Servers are probed
    live unless `offline` (then their recorded snapshots are replayed). `command` replaces
    the regenerate command the banner names (for wrappers, like pip-tools'
    CUSTOM_COMPILE_COMMAND). `debug` adds MBEDTLS_DEBUG_C for bring-up. `tree_version` is
    the release of the user's own tree (--mbedtls-src), which the header then targets.

    With live servers the header is proven before it is returned (see prove.py): built
    against mbedTLS (`mbedtls_src`, else the cached sources of its line) and tried with a
    handshake and a round trip against every server; the banner records what was shown.
    VerificationFailed when a handshake fails; `verify` says whether not being able to try
    is a failure (Mode.REQUIRED) or a line in the banner (Mode.AUTO), or skips it (Mode.OFF)."""
    if debug:
        profile = replace(profile, enable=profile.enable + (
            Override(debughelp.DEBUG_OPTION, None, debughelp.REASON),))
    base = knowledge.load(profile.mbedtls)
    target = releases.target(profile.mbedtls, base.version, profile.board.name, profile.board.sdk,
                             tree_version)
    facts = releases.facts_for(target.release)
    reads = Reads()
    inputs = gather(profile, offline, facts, reads)
    servers = tuple(s.facts for s in inputs.servers)
    options = _known_defects(resolve(derive(inputs, base), base), facts, servers, base)
    command = command or command_for(profile, output, line_option, offline, debug)
    context = HeaderContext(
        board=profile.board.name,
        command=command,
        inputs=banner_inputs(profile, offline, reads),
        file_name=Path(output).name if output and output != "-" else "mbedtls_config.h",
        release=target.release,
        release_how=target.how,
        end_of_life=facts.end_of_life,
    )
    text = render_header(options, base, context)
    proven = None
    if not offline and verify is not Mode.OFF:
        if inputs.notes and verify is not Mode.REQUIRED:  # a server fell back to its snapshot
            proven = Proven(None, skipped="a server could not be reached (see the integrator notes)")
        else:
            proven = prove(text, profile, [a.facts for a in inputs.anchors], verify, mbedtls_src,
                           progress, target.release)
        text = render_header(options, base, replace(context, verified=proven.banner()))
    return Generated(text, options, profile, command, context.inputs, facts, proven, inputs.notes, servers,
                     tuple(a.facts for a in inputs.anchors))
