"""How `mbedtls_x509_crt_parse_file()` walks a file's bytes, before any certificate is parsed.

mbedTLS does not read a file the way the Python cryptography library does. It appends a NUL,
looks for the exact string "-----BEGIN CERTIFICATE-----" (x509_crt.c, mbedtls_x509_crt_parse:
`strstr(buf, "-----BEGIN CERTIFICATE-----")`), and then either

- walks the CERTIFICATE blocks as `mbedtls_pem_read_buffer()` finds them (pem.c), decoding
  each with `mbedtls_base64_decode()` (base64.c), which refuses a space inside a line; or
- hands the whole file to `mbedtls_x509_crt_parse_der()` as ONE certificate, which reads
  the outer SEQUENCE and ignores whatever follows it (x509_crt.c, x509_crt_parse_der_core:
  `end = crt_end = p + len`).

`walk(data)` returns what mbedTLS would hand to its DER parser, slot by slot, with the flaw
that stops it before the DER parser where there is one. Pure; the rules are mirrored from
mbedTLS 3.6.6 and 2.28.3 (identical where not said otherwise), each next to its source line.
Base64 is decoded with binascii once a slot has passed mbedTLS's own checks; the outer DER
header is read with asn1crypto's tolerant parser.
"""

from __future__ import annotations

import binascii

from asn1crypto import parser as asn1

from configgen.model.certificates import Flaw, Slot

HEADER = b"-----BEGIN CERTIFICATE-----"
FOOTER = b"-----END CERTIFICATE-----"
_ENCRYPTED = b"Proc-Type: 4,ENCRYPTED"
_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def walk(data: bytes) -> tuple[Slot, ...]:
    """The certificate slots mbedtls_x509_crt_parse_file() finds in `data`, in order."""
    text = data + b"\0"  # mbedtls_pk_load_file() appends the NUL strstr() stops at
    nul = text.index(b"\0")
    if text.find(HEADER, 0, nul) < 0:
        return (der_slot(data, pem=False),)
    slots: list[Slot] = []
    pos = 0
    while len(text) - pos > 1:  # x509_crt.c: `while (buflen > 1)`, the NUL counted in
        if nul < pos:
            nul = text.index(b"\0", pos)
        s1, s2 = text.find(HEADER, pos, nul), text.find(FOOTER, pos, nul)  # pem.c: both from `data`
        if s1 < 0 or s2 < 0 or s2 <= s1:
            break  # MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT ends the walk
        s1 += len(HEADER)
        s1 += text[s1:s1 + 1] == b" "
        s1 += text[s1:s1 + 1] == b"\r"
        if text[s1:s1 + 1] != b"\n":  # pem.c: header not followed by a newline
            break
        s1 += 1
        end = s2 + len(FOOTER)
        for optional in (b" ", b"\r", b"\n"):
            end += text[end:end + 1] == optional
        pos = end
        slots.append(_pem_slot(text[s1:s2]))
    return tuple(slots)


def _pem_slot(body: bytes) -> Slot:
    if body.startswith(_ENCRYPTED):  # pem.c: an encrypted certificate; never seen in practice
        return Slot(True, None, Flaw.ENCRYPTED_PEM)
    if not body:  # pem.c: `if (s1 >= s2) return MBEDTLS_ERR_PEM_INVALID_DATA`
        return Slot(True, None, Flaw.EMPTY_PEM)
    flaw, digits = base64_check(body)
    if digits == 0 and flaw is None:
        return Slot(True, None, Flaw.BLANK_PEM)
    # Decoded even past a flaw, so the slot names the certificate mbedTLS stops at; a length
    # flaw (refused by 3.6 only) is decoded as 2.28 does, the missing digits as 0.
    clean = bytes(c for c in body if c in _BASE64 or c == 0x3D)
    try:
        der = binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    except binascii.Error:
        return Slot(True, None, flaw or Flaw.BAD_CHARACTER)
    slot = der_slot(der, pem=True)
    return slot if flaw is None else Slot(True, slot.der, flaw, slot.trailing)


def base64_check(src: bytes) -> tuple[Flaw | None, int]:
    """mbedtls_base64_decode()'s first pass (base64.c, 3.6.6 lines 139-194; 2.28.3 117-162):
    the first flaw it finds, and how many digits and '=' it counted."""
    n = equals = 0
    i = 0
    while i < len(src):
        spaces = False
        while i < len(src) and src[i] == 0x20:  # "Skip spaces before checking for EOL"
            i += 1
            spaces = True
        if i == len(src):  # "Spaces at end of buffer are OK"
            break
        if src[i:i + 2] == b"\r\n" or src[i] == 0x0A:
            i += 1
            continue
        if spaces:  # "Space inside a line is an error"
            return Flaw.SPACE_IN_LINE, n
        if src[i] == 0x3D:
            equals += 1
            if equals > 2:
                return Flaw.BAD_CHARACTER, n
        elif equals or src[i] not in _BASE64:
            return Flaw.BAD_CHARACTER, n
        n += 1
        i += 1
    if (n - equals) % 4 == 1 or n % 4:  # 3.6.6 lines 189-194 only; 2.28.3 has no such check
        return Flaw.BASE64_LENGTH, n
    return None, n


def der_slot(der: bytes, *, pem: bool) -> Slot:
    """x509_crt_parse_der_core: the outer SEQUENCE (its end is the certificate's end: trailing
    bytes are ignored), then the TBSCertificate SEQUENCE inside it."""
    try:
        class_, method, tag, header, content, _ = asn1.parse(der)
    except ValueError:
        return Slot(pem, None, Flaw.NOT_DER)
    if (class_, method, tag) != (0, 1, 16) or not header or header[1:2] == b"\x80":
        return Slot(pem, None, Flaw.NOT_DER)
    extent = len(header) + len(content)
    try:
        inner = asn1.parse(content)[:3] if content else None
    except ValueError:
        inner = None
    if inner != (0, 1, 16):
        return Slot(pem, None, Flaw.NO_TBS)
    return Slot(pem, der[:extent], None, len(der) - extent)
