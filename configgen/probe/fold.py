"""Observations in, ServerFacts out (pure): what every connection taught, put together.

`fold` reads observations by job key (see plan.py), so the order in which connections
finished never changes the facts. `failure` says, in one sentence, why a server that
answered nothing usable cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from configgen.model.facts import (
    SCHEMA,
    ClientAuthFacts,
    ExtensionFacts,
    HandshakeSize,
    IntoleranceFacts,
    KeyExchangeFact,
    ProbeAttempt,
    ServerFacts,
    SizeFacts,
    Status,
    Suite,
)
from configgen.probe.hello import encode
from configgen.probe.messages import (
    ServerHello,
    parse_certificate_chain,
    parse_certificate_request,
    parse_server_key_exchange,
)
from configgen.probe.names import (
    CERTIFICATE_TYPES,
    EXTENSIONS,
    GROUPS,
    MFL_CODES,
    SIGNATURE_SCHEMES,
    TLS12_CURVES,
    VERSIONS,
    name_of,
)
from configgen.probe.observation import Observation, Reply, read_reply
from configgen.probe.plan import (
    Target,
    ecdhe_curve,
    opening_curves,
    server_orders,
    server_orders_curves,
)
from configgen.probe.records import (
    CERTIFICATE,
    CERTIFICATE_REQUEST,
    HANDSHAKE,
    SERVER_KEY_EXCHANGE,
    HandshakeMessage,
    MalformedInput,
    Reader,
)
from configgen.probe.tls13 import Decrypted, decrypt, parse_certificate, parse_extensions
from configgen.probe.verdict import judge

MESSAGE_NAMES = {
    2: "ServerHello",
    8: "EncryptedExtensions",
    15: "CertificateVerify",
    20: "Finished",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    22: "CertificateStatus",
}
EXT_MFL, EXT_STATUS, EXT_ALPN, EXT_ETM, EXT_EMS, EXT_RSL, EXT_TICKET, EXT_RENEG = (
    1, 5, 16, 22, 23, 28, 35, 0xFF01
)
EXT_SIGNATURE_ALGORITHMS, EXT_AUTHORITIES, EXT_KEY_SHARE = 13, 47, 51
ENCRYPTED_EXTENSIONS = 8


def _answer(observation: Observation | None) -> tuple[Reply, ServerHello] | None:
    if observation is None or observation.status is not Status.ANSWERED:
        return None
    reply = read_reply(observation.received)
    if reply.hello is None:
        return None
    return reply, reply.hello


def _by_key(observations: Iterable[Observation]) -> dict[str, Observation]:
    return {o.job.key: o for o in observations}


def _choices(obs: dict[str, Observation], prefix: str, seed: int | None,
             pick: Callable[[Observation, ServerHello], int | None]) -> tuple[int, ...]:
    found: list[int] = [] if seed is None else [seed]
    for key in sorted(k for k in obs if k.startswith(prefix)):
        answer = _answer(obs[key])
        if answer is None:
            continue
        value = pick(obs[key], answer[1])
        if value is not None and value not in found:
            found.append(value)
    return tuple(found)


def fold(target: Target, observations: Iterable[Observation], blamed: tuple[str, ...],
         connections: int) -> ServerFacts:
    """Everything learnt, as facts."""
    kex = target.key_exchange_of()
    obs = _by_key(judge(o, kex) for o in observations)
    names = {c.id: c.name for c in target.tls12 + target.tls13_offer}
    tls12 = _answer(obs.get("tls12"))
    tls13 = _answer(obs.get("tls13"))
    hidden = _decrypted(obs.get("tls13")) or _decrypted(obs.get("tls13-flight"))

    versions = []
    for key in ("tls10", "tls11", "tls12"):
        answer = _answer(obs.get(key))
        if answer is not None and answer[1].version == 0x0300 + int(key[-1]) + 1:
            versions.append(VERSIONS[answer[1].version])
    if tls13 is not None and tls13[1].version == 0x0304:
        versions.append("1.3")

    suite, group = (lambda _, h: h.suite), (lambda _, h: h.group)
    suites12 = _choices(obs, "tls12-suites/", tls12[1].suite if tls12 else None, suite)
    suites13 = _choices(obs, "tls13-suites/", tls13[1].suite if tls13 else None, suite)
    curves = _choices(obs, "tls12-curves/", None, lambda o, _: ecdhe_curve(o, kex))
    if not server_orders_curves(obs, kex):  # asked one by one: in the client's order
        chosen = set(curves + opening_curves(obs, kex))
        curves = tuple(c for c in TLS12_CURVES if c in chosen)
    groups13 = _choices(obs, "tls13-groups/", tls13[1].group if tls13 else None, group)
    preference = server_orders(obs) if len(suites12) > 1 else None
    if not preference:  # the client's order: the knowledge base's
        order = {c.id: n for n, c in enumerate(target.tls12)}
        suites12 = tuple(sorted(suites12, key=lambda s: order.get(s, len(order))))

    return ServerFacts(
        schema=SCHEMA,
        host=target.host,
        port=target.port,
        sni=target.sni if "server_name" not in blamed else None,
        mbedtls=target.line,
        candidates=len(target.tls12),
        versions=tuple(versions),
        server_preference=preference,
        tls12_suites=tuple(Suite(s, names.get(s, f"0x{s:04X}")) for s in suites12),
        tls13_suites=tuple(Suite(s, names.get(s, f"0x{s:04X}")) for s in suites13),
        tls12_curves=tuple(name_of(GROUPS, c) for c in curves),
        tls13_groups=tuple(name_of(GROUPS, g) for g in groups13),
        tls13_retry=tls13[1].retry if tls13 else None,
        key_exchanges=_key_exchanges(obs, kex),
        certificate_chain=_chain(tls12) if tls12 else _chain13(hidden),
        sizes=_sizes(tls12, hidden),
        client_auth=_client_auth(tls12) if tls12 else _client_auth13(hidden),
        extensions=_extensions(obs, tls12, hidden),
        intolerance=_intolerance(obs, blamed),
        attempts=tuple(
            ProbeAttempt(o.job.question, o.status, o.detail)
            for _, o in sorted(obs.items())
            if o.status in (Status.TIMEOUT, Status.RESET, Status.MALFORMED, Status.UNREACHABLE,
                            Status.VIOLATION)
        ),
        connections=connections,
    )


def _key_exchanges(obs: dict[str, Observation], kex: Mapping[int, str]
                   ) -> tuple[KeyExchangeFact, ...]:
    seen: dict[str, KeyExchangeFact] = {}
    for key in sorted(k for k in obs if k == "tls12" or k.startswith("tls12-suites/")):
        answer = _answer(obs[key])
        if answer is None:
            continue
        reply, hello = answer
        exchange = kex.get(hello.suite)
        message = reply.flight.message(SERVER_KEY_EXCHANGE)
        if exchange is None or message is None or exchange in seen:
            continue
        try:
            params = parse_server_key_exchange(message.body, exchange, hello.version)
        except MalformedInput:
            continue
        seen[exchange] = KeyExchangeFact(
            exchange,
            name_of(GROUPS, params.curve) if params.curve is not None else None,
            params.dh_prime_bits,
            name_of(SIGNATURE_SCHEMES, params.signature_scheme)
            if params.signature_scheme is not None else None,
        )
    return tuple(seen[k] for k in sorted(seen))


def _chain(tls12: tuple[Reply, ServerHello] | None) -> tuple[bytes, ...]:
    if tls12 is None:
        return ()
    message = tls12[0].flight.message(CERTIFICATE)
    if message is None:
        return ()
    try:
        return parse_certificate_chain(message.body)
    except MalformedInput:
        return ()


def _handshake_sizes(messages: Iterable[HandshakeMessage]) -> tuple[HandshakeSize, ...]:
    return tuple(
        HandshakeSize(MESSAGE_NAMES.get(m.msg_type, f"type {m.msg_type}"), m.size, m.records)
        for m in messages
    )


def _sizes(tls12: tuple[Reply, ServerHello] | None, hidden: Decrypted | None) -> SizeFacts | None:
    if tls12 is None and hidden is None:
        return None
    messages13 = _handshake_sizes(hidden.messages) if hidden else ()
    largest13 = max(hidden.records, default=None) if hidden else None
    if tls12 is None:
        return SizeFacts(0, max(messages13, key=lambda m: m.size, default=None), (), largest13,
                         messages13)
    flight = tls12[0].flight
    messages = _handshake_sizes(flight.messages)
    return SizeFacts(
        largest_record=max((len(r.payload) for r in flight.records if r.content_type == HANDSHAKE),
                           default=0),
        largest_message=max(messages + messages13, key=lambda m: m.size, default=None),
        messages=messages,
        tls13_largest_record=largest13,
        tls13_messages=messages13,
    )


def _decrypted(observation: Observation | None) -> Decrypted | None:
    """The encrypted part of a TLS 1.3 flight, when the probe's key share was taken."""
    answer = _answer(observation)
    if observation is None or answer is None:
        return None
    reply, hello = answer
    share = hello.extension(EXT_KEY_SHARE)
    if hello.version != 0x0304 or hello.retry or share is None:
        return None
    try:
        reader = Reader(share, "key_share")
        group, key = reader.uint(2), reader.vector(2)
        reader.end()
        return decrypt(encode(observation.job.hello), reply.flight, hello.suite, group, key)
    except MalformedInput:
        return None


def _message13(hidden: Decrypted | None, msg_type: int) -> bytes | None:
    if hidden is None:
        return None
    return next((m.body for m in hidden.messages if m.msg_type == msg_type), None)


def _chain13(hidden: Decrypted | None) -> tuple[bytes, ...]:
    body = _message13(hidden, CERTIFICATE)
    try:
        return parse_certificate(body) if body is not None else ()
    except MalformedInput:
        return ()


def _client_auth13(hidden: Decrypted | None) -> ClientAuthFacts | None:
    body = _message13(hidden, CERTIFICATE_REQUEST)
    if body is None:
        return None
    try:
        extensions = parse_extensions(body, "CertificateRequest", skip_context=True)
        schemes = Reader(extensions.get(EXT_SIGNATURE_ALGORITHMS, b"\0\0"), "signature_algorithms"
                         ).sub(2, "signature_algorithms")
        names = Reader(extensions.get(EXT_AUTHORITIES, b"\0\0"), "certificate_authorities"
                       ).sub(2, "certificate_authorities")
        scheme_codes = [schemes.uint(2) for _ in range(schemes.remaining() // 2)]
        authorities = []
        while names.remaining():
            authorities.append(names.vector(2))
    except MalformedInput:
        return None
    return ClientAuthFacts((), tuple(name_of(SIGNATURE_SCHEMES, c) for c in scheme_codes),
                           tuple(authorities))


def _encrypted_extensions(hidden: Decrypted | None) -> dict[int, bytes]:
    body = _message13(hidden, ENCRYPTED_EXTENSIONS)
    try:
        return parse_extensions(body, "EncryptedExtensions") if body is not None else {}
    except MalformedInput:
        return {}


def _client_auth(tls12: tuple[Reply, ServerHello] | None) -> ClientAuthFacts | None:
    if tls12 is None:
        return None
    message = tls12[0].flight.message(CERTIFICATE_REQUEST)
    if message is None:
        return None
    try:
        request = parse_certificate_request(message.body)
    except MalformedInput:
        return None
    return ClientAuthFacts(
        tuple(name_of(CERTIFICATE_TYPES, t) for t in request.certificate_types),
        tuple(name_of(SIGNATURE_SCHEMES, s) for s in request.signature_schemes),
        request.authorities,
    )


def _extensions(obs: dict[str, Observation], tls12: tuple[Reply, ServerHello] | None,
                hidden: Decrypted | None) -> ExtensionFacts:
    hello = tls12[1] if tls12 else None
    asked = obs["tls12"].job.hello.extension_names() if hello else ()
    encrypted = _encrypted_extensions(hidden)

    def echoed(ext: int) -> bool | None:
        if hello is None or EXTENSIONS[ext] not in asked:
            return None
        return hello.extension(ext) is not None

    alpn = alpn_refused = None
    if "alpn" in obs:
        alpn_answer = _answer(obs["alpn"])
        alpn_refused = alpn_answer is None and obs["alpn"].status is Status.REFUSED
        body = alpn_answer[1].extension(EXT_ALPN) if alpn_answer else None
        if alpn_answer and alpn_answer[1].version == 0x0304:
            body = _encrypted_extensions(_decrypted(obs["alpn"])).get(EXT_ALPN)
        alpn = body[3:].decode("ascii", "replace") if body and len(body) > 3 else None
    rsl_body = hello.extension(EXT_RSL) if hello else encrypted.get(EXT_RSL)
    rsl = int.from_bytes(rsl_body, "big") if rsl_body and len(rsl_body) == 2 else None

    mfl = []
    for key in sorted(k for k in obs if k.startswith("mfl-")):
        answer = _answer(obs[key])
        if answer is None:
            continue
        body = answer[1].extension(EXT_MFL)
        size = MFL_CODES.get(body[0]) if body and len(body) == 1 else None
        if size is not None and all(len(r.payload) <= size for r in answer[0].flight.records):
            mfl.append(size)

    etm_answer = _answer(obs.get("etm"))
    etm = etm_answer[1].extension(EXT_ETM) is not None if etm_answer else None

    sni_required = sni_changes = None
    no_sni = obs.get("no-sni")
    if no_sni is not None and tls12 is not None:
        plain = _answer(no_sni)
        sni_required = plain is None
        if plain is not None:
            sni_changes = _chain(plain) != _chain(tls12)
    return ExtensionFacts(
        sni_required=sni_required,
        sni_changes_chain=sni_changes,
        extended_master_secret=echoed(EXT_EMS),
        encrypt_then_mac=etm,
        session_ticket=echoed(EXT_TICKET),
        renegotiation_info=echoed(EXT_RENEG),
        ocsp_stapling=echoed(EXT_STATUS),
        record_size_limit=rsl,
        alpn=alpn,
        alpn_refused=alpn_refused,
        max_fragment_lengths=tuple(mfl),
    )


def _intolerance(obs: dict[str, Observation], blamed: tuple[str, ...]) -> IntoleranceFacts:
    default = obs.get("default")
    if default is None:
        return IntoleranceFacts(Status.UNREACHABLE, blamed, "not asked")
    if blamed:
        detail = f"default ClientHello: {default.detail}; the server chokes on " + ", ".join(
            blamed)
    else:
        detail = f"default ClientHello: {default.detail}"
    return IntoleranceFacts(default.status, blamed, detail)


def failure(target: Target, observations: Iterable[Observation]) -> tuple[Status, str] | None:
    """Why nothing the server sent can be used (the worst ending and its words), or None
    when something can."""
    obs = [judge(o, target.key_exchange_of()) for o in observations]
    if any(_answer(o) is not None for o in obs):
        return None
    order = (Status.VIOLATION, Status.MALFORMED, Status.REFUSED, Status.RESET, Status.CLOSED,
             Status.TIMEOUT, Status.UNREACHABLE)
    worst = min(obs, key=lambda o: (order.index(o.status), o.job.key), default=None)
    if worst is None:
        return Status.UNREACHABLE, "no connection was made"
    if worst.status is Status.REFUSED:
        return worst.status, f"refused every ClientHello ({worst.detail})"
    return worst.status, worst.detail
