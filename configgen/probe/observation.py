"""One connection: the Job asked (a ClientHello) and the Observation made (bytes, ending).

`read_reply` is the one place that turns an observation's bytes into parsed messages; plan
and fold both read replies through it, so a malformed answer is judged the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from configgen.model.facts import Status
from configgen.probe.hello import Hello
from configgen.probe.messages import ServerHello, parse_server_hello
from configgen.probe.names import ALERTS, name_of
from configgen.probe.records import (
    SERVER_HELLO,
    SERVER_HELLO_DONE,
    Flight,
    MalformedInput,
    parse_flight,
)


@dataclass(frozen=True)
class Job:
    """One ClientHello to send. `key` is unique and sorts in asking order within a question."""

    key: str
    question: str
    hello: Hello
    encrypted_records: int = 0  # TLS 1.3: encrypted records to wait for after ServerHello


@dataclass(frozen=True)
class Observation:
    job: Job
    status: Status
    received: bytes
    detail: str  # how it ended, in words ("no answer within 5 s")
    cut: bool = False  # ended by the probe's deadline, not by the server or its own budget


@dataclass(frozen=True)
class Reply:
    """An observation's bytes, parsed."""

    flight: Flight
    hello: ServerHello | None
    problem: str | None  # why the bytes are not a usable answer

    @property
    def alert(self) -> str | None:
        if self.flight.alert is None:
            return None
        return name_of(ALERTS, self.flight.alert[1])


def read_reply(received: bytes) -> Reply:
    """Parse what the server sent; never raises."""
    flight = parse_flight(received)
    message = flight.message(SERVER_HELLO)
    if message is None:
        return Reply(flight, None, flight.error)
    try:
        hello = parse_server_hello(message.body)
    except MalformedInput as error:
        return Reply(flight, None, error.message)
    return Reply(flight, hello, flight.error)


def complete(hello: ServerHello, flight: Flight) -> bool:
    """Whether the flight after this ServerHello holds all a client needs before it speaks:
    TLS 1.2 and older end with ServerHelloDone (the probe never resumes a session); a
    HelloRetryRequest or a TLS 1.3 ServerHello is an answer in itself."""
    return hello.retry or hello.version == 0x0304 or flight.message(SERVER_HELLO_DONE) is not None


def classify(received: bytes, ended: Status, detail: str) -> tuple[Status, str]:
    """The final status of a connection from its bytes and how the socket ended."""
    flight = parse_flight(received)
    if flight.error:
        return Status.MALFORMED, f"sent bytes that are not TLS: {flight.error}"
    if flight.message(SERVER_HELLO) is not None:
        reply = read_reply(received)
        if reply.problem or reply.hello is None:
            return Status.MALFORMED, f"sent a malformed ServerHello: {reply.problem}"
        if complete(reply.hello, flight):
            return Status.ANSWERED, detail
        if reply.alert is not None:
            return Status.REFUSED, f"alert {reply.alert} after its ServerHello"
        status = ended if ended is not Status.ANSWERED else Status.MALFORMED
        return status, f"sent a ServerHello, then no ServerHelloDone: {detail}"
    if flight.alert is not None:
        return Status.REFUSED, f"alert {name_of(ALERTS, flight.alert[1])}"
    if flight.trailing and ended is Status.CLOSED:
        return Status.MALFORMED, f"closed the connection after {len(received)} bytes, mid-record"
    if received and ended is Status.CLOSED:
        return Status.MALFORMED, f"closed the connection after {len(received)} bytes, none a ServerHello"
    return ended, detail
