"""The only socket code of configgen: send one ClientHello, collect the server's flight.

Every connection has a connect timeout and a read budget, both cut short by the probe's
overall deadline; a connection never outlives either. What comes back is an Observation
(bytes and how the connection ended), never an exception: a server cannot crash the probe.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from configgen.errors import ProbeError
from configgen.model.facts import Status
from configgen.probe.hello import encode
from configgen.probe.messages import flight_state
from configgen.probe.observation import Job, Observation, classify
from configgen.probe.records import FlightParser

TAIL_WAIT = 0.3  # after a TLS 1.3 ServerHello: how long to wait for more encrypted records
_TRANSIENT = "connect failed"


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float  # budget for the whole answer, however it trickles in


@dataclass(frozen=True)
class Address:
    family: int
    sockaddr: tuple[Any, ...]  # (host, port) or (host, port, flowinfo, scope_id)


def _addresses(host: str, port: int, where: str, timeout: float) -> list[Address]:
    """The addresses of `host`, looked up within `timeout` seconds (getaddrinfo has no
    timeout of its own: it runs in a thread left behind if the resolver hangs)."""
    found: list[list[Address] | BaseException] = []

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.append([Address(family, (str(sockaddr[0]), int(sockaddr[1]), *sockaddr[2:]))
                          for family, _, _, _, sockaddr in infos])
        except (OSError, UnicodeError) as error:
            found.append(error)

    thread = threading.Thread(target=look_up, daemon=True, name="probe-resolve")
    thread.start()
    thread.join(timeout)
    if not found:
        raise ProbeError(f"cannot resolve host name: no answer within {timeout:g} s", where=where)
    if isinstance(found[0], BaseException):
        raise ProbeError(f"cannot resolve host name: {found[0]}", where=where) from None
    return found[0]


def resolve(host: str, port: int, where: str, timeout: float) -> Address:
    """The first address of `host` (IPv4 or IPv6); ProbeError when it has none in time."""
    return _addresses(host, port, where, timeout)[0]


def reachable(host: str, port: int, where: str, timeout: float) -> str:
    """The numeric address of the first of `host`'s addresses that accepts a TCP connection
    (closed at once); ProbeError naming why none did."""
    problem = ""
    for address in _addresses(host, port, where, timeout):
        try:
            with socket.socket(address.family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(address.sockaddr)
            connected: str = address.sockaddr[0]
            return connected
        except TimeoutError:
            problem = f"no answer within {timeout:g} s"
        except OSError as error:
            problem = error.strerror or str(error)
    raise ProbeError(f"cannot connect: {problem}", where=where)


def run(job: Job, address: Address, timeouts: Timeouts, deadline: float) -> Observation:
    """One connection: send the job's ClientHello and read until the server is done.

    A connect that fails for another reason than a refusal or a timeout is tried once more.
    """
    observation = _once(job, address, timeouts, deadline)
    if observation.status is Status.UNREACHABLE and observation.detail.startswith(_TRANSIENT):
        observation = _once(job, address, timeouts, deadline)
    return observation


def _once(job: Job, address: Address, timeouts: Timeouts, deadline: float) -> Observation:
    start = time.monotonic()
    if deadline - start <= 0:
        return Observation(job, Status.TIMEOUT, b"", "not started: the probe's deadline passed",
                           cut=True)
    sock = socket.socket(address.family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connect_budget = min(timeouts.connect, deadline - start)
        sock.settimeout(connect_budget)
        try:
            sock.connect(address.sockaddr)
        except TimeoutError:
            return Observation(job, Status.UNREACHABLE, b"",
                               f"connection timed out after {connect_budget:g} s",
                               cut=connect_budget < timeouts.connect)
        except ConnectionRefusedError:
            return Observation(job, Status.UNREACHABLE, b"", "connection refused")
        except OSError as error:
            return Observation(job, Status.UNREACHABLE, b"", f"{_TRANSIENT}: {error.strerror or error}")
        received, ended, detail, cut = _exchange(sock, job, timeouts, deadline)
    finally:
        sock.close()
    status, detail = classify(received, ended, detail)
    return Observation(job, status, received, detail, cut)


def _exchange(sock: socket.socket, job: Job, timeouts: Timeouts, deadline: float
              ) -> tuple[bytes, Status, str, bool]:
    """What the server sent, how the connection ended, in words, and whether the probe's
    deadline (rather than the read budget) ended it."""
    flight = FlightParser()
    start = time.monotonic()
    limit = min(start + timeouts.read, deadline)
    cut = limit == deadline
    try:
        sock.settimeout(max(limit - start, 0.001))
        sock.sendall(encode(job.hello))
        state = "more"
        while True:
            now = time.monotonic()
            wait = limit - now if state == "more" else min(TAIL_WAIT, limit - now)
            if wait <= 0:
                return flight.received, *_silence(flight.size, state, limit - start), cut
            sock.settimeout(wait)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                ran_out = time.monotonic() >= limit
                return flight.received, *_silence(flight.size, state, limit - start), cut and ran_out
            if not chunk:
                return flight.received, Status.CLOSED, "the server closed the connection", False
            flight.feed(chunk)
            flood = flight.flooded()
            if flood is not None:
                return flight.received, Status.MALFORMED, flood, False
            state = flight_state(flight, job.encrypted_records)
            if state == "done":
                return flight.received, Status.ANSWERED, "answered", False
    except TimeoutError:
        return flight.received, Status.TIMEOUT, "did not take the ClientHello in time", cut
    except ConnectionResetError:
        return flight.received, Status.RESET, "the server reset the connection", False
    except OSError as error:
        return flight.received, Status.RESET, f"connection failed: {error.strerror or error}", False


def _silence(size: int, state: str, budget: float) -> tuple[Status, str]:
    if state == "tail":
        return Status.ANSWERED, "answered"
    budget = round(budget, 1)
    if not size:
        return Status.TIMEOUT, f"no answer within {budget:g} s"
    count = f"{size} byte{'s' if size != 1 else ''}"
    return Status.TIMEOUT, f"sent only {count} within {budget:g} s"
