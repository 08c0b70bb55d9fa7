"""Record buffer sizes from the sizes the server really sent and the messages the device
sends (handshake_model), max_fragment_length where the heap calls for it, and the warning
when a board cannot hold a handshake."""

from __future__ import annotations

from typing import Sequence

from configgen import handshake_model
from configgen.errors import ResolveConflict
from configgen.kb import releases
from configgen.kb.model import KnowledgeBase
from configgen.model.facts import ServerFacts
from configgen.model.profile import RECORD_MAX, Margin, Profile, Server
from configgen.model.requirements import Need, Requirement
from configgen.resolve import VALUE_OPTIONS
from configgen.derive.inputs import Inputs, release_facts, requirement


# What mbedTLS keeps besides the two record buffers during a handshake, roughly: contexts,
# the parsed chain, key exchange working memory (bytes; measured 8.5 KiB for P-256 chains and
# 19.4 KiB for an RSA-4096 chain, bench/e2e_footprint.py). Used to decide whether a board's
# heap calls for max_fragment_length, and to warn when it cannot hold a handshake.
HANDSHAKE_WORKING_SET = 20 * 1024

_MFL_SIZES = (512, 1024, 2048, 4096)


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def buffer_sizes(server: Server, facts: ServerFacts, inputs: Inputs, kb: KnowledgeBase, versions: Sequence[str],
                 notes: list[str], warnings: list[str], handshakes: Sequence[handshake_model.Handshake]) -> list[Requirement]:
    name = server.name
    board = inputs.profile.board
    sizes = facts.sizes
    handshake = 0
    how = "no handshake sizes recorded: the largest TLS record"
    if sizes is not None:
        message = sizes.largest_message
        if message is not None and message.size > RECORD_MAX:
            raise ResolveConflict(
                f"the server's {message.message} message is {message.size:,} bytes; mbedTLS holds a "
                f"whole handshake message in its input buffer, and no configuration of mbedTLS "
                f"{kb.line} allows more than {RECORD_MAX:,} bytes (MBEDTLS_SSL_IN_CONTENT_LEN): the "
                "handshake would fail (-0x7100 on 3.6, -0x7080 on 2.28)",
                where=name,
                hint="ask the server's operator for a shorter chain: fewer or smaller certificates "
                "(ECDSA instead of large RSA keys), without the root and cross-signatures",
            )
        release = release_facts(inputs, kb)
        lacking = release.lacks(releases.HANDSHAKE_REASSEMBLY)
        if lacking and message is not None and message.records > 1:
            raise ResolveConflict(
                f"the server splits its {message.message} message ({message.size} bytes) over "
                f"{message.records} records, which mbedTLS {release.release} cannot reassemble (-0x7080)",
                where=name,
                hint=lacking.fix,
            )
        candidates = [(sizes.largest_record, "largest handshake record")]
        if message is not None:
            candidates.append((message.size, f"{message.message} message"))
        if "1.3" in versions and sizes.tls13_largest_record:
            candidates.append((sizes.tls13_largest_record, "largest TLS 1.3 record"))
        handshake, what = max(candidates)
        how = f"{what} {handshake:,} bytes"
    app = server.app_record_max or RECORD_MAX
    app_how = (f"[server].app_record_max = {server.app_record_max}" if server.app_record_max
               else "application records up to 16,384 bytes (TLS maximum)")
    out, out_how = _out_size(handshakes, inputs.profile.policy.margin)
    found: list[Requirement] = []
    mfl = None
    budget = board.heap_kib * 1024
    if handshake and app > handshake and app + out + HANDSHAKE_WORKING_SET > budget:
        honoured = [s for s in facts.extensions.max_fragment_lengths if s in _MFL_SIZES]
        fitting = [s for s in honoured if release_facts(inputs, kb).has(releases.HANDSHAKE_REASSEMBLY) or s >= handshake]
        if fitting:
            mfl = min(fitting)
            found.append(requirement(Need.FEATURE, "max_fragment_length",
                                     f"{name}: honours max_fragment_length {mfl}; board {board.name} has {board.heap_kib} KiB of heap"))
            notes.append(f"{name}: call mbedtls_ssl_conf_max_frag_len(&conf, MBEDTLS_SSL_MAX_FRAG_LEN_{mfl}) "
                         "before mbedtls_ssl_setup(), or the server sends 16 KiB records")
            app, app_how = mfl, f"max_fragment_length {mfl}"
            out = max(out, mfl)
    margin = inputs.profile.policy.margin
    size = _buffer(max(handshake, app), margin)
    warning = _heap_warning(server, inputs.profile, size, out, _buffer(handshake, margin))
    if warning:
        warnings.append(warning)
    found.append(requirement(Need.IN_CONTENT, size, f"{name}: {how}; {app_how}",
                             derivation=f"max({handshake:,}, {app:,}) bytes, margin \"{margin.value}\""))
    found.append(requirement(Need.OUT_CONTENT, out, f"{name}: the device's own handshake messages",
                             derivation=f"{out:,} bytes: {out_how}"))
    return found


def _buffer(need: int, margin: Margin) -> int:
    """A record buffer's size for `need` bytes: exact with margin "minimal", a quarter more
    with "balanced"; never above a full TLS record."""
    size = _round_up(need, 256) if margin is Margin.MINIMAL else _round_up(need * 5 // 4, 1024)
    return min(size, RECORD_MAX)


def _heap_warning(server: Server, profile: Profile, size: int, out: int, handshake_only: int) -> str | None:
    """Why the record buffers (as the header will set them, overrides included) and a
    handshake's working memory may not fit the board's heap, and what to do; None when they fit."""
    board = profile.board
    buffers = (VALUE_OPTIONS[Need.IN_CONTENT], VALUE_OPTIONS[Need.OUT_CONTENT])
    overridden = {o.name: int(o.value) for o in profile.enable
                  if o.name in buffers and o.value is not None and o.value.isascii() and o.value.isdigit()}
    size, out = overridden.get(buffers[0], size), overridden.get(buffers[1], out)
    total = size + out
    if total + HANDSHAKE_WORKING_SET <= board.heap_kib * 1024:
        return None
    if overridden:
        what = f"lower {', '.join(overridden)} in [overrides.enable], or give TLS more heap"
    elif server.app_record_max is None and handshake_only < size:
        what = (f"set [server].app_record_max if its application messages are smaller (the handshake "
                f"needs {handshake_only:,} bytes), or give TLS more heap")
    else:
        what = "give TLS more heap"
    return (f"{server.name}: board {board.name} has {board.heap_kib} KiB of heap; the record buffers take "
            f"{total:,} bytes (input {size:,}, output {out:,}) and a handshake about "
            f"{HANDSHAKE_WORKING_SET // 1024} KiB more, so mbedtls_ssl_setup() or the handshake may "
            f"fail with MBEDTLS_ERR_SSL_ALLOC_FAILED (-0x7F00): {what}")


def _out_size(handshakes: Sequence[handshake_model.Handshake], margin: Margin) -> tuple[int, str]:
    """The outgoing buffer: the largest message the device sends in any handshake it may run
    (an output buffer too small for a DHE ClientKeyExchange is also a known defect,
    releases.toml dhm-client-key-exchange-overflow); "balanced" keeps 2 KiB for application writes."""
    largest = max((h.largest_sent for h in handshakes), key=lambda m: m.size,
                  default=handshake_model.Message("ClientHello", handshake_model.CLIENT_HELLO_MAX,
                                                  "the ClientHello"))
    floor = 2048 if margin is Margin.BALANCED else 0
    size = _round_up(max(largest.size, floor), 256)
    how = (f"the {largest.name}, {largest.size:,} bytes ({largest.derivation})"
           if largest.name != "ClientHello" else "the ClientHello")
    return size, how + (", at least 2,048 (balanced)" if largest.size < floor else "")
