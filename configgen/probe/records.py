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
# The most one server flight may hold (a flight is a handful of messages: ServerHello ...
# ServerHelloDone; a 1 MiB certificate chain in 512-byte records takes 2,048 records).
MAX_FLIGHT = MAX_HANDSHAKE_LENGTH + (1 << 16)
MAX_FLIGHT_RECORDS = 4096
MAX_FLIGHT_MESSAGES = 64


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


def _record_at(data: bytes | bytearray, pos: int) -> Record | None:
    """The complete record at `pos`, None when it has not all arrived yet.

    Raises MalformedInput for bytes that cannot be a TLS record header.
    """
    if len(data) - pos < 5:
        return None
    content_type = data[pos]
    length = int.from_bytes(data[pos + 3 : pos + 5], "big")
    if content_type not in CONTENT_TYPES or data[pos + 1] != 3:
        raise MalformedInput(f"not a TLS record: bytes {bytes(data[pos:pos + 5]).hex(' ')} at offset {pos}")
    if length > MAX_RECORD_LENGTH:
        raise MalformedInput(f"record length {length} exceeds the TLS limit {MAX_RECORD_LENGTH}")
    if len(data) - pos - 5 < length:
        return None
    version = int.from_bytes(data[pos + 1 : pos + 3], "big")
    return Record(content_type, version, bytes(data[pos + 5 : pos + 5 + length]))


def split_records(data: bytes) -> tuple[list[Record], int]:
    """Complete records at the start of `data`, and how many bytes are left over.

    Raises MalformedInput for bytes that cannot be a TLS record header.
    """
    records: list[Record] = []
    pos = 0
    while (found := _record_at(data, pos)) is not None:
        records.append(found)
        pos += 5 + len(found.payload)
    return records, len(data) - pos


class FlightParser:
    """A server flight read as it arrives: each byte is looked at once, so a server that
    floods the probe costs time linear in what it sends, never quadratic."""

    def __init__(self, data: bytes = b""):
        self._data = bytearray()
        self._pos = 0
        self._buffer = bytearray()
        self._pieces = 0
        self._first: dict[int, HandshakeMessage] = {}
        self._counts: dict[int, int] = {}
        self.records: list[Record] = []
        self.messages: list[HandshakeMessage] = []
        self.alert: tuple[int, int] | None = None
        self.error: str | None = None
        self.feed(data)

    @property
    def size(self) -> int:
        """Bytes received so far."""
        return len(self._data)

    @property
    def received(self) -> bytes:
        return bytes(self._data)

    def flooded(self) -> str | None:
        """Why this is more than any server flight holds, or None."""
        for count, limit, what in ((self.size, MAX_FLIGHT, "bytes"),
                                   (len(self.records), MAX_FLIGHT_RECORDS, "records"),
                                   (len(self.messages), MAX_FLIGHT_MESSAGES, "handshake messages")):
            if count > limit:
                return f"sent more than {limit} {what} without ending its flight"
        return None

    def message(self, msg_type: int) -> HandshakeMessage | None:
        """The first clear handshake message of this type so far."""
        return self._first.get(msg_type)

    def count(self, content_type: int) -> int:
        """Complete records of this content type so far."""
        return self._counts.get(content_type, 0)

    def feed(self, chunk: bytes) -> None:
        self._data += chunk
        try:
            while self.error is None and (found := _record_at(self._data, self._pos)) is not None:
                self._pos += 5 + len(found.payload)
                self.records.append(found)
                self._counts[found.content_type] = self._counts.get(found.content_type, 0) + 1
                if self.alert is None:
                    self._read(found)
        except MalformedInput as error:
            self.error = error.message

    def _read(self, record: Record) -> None:
        if record.content_type == ALERT:
            if len(record.payload) != 2:
                raise MalformedInput(f"alert record of {len(record.payload)} bytes")
            self.alert = (record.payload[0], record.payload[1])
            return
        if record.content_type != HANDSHAKE:
            if self._buffer:
                raise MalformedInput("handshake message interrupted by another record type")
            return  # ChangeCipherSpec or encrypted records: nothing to read in clear
        if not record.payload:
            raise MalformedInput("empty handshake record")
        self._buffer += record.payload
        self._pieces += 1
        start = 0
        while len(self._buffer) - start >= 4:
            length = int.from_bytes(self._buffer[start + 1 : start + 4], "big")
            if length > MAX_HANDSHAKE_LENGTH:
                raise MalformedInput(f"handshake message length {length} is absurd")
            if len(self._buffer) - start < 4 + length:
                break
            message = HandshakeMessage(self._buffer[start],
                                       bytes(self._buffer[start + 4 : start + 4 + length]),
                                       self._pieces)
            self.messages.append(message)
            self._first.setdefault(message.msg_type, message)
            start += 4 + length
            self._pieces = 1 if len(self._buffer) > start else 0
        del self._buffer[:start]

    def flight(self) -> Flight:
        return Flight(tuple(self.records), tuple(self.messages), self.alert, self.error,
                      len(self._data) - self._pos)


def parse_flight(data: bytes) -> Flight:
    """Records, clear handshake messages and the first alert in what a server sent."""
    return FlightParser(data).flight()
