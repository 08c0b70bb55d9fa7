"""What each key exchange costs the device: handshake computation and peak heap, measured.

    .venv/bin/python bench/suite_costs.py [--line 2.28|3.6] [--write]

For each line and each key exchange configgen may choose (ECDHE on every group mbedTLS and
OpenSSL share, DHE with 2048/3072/4096-bit groups, static RSA; TLS 1.3 on each group), an
`openssl s_server` that accepts only that suite and group is started, configgen generates a
header for it (probing it live), and configgen's test client built with the header runs one
handshake and round trip under valgrind: callgrind counts the instructions (repeatable, unlike
seconds), massif the peak heap. The reference certificates are the committed RSA-2048 and
P-256 chains (tests/data/certs). With --write the figures become configgen/data/costs.toml,
the weights derive ranks suites and groups by (with advise/sizes.toml for flash).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

from configgen import costs, handshake, sources  # noqa: E402
from configgen import kb as knowledge  # noqa: E402
from configgen import profile as profiles  # noqa: E402
from configgen.generate import generate  # noqa: E402
from configgen.prove import Mode  # noqa: E402
from e2e_scenarios import CERTS, profile_toml  # noqa: E402
from handshake import build_client  # noqa: E402
from probe_servers import LOOPBACK, free_port, process_server  # noqa: E402

RSA = ("rsa2048-server.pem", "rsa2048-server.key", "rsa2048-root.pem")
EC = ("p256-server.pem", "p256-server.key", "p256-root.pem")
# (key exchange as the knowledge base names it, what it runs on, OpenSSL cipher, certificate)
TLS12 = [
    ("ECDHE_RSA", "x25519", "ECDHE-RSA-AES128-GCM-SHA256", RSA),
    ("ECDHE_RSA", "secp256r1", "ECDHE-RSA-AES128-GCM-SHA256", RSA),
    ("ECDHE_RSA", "secp384r1", "ECDHE-RSA-AES128-GCM-SHA256", RSA),
    ("ECDHE_RSA", "secp521r1", "ECDHE-RSA-AES128-GCM-SHA256", RSA),
    ("ECDHE_ECDSA", "x25519", "ECDHE-ECDSA-AES128-GCM-SHA256", EC),
    ("ECDHE_ECDSA", "secp256r1", "ECDHE-ECDSA-AES128-GCM-SHA256", EC),
    ("ECDHE_ECDSA", "secp384r1", "ECDHE-ECDSA-AES128-GCM-SHA256", EC),
    ("DHE_RSA", "2048", "DHE-RSA-AES128-GCM-SHA256", RSA),
    ("DHE_RSA", "3072", "DHE-RSA-AES128-GCM-SHA256", RSA),
    ("DHE_RSA", "4096", "DHE-RSA-AES128-GCM-SHA256", RSA),
    ("RSA", "2048", "AES128-GCM-SHA256", RSA),
]
# TLS 1.2 AEADs on one key exchange: their record protection's heap and computation differ
# (the rows above use AES-128-GCM, the reference derive adds these differences to).
TLS12_CIPHERS = [("TLS1_2_CIPHER", "secp256r1", cipher, EC) for cipher in
                 ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                  "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-CCM", "ECDHE-ECDSA-AES128-CCM8")]
TLS13 = [("TLS1_3", group, "TLS_AES_128_GCM_SHA256", cert) for group in ("x25519", "secp256r1", "secp384r1")
         for cert in (RSA, EC)]
# The TLS 1.3 suites on one group: their AEAD's heap and computation differ (the key
# exchange rows above use TLS1-3-AES-128-GCM-SHA256, the reference derive adds these to).
TLS13_SUITES = [("TLS1_3_SUITE", "x25519", suite, EC) for suite in
                ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")]
_OPENSSL_GROUP = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def _server(kind: str, on: str, cipher: str, cert: tuple[str, str, str], work: Path, tls13: bool):
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-rev", "-quiet",
            "-cert", str(CERTS / cert[0]), "-key", str(CERTS / cert[1])]
    if tls13:
        argv += ["-tls1_3", "-groups", _OPENSSL_GROUP.get(on, on)]
        if cipher:
            argv += ["-ciphersuites", cipher]
    else:
        argv += ["-tls1_2", "-cipher", cipher]
        if kind == "DHE_RSA":
            params = work / f"ffdhe{on}.pem"
            subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                            f"group:ffdhe{on}", "-out", str(params)], check=True, capture_output=True)
            argv += ["-dhparam", str(params)]
        elif kind != "RSA":
            argv += ["-groups", _OPENSSL_GROUP.get(on, on)]
    return process_server(argv, port)


def measure(line: str, kind: str, on: str, cipher: str, cert: tuple[str, str, str],
            tls13: bool) -> tuple[int, int, str]:
    """(instructions, peak heap bytes, the client's last word) of one handshake + round trip."""
    tree = sources.find_tree(line)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with _server(kind, on, cipher, cert, work, tls13) as port:
            profile = work / "tls.toml"
            profile.write_text(profile_toml(line, port, CERTS / cert[2],
                                            policy=f"allow_no_forward_secrecy = {str(kind == 'RSA').lower()}\n"))
            header = generate(profiles.load(profile), "mbedtls_config.h", verify=Mode.OFF).text
            client = build_client(tree, header, work / "client")
            args = ["--name", "localhost"]
            counted = handshake.run_client(client, LOOPBACK, port, CERTS / cert[2], args, 600, count=True)
            heap = handshake.run_client(client, LOOPBACK, port, CERTS / cert[2], args, 600, heap=True)
    return counted.instructions or 0, heap.heap_peak or 0, counted.text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", action="append", choices=("2.28", "3.6"))
    parser.add_argument("--write", action="store_true", help="write configgen/data/costs.toml")
    args = parser.parse_args()
    rows: dict[str, list[str]] = {}
    print(f"{'line':5} {'key exchange':12} {'on':10} {'cert':8} {'instructions':>14} {'heap':>9}  run")
    for line in args.line or ["2.28", "3.6"]:
        jobs = TLS12 + TLS12_CIPHERS + (TLS13 + TLS13_SUITES if line == "3.6" else [])
        for kind, on, cipher, cert in jobs:
            tls13 = kind.startswith("TLS1_3")
            instructions, heap, text = measure(line, kind, on, cipher, cert, tls13)
            signer = "RSA" if cert is RSA else "ECDSA"
            print(f"{line:5} {kind:12} {on:10} {signer:8} {instructions:14,} {heap:9,}  {text}")
            if not text.startswith("ok:"):
                continue
            key = kind if kind in ("TLS1_3_SUITE", "TLS1_2_CIPHER") else f'{kind}_{signer}' if tls13 else kind
            name = text.removeprefix("ok: ") if kind == "TLS1_3_SUITE" else on
            if kind == "TLS1_2_CIPHER":
                name = costs.cipher_of(next(s for s in knowledge.load(line).suites
                                            if s.name == text.removeprefix("ok: ")))
            rows.setdefault(f'["{line}".{key}]', []).append(
                f'"{name}" = {{ instructions = {instructions}, heap = {heap} }}')
    if args.write:
        out = ["# What one handshake and round trip cost the device, by key exchange and what it runs",
               "# on (group, or DH prime bits): instructions (valgrind --tool=callgrind) and peak heap",
               "# bytes (massif) of configgen's test client on the host, against openssl s_server",
               "# with the committed RSA-2048 or P-256 chain. Written by bench/suite_costs.py --write;",
               "# derive ranks suites and groups by these with advise/sizes.toml for flash.", ""]
        for table, entries in rows.items():
            out += [table, *entries, ""]
        (ROOT / "configgen" / "data" / "costs.toml").write_text("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
