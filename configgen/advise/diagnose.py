"""diagnose: an mbedTLS debug log in; what happened in the handshake, and why it failed, out.

`read_log(text)` reconstructs a Trace from the log: the ClientHello (suites by id, SNI,
extensions, groups), the server's answers (chosen suite, certificate request, alerts), how
far the handshake got and every error mbedTLS reported. It reads debug levels 1-5 of 2.x
and 3.x, with or without `file.c:NNNN: |N|` prefixes, and logs mangled by forums (… for
..., curly quotes, wrapped lines, prefixes stripped): messages are matched over the text
with its whitespace collapsed. `diagnose(trace, kbs, causes)` then names the cause and the
fix, with the patch-level facts (kb/releases.toml) of the release the log's banner names. Pure; never raises on arbitrary text except AdviceInputError when there is no mbedTLS
output in it at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

from configgen.advise.causes import Causes
from configgen.model.explanations import Cause
from configgen.advise.explain import AdviceInputError, read_code
from configgen.kb import releases
from configgen.kb.errcodes import split
from configgen.kb.model import KnowledgeBase
from configgen.model.findings import Diagnosis, ErrorSite, Trace
from configgen.values import line_of

T = TypeVar("T")

# What forums and chat tools do to text, undone.
_MANGLED = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u200b": None, "\ufeff": None,
})
# file.c:1234: |2|   (any path; also with the file part or the level part alone)
# Every repetition is bounded and every line is cut to MAX_LINE characters, so reading a log
# takes time linear in its length whatever it holds (an unbounded [\w./-]+ before ".c:" took
# seconds on one 20 KB line).
MAX_LINE = 4096
_FILE = r"(?<![\w./\\-])[\w./\\-]{1,256}\.[ch][ \t]{0,4}:[ \t]{0,4}\d{1,5}[ \t]{0,4}:"  # at a path's start
_PREFIX = re.compile(_FILE + r"[ \t]{0,4}\|[ \t]{0,4}\d[ \t]{0,4}\|[ \t]?|\|[ \t]{0,4}\d[ \t]{0,4}\|[ \t]?|"
                     + _FILE + r"\s")
_SDK_PREFIX = re.compile(r"(?m)^[ \t]{0,64}(?:\[[\d:. ]{1,40}\][ \t]{0,8}|[IWEDV] \(\d{1,12}\) [\w-]{1,64}:\s)")

_ERROR = re.compile(r"\b(\w{1,80})\(\)(?: \w{1,40})? returned (-?\d{1,12}) \( ?(-?0x[0-9a-fA-F]{1,8}) ?\)")
_FINAL = re.compile(
    r"! (mbedtls_\w{1,80})(?:\(\))? returned (-?(?:0x)?[0-9a-fA-F]{1,12})"
    r"|error (-0x[0-9a-fA-F]{1,8}) in (\w{1,80})(?: \(([^)]{0,200})\))?"
    r"|Last error was: (-?0x[0-9a-fA-F]{1,8}|-\d{1,12})")
_RECV = re.compile(r"f_recv[\w()]{0,40} returned (-?\d{1,12})")
_SUITE = re.compile(r"add ciphersuite: (?:0x)?([0-9a-fA-F]{1,4})\b")
_CHOSEN = re.compile(r"server hello, chosen ciphersuite: (?:0x)?([0-9a-fA-F]{1,4})\b")
_SNI = re.compile(r"adding server name extension: ([^\s\"']{1,255})")
_EXTENSION = re.compile(r"adding (\w{1,40}(?: \w{1,40})?) extension\b")
_GROUP = re.compile(r"NamedGroup: (\w{1,40})")
_MAX_VERSION = re.compile(r"client hello, max version: \[(\d):(\d)\]")
_VERSION = re.compile(r"(?:Mbed ?TLS|mbed TLS) (\d+\.\d+\.\d+)")
_ALERT_IN = re.compile(r"got an alert message, type: \[(\d):(\d{1,3})\]|is a fatal alert message \(msg (\d{1,3})\)")
_ALERT_OUT = re.compile(r"send alert level=(\d{1,3}) message=(\d{1,3})")
_FLAGS = re.compile(r"verify flags:? (?:0x)?([0-9a-fA-F]{1,8})\b|[Vv]erification flags? (?:were )?(?:0x)?([0-9a-fA-F]{8})")
_ALLOC = re.compile(r"alloc\((\d{0,12})(?: bytes)?\) (?:of [\w -]{1,80}? )?failed")
_CA_LOAD_FAILED = re.compile(r"Loading the CA root certificate \.\.\. failed")
_NAME_END = r"(?= issued\s+on| subject alt name| issuer name| subject name| peer certificate| signed using|$)"
_SUBJECT = re.compile(r"subject name\s*: (.{1,200}?)" + _NAME_END)
_ISSUER = re.compile(r"issuer name\s*: (.{1,200}?)" + _NAME_END)
_CERTIFICATE_SEEN = re.compile(r"Verify requested for|peer certificate info|=> parse certificate(?! request)")

# Debug messages that tell a cause apart (all at debug level 1 or 2); the messages that show
# a release's fact come from kb/releases.toml ([fact.log]).
TOO_LARGE = ("requesting more data than fits", "bad message length")
NO_CLIENT_CERTIFICATE = ("got no certificate to send", "got no private key for certificate")
NOTABLE = (*TOO_LARGE, *NO_CLIENT_CERTIFICATE)

# Steps of the handshake as the 2.x/3.x TLS 1.2 client logs them, in order.
STEPS = ("write client hello", "parse server hello", "parse certificate",
         "parse server key exchange", "parse certificate request", "parse server hello done",
         "write certificate", "write client key exchange", "write certificate verify",
         "write change cipher spec", "write finished", "parse new session ticket",
         "parse change cipher spec", "parse finished")
# Longest first, so that "parse certificate request" is not read as "parse certificate".
_STEP = re.compile(r"(=>|<= skip) (" + "|".join(sorted(STEPS, key=len, reverse=True)) + r")\b")


def _code(text: str) -> int:
    text = text.strip()
    negative = text.startswith("-")
    digits = text.lstrip("-")
    value = int(digits, 16) if digits.lower().startswith("0x") or not digits.isdigit() else int(digits)
    return -value if negative or value > 0 else value


def normalize(text: str) -> str:
    """The log with forum damage undone, prefixes removed and whitespace collapsed."""
    text = "\n".join(line[:MAX_LINE] for line in text.splitlines())
    text = text.translate(_MANGLED).replace("\u2026", "...")
    text = _SDK_PREFIX.sub(" ", text)
    text = _PREFIX.sub(" ", text)
    return " ".join(text.split())


def _line_of(text: str, version: str | None) -> str | None:
    if version:
        return line_of(version)
    if re.search(r"ssl_tls1[23]_|ssl_client\.c|client state: MBEDTLS_SSL_|PSA-based", text):
        return "3.6"
    if re.search(r"ssl_cli\.c|client state: \d", text):
        return "2.28"
    return None


def _unique(items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def read_log(text: str, flag_texts: Sequence[tuple[int, str]] = ()) -> Trace:
    """The Trace of a debug log; `flag_texts` are (bit, description) of the verify flags, to
    recognise mbedtls_x509_crt_verify_info lines. Raises AdviceInputError when the text has
    no mbedTLS output at all."""
    flat = normalize(text)
    version = next((m.group(1) for m in _VERSION.finditer(flat)), None)
    errors = tuple(ErrorSite(m.group(1), _code(m.group(3))) for m in _ERROR.finditer(flat)
                   if int(m.group(2)) < 0 and 0 < -_code(m.group(3)) <= 0x7FFF)
    final = None
    for m in _FINAL.finditer(flat):
        if m.group(1):
            final = ErrorSite(m.group(1), _code(m.group(2)))
        elif m.group(3):
            where = m.group(4) + (f" ({m.group(5)})" if m.group(5) else "")
            final = ErrorSite(where, _code(m.group(3)))
        elif final is None:
            final = ErrorSite("", _code(m.group(6)))
    steps: list[str] = []
    skipped: list[str] = []
    for m in _STEP.finditer(flat):
        (skipped if m.group(1) == "<= skip" else steps).append(m.group(2))
    messages = tuple(description for _, description in flag_texts if description in flat)
    flags = None
    found = _FLAGS.search(flat)
    if found:
        flags = int(found.group(1) or found.group(2), 16)
    elif messages:
        flags = sum(bit for bit, description in flag_texts if description in messages)
    alloc = _ALLOC.search(flat)
    trace = Trace(
        version=version,
        line=_line_of(text, version),
        suites=_unique(int(m.group(1), 16) for m in _SUITE.finditer(flat)),
        sni=next((m.group(1) for m in _SNI.finditer(flat)), None),
        extensions=_unique(m.group(1) for m in _EXTENSION.finditer(flat)),
        groups=_unique(m.group(1) for m in _GROUP.finditer(flat)),
        max_version=next((f"[{m.group(1)}:{m.group(2)}]" for m in _MAX_VERSION.finditer(flat)), None),
        chosen_suite=next((int(m.group(1), 16) for m in _CHOSEN.finditer(flat)), None),
        steps=_unique(steps),
        skipped=_unique(skipped),
        alerts_received=_unique((int(a or 2), int(b or c)) for a, b, c in _ALERT_IN.findall(flat)),
        alerts_sent=tuple((int(a), int(b)) for a, b in _ALERT_OUT.findall(flat)),
        errors=errors,
        final=final,
        eof=any(int(m.group(1)) == 0 for m in _RECV.finditer(flat)),
        notable=tuple(n for n in _notable() if n in flat),
        verify_flags=flags,
        verify_messages=messages,
        alloc_failed=int(alloc.group(1) or 0) if alloc else None,
        ca_load_failed=bool(_CA_LOAD_FAILED.search(flat)),
        certificate_seen=bool(_CERTIFICATE_SEEN.search(flat)),
        subjects=_unique(m.group(1).strip() for m in _SUBJECT.finditer(flat)),
        issuers=_unique(m.group(1).strip() for m in _ISSUER.finditer(flat)),
    )
    if not (trace.steps or trace.codes or trace.suites or trace.notable or version
            or trace.alerts_received or trace.ca_load_failed):
        raise AdviceInputError("no mbedTLS debug output in it: nothing to diagnose",
                               hint="enable MBEDTLS_DEBUG_C, call mbedtls_ssl_conf_dbg() and "
                               "mbedtls_debug_set_threshold(3) (configgen generate --debug prints the code)")
    return trace


def _notable() -> tuple[str, ...]:
    """NOTABLE, then the debug messages (not steps) that show a release's fact."""
    return (*NOTABLE, *(s for s in releases.log_signs() if s not in STEPS and s not in NOTABLE))


def _error_name(code: int | None, kb: KnowledgeBase | None) -> str | None:
    """The MBEDTLS_ERR_* name of a whole code in the line's knowledge base."""
    return next((e.name for e in kb.errors if e.code == code and e.alias_of is None), None) if kb else None


def _name(code: int, kb: KnowledgeBase | None) -> str:
    if kb is None:
        return f"-0x{-code:04X}"
    names = {e.code: e.name for e in kb.errors if e.alias_of is None}
    if code in names:
        return f"-0x{-code:04X} {names[code].removeprefix('MBEDTLS_ERR_')}"
    high, low = split(code)
    parts = [names.get(-p, "?").removeprefix("MBEDTLS_ERR_") for p in (high, low) if p]
    return f"-0x{-code:04X} {' + '.join(parts)}"


def suite_names(suites: Sequence[int], kb: KnowledgeBase | None, most: int = 6) -> str:
    """"0xC02F TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256, ..." (the first `most`, then a count)."""
    found = []
    for suite in suites[:most]:
        known = kb.suite(suite) if kb is not None else None
        found.append(f"0x{suite:04X}" + (f" {known.name}" if known else ""))
    more = f" and {len(suites) - most} more" if len(suites) > most else ""
    return ", ".join(found) + more


def _alloc_failed(trace: Trace, kb: KnowledgeBase | None) -> bool:
    if trace.alloc_failed is not None:
        return True
    if kb is None:
        return False
    failing = {-e.code for e in kb.errors if e.name.endswith("ALLOC_FAILED")}
    return any(-c in failing or split(c)[1] in failing for c in trace.codes)


def _hello(trace: Trace, kb: KnowledgeBase | None) -> str:
    parts = []
    if trace.suites:
        parts.append(f"offered {suite_names(trace.suites, kb)}")
    if trace.sni:
        parts.append(f"SNI '{trace.sni}'")
    return f" (it {'; '.join(parts)})" if parts else ""


def _causes_of(code: int | None, kb: KnowledgeBase | None, causes: Causes,
               release: releases.ReleaseFacts | None) -> tuple[Cause, ...]:
    if code is None or kb is None:
        return ()
    return read_code(code, kb, (), causes, release).causes


def diagnose(trace: Trace, kbs: Sequence[KnowledgeBase], causes: Causes,
             release: releases.ReleaseFacts | None = None) -> Diagnosis:
    """The cause of the failure the trace shows, and the fix; kbs are the lines to name
    codes and suites with (the trace's own line first when it is known); `release` is the
    device's release (default: the log's banner, else the line's knowledge-base release)."""
    kb = next((k for k in kbs if k.line == trace.line), kbs[0] if kbs else None)
    if release is None and kb is not None:
        banner = trace.version if trace.version and line_of(trace.version) == kb.line else None
        release = releases.facts_for(banner or kb.version)
    code = trace.final.code if trace.final else (trace.errors[-1].code if trace.errors else None)
    codes = trace.codes
    named = _name(code, kb) if code is not None else "no error code"

    def found(cause: str, summary: str, fix: str, check: str) -> Diagnosis:
        return Diagnosis(trace, cause, summary, fix, check, code)

    before_server_hello = not trace.certificate_seen and trace.chosen_suite is None
    release_name = f"mbedTLS {release.release}" if release else "this mbedTLS"
    if _alloc_failed(trace, kb):
        size = f" (an allocation of {trace.alloc_failed} bytes failed)" if trace.alloc_failed else ""
        return found("out-of-memory",
                     f"the heap ran out{size}: {named}" + (f" in {trace.final.function}" if trace.final else ""),
                     "shrink MBEDTLS_SSL_IN_CONTENT_LEN / MBEDTLS_SSL_OUT_CONTENT_LEN to what the "
                     "server needs (configgen sizes them from a probe), or give the TLS task more heap",
                     "configgen generate --profile PROJECT.toml")
    if trace.ca_load_failed or (trace.final and "x509_crt_parse" in trace.final.function):
        reading = _causes_of(code, kb, causes, release)
        why = reading[0].why if reading else "the certificate does not parse with this configuration"
        fix = reading[0].fix if reading else "enable what the certificate needs"
        return found("unparsable-trust-anchor",
                     f"the trust anchor did not load ({named}): {why}", fix,
                     "configgen inspect CA.pem")
    if set(TOO_LARGE) & set(trace.notable) or any(
            -c in (0x7100, 0x7200) for c in codes):
        return found("record-too-large",
                     f"a record from the server is larger than the input buffer ({named}"
                     + (f", while {trace.reached}" if trace.reached else "") + ")",
                     "raise MBEDTLS_SSL_IN_CONTENT_LEN to the server's largest record and "
                     "handshake message (configgen probe measures them)",
                     "configgen probe HOST:PORT")
    shown = release.in_log(_error_name(code, kb), lambda s: s in trace.notable or s in trace.steps) if release else ()
    if shown:  # kb/releases.toml [fact.log]: a capability the device lacks, a known defect
        fact, sign = shown[0]
        device = f"mbedTLS {trace.version}" if trace.version else "this mbedTLS"
        summary = (f"{sign.what}: {device} {fact.lacking}" if fact.kind == "capability"
                   else f"known {fact.kind} of {release_name}: {fact.says}")
        return found(sign.cause, summary, fact.fix, fact.check)
    if trace.verify_flags or trace.verify_messages or any(-c == 0x2700 for c in codes):
        flags = trace.verify_flags or 0
        why = "; ".join(trace.verify_messages) or (f"verify flags 0x{flags:08X}" if flags else "")
        untrusted = flags & 0x08 or not flags
        heap = (". If that CA is the right one, the heap may have run out while checking a "
                "signature: mbedTLS reports that as not trusted too" if flags == 0x08 else "")
        anchors = [i for i in trace.issuers if i not in trace.subjects] or list(trace.issuers[:1])
        wanted = f" (the server's chain is issued by '{anchors[0]}')" if anchors else ""
        return found("untrusted-chain",
                     f"the server's certificate did not verify ({named}"
                     + (f": {why}" if why else "") + ")" + heap,
                     f"load the root CA that signed the server's chain{wanted}" if untrusted else
                     f"see 'configgen explain --flags 0x{flags:X}' for each flag's fix",
                     "configgen inspect SERVER-CHAIN.pem --ca CA.pem --host NAME")
    no_certificate = bool(set(NO_CLIENT_CERTIFICATE) & set(trace.notable))
    asked = "parse certificate request" in trace.steps and "parse certificate request" not in trace.skipped
    ended = trace.alerts_received or any(-c in (0x7780, 0x7280, 0x50) for c in codes)
    if asked and (no_certificate or "write certificate verify" in trace.skipped) and ended:
        return found("client-certificate-required",
                     f"the server asked for a client certificate, the device sent none, and the "
                     f"server ended the handshake ({named})",
                     "configure the device certificate and key (mbedtls_ssl_conf_own_cert; "
                     "[client] cert and key in the profile)",
                     "configgen probe HOST:PORT")
    if trace.certificate_seen and trace.alerts_received and not trace.steps:
        last = trace.alerts_received[-1][1]
        return found("client-certificate-required",
                     f"the server accepted the ClientHello and sent its certificate, then ended the "
                     f"handshake with alert {last} ({named}); at this debug level the log does not "
                     "show the rest, and most often the server requires a client certificate the "
                     "device did not send (debug level 2 shows 'parse certificate request')",
                     "configure the device certificate and key (mbedtls_ssl_conf_own_cert; "
                     "[client] cert and key in the profile)",
                     "configgen probe HOST:PORT")
    if before_server_hello and (trace.alerts_received or any(
            -c in (0x7780, 0x6E00, 0x6980) for c in codes)):
        alert = trace.alerts_received[-1][1] if trace.alerts_received else None
        return found("no-common-suite",
                     "the server rejected the ClientHello"
                     + (f" with alert {alert}" if alert is not None else "")
                     + f"{_hello(trace, kb)}: it accepts none of the offered suites, versions or "
                     "groups, or needs another SNI",
                     "enable a suite the server accepts (configgen probe lists them) and send the "
                     "server's name as SNI",
                     "configgen probe HOST:PORT")
    if before_server_hello and (trace.eof or any(-c in (0x7280, 0x50) for c in codes)):
        how = "reset" if any(-c == 0x50 for c in codes) else "closed"
        return found("closed-after-client-hello",
                     f"the server {how} the connection after the ClientHello{_hello(trace, kb)}",
                     "check SNI (mbedtls_ssl_set_hostname), the offered suites and extensions "
                     "against what the server accepts",
                     "configgen probe HOST:PORT")
    if code is None:
        return found("no-failure", "the log shows no failure", "nothing to fix",
                     "configgen diagnose LOG")
    reasons = _causes_of(code, kb, causes, release)
    return found("error-code",
                 f"{named}" + (f" in {trace.final.function}" if trace.final and trace.final.function else "")
                 + (f": {reasons[0].why}" if reasons else ""),
                 reasons[0].fix if reasons else f"see 'configgen explain -0x{-code:04X}'",
                 reasons[0].check if reasons else f"configgen explain -0x{-code:04X}")
