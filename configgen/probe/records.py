"""TLS records and handshake messages out of the bytes a server sent, never trusting them.

Everything here is pure. Malformed input raises `MalformedInput` (a ProbeError) from
`Reader`, and `parse_flight` turns any such error into a `Flight` whose `error` says what
was wrong, so a hostile server can only ever produce a sentence, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from configgen.errors import ProbeError

# Record content types (RFC 8446 §5.1)
CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
CONTENT_TYPES = frozenset({CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA})

# Handshake message types (RFC 5246 §7.4, RFC 8446 §4)
SERVER_HELLO = 2
CERTIFICATE = 11
SERVER_KEY_EXCHANGE = 12
CERTIFICATE_REQUEST = 13
SERVER_HELLO_DONE = 14

# The largest record a TLS 1.2 peer may send: 2^14 plaintext + 2048 expansion (RFC 5246 §6.2.3).
MAX_RECORD_LENGTH = 16384 + 2048
# A handshake message we are prepared to reassemble; far above any real certificate chain.
MAX_HANDSHAKE_LENGTH = 1 << 20


class MalformedInput(ProbeError):
    """The server's bytes are not what TLS allows at this point."""


class Reader:
    """A bounds-checked cursor over bytes: every read past the end is a MalformedInput."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        self.pos = 0
        self.what = what

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MalformedInput(f"{self.what} is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))

    def sub(self, length_size: int, what: str) -> Reader:
        return Reader(self.vector(length_size), what)

    def end(self) -> None:
        if self.remaining():
            raise MalformedInput(f"{self.what} has {self.remaining()} unexpected trailing bytes")


@dataclass(frozen=True)
class Record:
    content_type: int
    version: int
    payload: bytes


@dataclass(frozen=True)
class HandshakeMessage:
    msg_type: int
    body: bytes
    records: int  # how many records carried it (> 1: fragmented)

    @property
    def size(self) -> int:
        """The size mbedTLS must hold at once: 4-byte header plus body."""
        return 4 + len(self.body)


@dataclass(frozen=True)
class Flight:
    """What one connection received, split into records and handshake messages."""

    records: tuple[Record, ...]
    messages: tuple[HandshakeMessage, ...]  # clear handshake messages, in order
    alert: tuple[int, int] | None  # (level, description) of the first clear alert
    error: str | None  # why parsing stopped early, in words
    trailing: int  # bytes after the last complete record

    def message(self, msg_type: int) -> HandshakeMessage | None:
        return next((m for m in self.messages if m.msg_type == msg_type), None)


def split_records(data: bytes) -> tuple[list[Record], int]:
    """Complete records at the start of `data`, and how many bytes are left over.

    Raises MalformedInput for bytes that cannot be a TLS record header.
    """
    records: list[Record] = []
    pos = 0
    while len(data) - pos >= 5:
        content_type = data[pos]
        version = int.from_bytes(data[pos + 1 : pos + 3], "big")
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if content_type not in CONTENT_TYPES or data[pos + 1] != 3:
            raise MalformedInput(
                f"not a TLS record: bytes {data[pos:pos + 5].hex(' ')} at offset {pos}"
            )
        if length > MAX_RECORD_LENGTH:
            raise MalformedInput(f"record length {length} exceeds the TLS limit {MAX_RECORD_LENGTH}")
        if len(data) - pos - 5 < length:
            break
        records.append(Record(content_type, version, data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return records, len(data) - pos


def parse_flight(data: bytes) -> Flight:
    """Records, clear handshake messages and the first alert in what a server sent."""
    records: list[Record] = []
    messages: list[HandshakeMessage] = []
    alert: tuple[int, int] | None = None
    trailing = 0
    try:
        records, trailing = split_records(data)
        messages, alert = _messages(records)
    except MalformedInput as error:
        return Flight(tuple(records), tuple(messages), alert, error.message, trailing)
    return Flight(tuple(records), tuple(messages), alert, None, trailing)


def _messages(records: list[Record]) -> tuple[list[HandshakeMessage], tuple[int, int] | None]:
    messages: list[HandshakeMessage] = []
    buffer = b""
    pieces = 0
    for record in records:
        if record.content_type == ALERT:
            if len(record.payload) != 2:
                raise MalformedInput(f"alert record of {len(record.payload)} bytes")
            return messages, (record.payload[0], record.payload[1])
        if record.content_type != HANDSHAKE:
            if buffer:
                raise MalformedInput("handshake message interrupted by another record type")
            continue  # ChangeCipherSpec or encrypted records: nothing to read in clear
        if not record.payload:
            raise MalformedInput("empty handshake record")
        buffer += record.payload
        pieces += 1
        while len(buffer) >= 4:
            length = int.from_bytes(buffer[1:4], "big")
            if length > MAX_HANDSHAKE_LENGTH:
                raise MalformedInput(f"handshake message length {length} is absurd")
            if len(buffer) < 4 + length:
                break
            messages.append(HandshakeMessage(buffer[0], buffer[4 : 4 + length], pieces))
            buffer = buffer[4 + length :]
            pieces = 1 if buffer else 0
    return messages, None
