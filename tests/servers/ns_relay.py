"""Run a server inside a network namespace of its own and relay it out over a Unix socket.

    unshare --net -- python ns_relay.py SOCKET PORT -- SERVER ARGV...

For servers without a listen-address option (gnutls-serv binds every interface): inside the
new namespace only the loopback interface exists, so the server cannot be reached from any
network. This brings that loopback up, starts the server (it must listen on PORT there),
and once it listens, accepts connections on the Unix socket SOCKET (a file both namespaces
see) and pipes each to 127.0.0.1:PORT inside. tests/zoo_servers.py relays a 127.0.0.1 port
outside to SOCKET. The server dies with this process (SIGTERM, or the parent's death).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := a.recv(65536):
            b.sendall(chunk)
    with contextlib.suppress(OSError):
        b.shutdown(socket.SHUT_WR)


def _serve(conn: socket.socket, port: int) -> None:
    with conn, contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5) as up:
        back = threading.Thread(target=_pipe, args=(up, conn), daemon=True)
        back.start()
        _pipe(conn, up)
        back.join(60)


def _wait_listening(port: int, server: subprocess.Popen) -> None:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    sys.exit(f"nothing listening on port {port} after 15 s")


def main(argv: list[str]) -> None:
    path, port, separator, *command = argv
    if separator != "--" or not command:
        sys.exit(__doc__)
    _die_with_parent()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # Its output goes nowhere: gnutls-serv --echo logs every message it echoes, and a pipe
    # nobody reads would stop it after a few 16 KB echoes. restore_signals=False: it inherits
    # Python's ignored SIGPIPE, so a client hanging up mid-echo ends only that connection.
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                              restore_signals=False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _wait_listening(int(port), server)
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen(64)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_serve, args=(conn, int(port)), daemon=True).start()
    finally:
        server.terminate()
        server.wait(5)


if __name__ == "__main__":
    main(sys.argv[1:])
