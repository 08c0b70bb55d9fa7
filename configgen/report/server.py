"""ServerFacts as lines a person reads in a terminal (`configgen probe`; pure, the command prints them).

`rows` are the facts by topic; report/markdown.py lays the same rows out for a pull request.
"""

from __future__ import annotations

from cryptography import x509

from configgen.model.facts import ServerFacts, Status


def _yes(value: bool | None) -> str:
    return "?" if value is None else "yes" if value else "no"


def _subjects(chain: tuple[bytes, ...]) -> dict[bytes, str]:
    names: dict[bytes, str] = {}
    for der in chain:
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        for name in (certificate.subject, certificate.issuer):
            names[name.public_bytes()] = name.rfc4514_string()
    return names


def _alpn(chosen: str | None, refused: bool | None) -> str:
    if refused:
        return "refuses the protocols asked for"
    return chosen or ("not asked" if refused is None else "none chosen")


def _certificate(der: bytes) -> str:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return f"{len(der)} bytes, not parsable as X.509"
    key = certificate.public_key()
    size = getattr(key, "key_size", None)
    kind = type(key).__name__.replace("_", "").replace("PublicKey", "")
    return f"{certificate.subject.rfc4514_string()} ({kind}{f' {size}' if size else ''}, {len(der)} bytes)"


def render(facts: ServerFacts) -> list[str]:
    """The facts, one topic per line (continuations indented)."""
    pad = " " * 16
    sni = f" (SNI {facts.sni})" if facts.sni else " (no SNI)"
    lines = [f"{facts.where}{sni}: {how(facts)}"]
    for label, (first, *more) in rows(facts):
        lines.append(f"{label:<15} {first}")
        lines.extend(pad + m for m in more)
    return lines


def how(facts: ServerFacts) -> str:
    """How the server was probed: the suites offered, the connections made."""
    return (f"probed with the suites of mbedTLS {facts.mbedtls} "
            f"({facts.candidates} TLS 1.2 candidates), {facts.connections} connections")


def rows(facts: ServerFacts) -> list[tuple[str, tuple[str, ...]]]:
    """The facts, one topic a row: its label and its lines (at least one), as text and
    Markdown both show them."""
    found: list[tuple[str, tuple[str, ...]]] = []

    def row(label: str, first: str, *more: str) -> None:
        found.append((label, (first, *more)))

    old = [v for v in facts.versions if v in ("1.0", "1.1")]
    current = [v for v in facts.versions if v in ("1.2", "1.3")]
    versions = ", ".join(f"TLS {v}" for v in current) or "neither TLS 1.2 nor TLS 1.3"
    if old:
        versions += f" (also {', '.join(old)}: obsolete, mbedTLS 3.x cannot)"
    row("versions", versions)
    order = {True: "server's order", False: "client's order", None: "order not determined"}
    if facts.tls12_suites:
        row("TLS 1.2 suites", f"{len(facts.tls12_suites)} accepted, "
            f"{order[facts.server_preference]}",
            *(f"0x{s.id:04X} {s.name}" for s in facts.tls12_suites))
    if facts.tls13_suites:
        row("TLS 1.3 suites", ", ".join(f"0x{s.id:04X} {s.name}" for s in facts.tls13_suites))
    if facts.tls12_curves:
        row("ECDHE curves", ", ".join(facts.tls12_curves))
    if facts.tls13_groups:
        retry = {True: "asks again for another key share", False: "accepts it",
                 None: "not determined"}[facts.tls13_retry]
        row("TLS 1.3 groups", ", ".join(facts.tls13_groups), f"x25519 key share: {retry}")
    for exchange in facts.key_exchanges:
        parts = []
        if exchange.curve:
            parts.append(f"curve {exchange.curve}")
        if exchange.dh_prime_bits:
            parts.append(f"{exchange.dh_prime_bits}-bit prime")
        if exchange.signature_scheme:
            parts.append(f"signed {exchange.signature_scheme}")
        row("key exchange", f"{exchange.key_exchange}: {', '.join(parts) or 'no parameters'}")
    if facts.certificate_chain:
        total = sum(len(c) for c in facts.certificate_chain)
        row("chain", f"{len(facts.certificate_chain)} certificates, {total} bytes",
            *(_certificate(c) for c in facts.certificate_chain))
    if facts.sizes is not None:
        sizes = []
        if facts.sizes.messages:
            sizes.append(f"largest TLS 1.2 handshake record: {facts.sizes.largest_record} bytes")
        if facts.sizes.tls13_largest_record is not None:
            sizes.append("largest TLS 1.3 handshake record (decrypted): "
                         f"{facts.sizes.tls13_largest_record} bytes")
        if facts.sizes.largest_message is not None:
            m = facts.sizes.largest_message
            split = f", split over {m.records} records" if m.records > 1 else ""
            sizes.append(f"largest handshake message {m.message}: {m.size} bytes{split}")
        if sizes:
            row("sizes", *sizes)
    if facts.client_auth is None:
        row("client auth", "no CertificateRequest")
    else:
        names = _subjects(facts.certificate_chain)
        authorities = [names.get(a, f"a name of {len(a)} bytes") for a in facts.client_auth.authorities]
        row("client auth", "certificate requested",
            f"types: {', '.join(facts.client_auth.certificate_types) or '- (TLS 1.3 has none)'}",
            f"signature schemes: {', '.join(facts.client_auth.signature_schemes)}",
            f"CA names: {'; '.join(authorities) or 'none'}")
    e = facts.extensions
    row("extensions",
        f"SNI required: {_yes(e.sni_required)}, changes the chain: {_yes(e.sni_changes_chain)}",
        f"extended_master_secret: {_yes(e.extended_master_secret)}, "
        f"encrypt_then_mac: {_yes(e.encrypt_then_mac)}, session_ticket: {_yes(e.session_ticket)}",
        f"renegotiation_info: {_yes(e.renegotiation_info)}, OCSP stapling: {_yes(e.ocsp_stapling)}, "
        f"record_size_limit: {e.record_size_limit or 'no'}, ALPN: {_alpn(e.alpn, e.alpn_refused)}",
        "max_fragment_length honoured: "
        + (", ".join(str(s) for s in e.max_fragment_lengths)
           or ("none" if "1.2" in facts.versions else "? (asked in TLS 1.2 only)")))
    i = facts.intolerance
    if i.blamed:
        row("intolerance", f"the server chokes on: {', '.join(i.blamed)}", i.detail)
    elif i.default_hello is Status.ANSWERED:
        row("intolerance", f"none: mbedTLS {facts.mbedtls}'s default ClientHello is answered")
    else:
        row("intolerance", i.detail)
    for attempt in facts.attempts:
        label = "violation" if attempt.status is Status.VIOLATION else "not determined"
        row(label, f"{attempt.question}: {attempt.detail}")
    return found
