"""Facts + board + policy -> requirements, each with the fact and source behind it. Pure.

run.py calls the parts: suites.py, sizes.py, certificates.py, extensions.py; inputs.py
holds what they are given. They import the model, the knowledge base, resolve (what a
requirement wants), costs, chain, verdicts and handshake_model: never a reader or an I/O
module (pyproject.toml's contracts).

Choices made here, in order:
1. the TLS version: the one both sides allow that costs least (TLS 1.2 unless the server or
   the policy wants 1.3 only; "balanced" keeps both when both work);
2. the suites: those the server accepted, less what the policy refuses (CBC, no forward
   secrecy, weak, PSK without a key), ranked by how many options each adds to what is
   already needed (the knowledge base's closure decides), the board's accelerated cipher and
   the server's order breaking ties; "minimal" takes one, "balanced" adds a fallback of
   another family;
3. the groups for the key exchange, the same way;
4. what each certificate needs to be parsed and verified (signature algorithm, key, curve,
   modulus size), for the server's chain, the trust anchors and the client certificate;
5. record buffer sizes from the sizes the server really sent, and max_fragment_length when
   the board's heap cannot hold 16 KiB records and the server honours it;
6. extensions the server uses (EMS, SNI, ALPN, ETM), never one it chokes on;
7. the board's platform (entropy, clock, sockets) and the profile's overrides.
"""

from configgen.derive.certificates import SHA1_PROFILE_NOTE
from configgen.derive.inputs import Inputs
from configgen.derive.run import derive
from configgen.derive.sizes import HANDSHAKE_WORKING_SET
from configgen.derive.suites import refused

__all__ = ["HANDSHAKE_WORKING_SET", "SHA1_PROFILE_NOTE", "Inputs", "derive", "refused"]
