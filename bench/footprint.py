"""Footprint of single-suite headers against mbedTLS's own configurations (Cortex-M4).

    .venv/bin/python bench/footprint.py [--lines 3.6 2.28]

For a few common suites, configgen resolves a header that needs exactly that suite, plus
what any device needs (a TLS client, random numbers, X.509 verification of a server whose
certificate fits the suite: ECDSA P-256 or RSA-2048, DER trust anchors, hardware entropy),
builds the library with arm-none-eabi-gcc -Os for Cortex-M4 and prints its text size next
to mbedTLS's default configuration and its hand-written configs/config-suite-b.h, both made
bare-metal buildable the way mbedTLS's scripts/footprint.sh does (no net_sockets, timing,
FS I/O; NO_PLATFORM_ENTROPY), plus no PSA file storage and no time(), which 3.6 cannot
build without an OS (as config.py's baremetal preset).
"""

from __future__ import annotations

import argparse

from configgen import kb as knowledge
from configgen import sources
from configgen.footprint import ARM_PACKAGES, CFLAGS, bare_metal, cortex_m4, missing_arm_tools
from configgen.render import HeaderContext, render_header
from configgen.model.requirements import Need, Requirement, Requirements
from configgen.resolve import resolve

SUITES = (0xC02B, 0xC02F, 0xC030, 0xC0AE, 0x1301)
RSA_ENCRYPTION, ECDSA_SHA256, SHA256_RSA = "1.2.840.113549.1.1.1", "1.2.840.10045.4.3.2", "1.2.840.113549.1.1.11"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"


def suite_header(kb, suite) -> str:
    ecdsa = "ECDSA" in suite.key_exchange or suite.min_tls == "1.3"
    via = f"bench: {suite.name}"
    items = [
        Requirement(Need.FEATURE, "client", via),
        Requirement(Need.FEATURE, "rng", via),
        Requirement(Need.FEATURE, "verify", via),
        Requirement(Need.FEATURE, "entropy_hardware", via),
        Requirement(Need.FEATURE, "tls1_3" if suite.min_tls == "1.3" else "tls1_2", via),
        Requirement(Need.SUITE, suite.id, via),
        Requirement(Need.GROUP, "secp256r1", via),
        Requirement(Need.SIGNATURE, ECDSA_SHA256 if ecdsa else SHA256_RSA, via),
        Requirement(Need.PUBLIC_KEY, EC_PUBLIC_KEY if ecdsa else RSA_ENCRYPTION, via),
        Requirement(Need.MPI_BYTES, 32 if ecdsa else 256, via),
        Requirement(Need.IN_CONTENT, 4096, via),
        Requirement(Need.OUT_CONTENT, 1024, via),
    ]
    options = resolve(Requirements(tuple(items), suites=(suite.id,)), kb)
    return render_header(options, kb, HeaderContext("bench", "bench/footprint.py"))


def text_size(tree, header: str) -> int:
    return cortex_m4(tree, header).text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", nargs="+", default=["3.6", "2.28"])
    args = parser.parse_args()
    missing = missing_arm_tools()
    if missing:
        print(f"{', '.join(missing)} missing: apt-get install {ARM_PACKAGES}")
        return 2
    print(f"library text, arm-none-eabi-gcc {' '.join(CFLAGS)}")
    for line in args.lines:
        tree = sources.find_tree(line)
        kb = knowledge.load(line)
        default = text_size(tree, bare_metal(tree, tree.config_header.read_text()))
        suite_b = text_size(tree, bare_metal(tree, (tree.root / "configs" / "config-suite-b.h").read_text()))
        print(f"\nmbedTLS {tree.version}")
        print(f"  {'default config (bare metal)':44} {default / 1024:8.1f} KiB  1.00")
        print(f"  {'configs/config-suite-b.h (hand-written)':44} {suite_b / 1024:8.1f} KiB  {suite_b / default:.2f}")
        for suite_id in SUITES:
            suite = kb.suite(suite_id)
            if suite is None:
                print(f"  0x{suite_id:04X} not implemented by mbedTLS {tree.version}")
                continue
            size = text_size(tree, suite_header(kb, suite))
            print(f"  {suite.hex} {suite.name:37} {size / 1024:8.1f} KiB  {size / default:.2f}"
                  f"  (vs suite-b {size / suite_b:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
