"""Does a server that sends a CertificateRequest *require* the certificate, or only ask?

The probe's own ClientHellos stop at the server's first flight, so they see the request but
not what the server does with an empty answer. This finishes one real handshake without a
client certificate (Python's ssl module, which completes the key exchange the probe does not
implement) and watches the server's own behaviour: TLS 1.2 servers that require one abort the
handshake; TLS 1.3 servers send their alert (certificate_required) after the client's
Finished, so the connection is read once more for it. Verification of the server is off here
on purpose: this only asks a question of the server; it never vouches for it.
"""

from __future__ import annotations

import socket
import ssl

_AFTER_HANDSHAKE = 1.5  # seconds to wait for a TLS 1.3 server's late certificate_required alert
_ALERTS = ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "PEER_DID_NOT_RETURN_A_CERTIFICATE",
           "BAD_CERTIFICATE", "ACCESS_DENIED", "UNKNOWN_CA")


def required(address: str, port: int, sni: str | None, timeout: float) -> bool | None:
    """True: the server refuses a handshake without a client certificate; False: it completes
    one; None: it could not be told (the handshake failed for another reason)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=sni) as tls:
                tls.settimeout(_AFTER_HANDSHAKE)
                try:
                    data = tls.recv(1)
                except (TimeoutError, socket.timeout):
                    return False  # no alert: the server waits for the application's data
                return False if data else None  # it spoke; a bare close says nothing
    except ssl.SSLError as error:
        text = f"{error.reason or ''} {error}".upper()
        return True if any(alert in text for alert in _ALERTS) else None
    except OSError:
        return None
