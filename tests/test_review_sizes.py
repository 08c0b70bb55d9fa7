"""The code-size estimates review shows for unneeded options, held against a real build.

configgen/advise/sizes.toml says, per line, how many bytes of code each module option
brings: the text of its library objects built with the line's default configuration
(gcc -Os, x86-64). MBEDTLS_DEBUG_C is left out: its cost is spread over every SSL file
and measured whole in configgen/advise/debughelp.py. This test rebuilds and re-measures; `pytest --update-golden` rewrites the
file, and otherwise every figure must be within 15% (compilers differ a little).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from configgen import kb as knowledge
from configgen import mbedbuild
from configgen.advise import causes, debughelp

SIZES = Path(causes.__file__).with_name("sizes.toml")
# Library files whose name does not say their option; the rest are MBEDTLS_<FILE>_C, or
# belong to the module their name starts with (PREFIXES).
OBJECTS = {
    "pkparse": "MBEDTLS_PK_PARSE_C", "pkwrite": "MBEDTLS_PK_WRITE_C", "pk_wrap": "MBEDTLS_PK_C",
    "pk_ecc": "MBEDTLS_PK_C", "x509": "MBEDTLS_X509_USE_C", "x509_crt": "MBEDTLS_X509_CRT_PARSE_C",
    "x509_crl": "MBEDTLS_X509_CRL_PARSE_C", "x509_csr": "MBEDTLS_X509_CSR_PARSE_C",
    "x509write_crt": "MBEDTLS_X509_CRT_WRITE_C", "x509write_csr": "MBEDTLS_X509_CSR_WRITE_C",
    "ssl_cli": "MBEDTLS_SSL_CLI_C", "ssl_client": "MBEDTLS_SSL_CLI_C", "ssl_srv": "MBEDTLS_SSL_SRV_C",
    "ssl_msg": "MBEDTLS_SSL_TLS_C", "net_sockets": "MBEDTLS_NET_C", "ecp_curves": "MBEDTLS_ECP_C",
    "psa_crypto_storage": "MBEDTLS_PSA_CRYPTO_STORAGE_C", "psa_its_file": "MBEDTLS_PSA_ITS_FILE_C",
    "pem": "MBEDTLS_PEM_PARSE_C", "block_cipher": "MBEDTLS_CIPHER_C",
    "cipher_wrap": "MBEDTLS_CIPHER_C", "entropy_poll": "MBEDTLS_ENTROPY_C",
}
PREFIXES = (("psa_crypto", "MBEDTLS_PSA_CRYPTO_C"), ("bignum", "MBEDTLS_BIGNUM_C"),
            ("rsa_", "MBEDTLS_RSA_C"), ("ssl_tls12_client", "MBEDTLS_SSL_CLI_C"),
            ("ssl_tls13_client", "MBEDTLS_SSL_CLI_C"), ("ssl_tls12_server", "MBEDTLS_SSL_SRV_C"),
            ("ssl_tls13_server", "MBEDTLS_SSL_SRV_C"), ("ssl_tls13_", "MBEDTLS_SSL_TLS_C"))


def option_of(stem: str) -> str:
    if stem in OBJECTS:
        return OBJECTS[stem]
    return next((o for prefix, o in PREFIXES if stem.startswith(prefix)), f"MBEDTLS_{stem.upper()}_C")


def measure(tree) -> dict[str, int]:
    kb = knowledge.load(tree.line)
    library = mbedbuild.build_library(tree, tree.config_header.read_text(), cflags=("-Os",))
    out = subprocess.run(["size", str(library.archive)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[1:]
    sizes: dict[str, int] = {}
    for row in out:
        parts = row.split()
        stem = parts[5].removesuffix(".o")
        option = option_of(stem)
        if kb.option(option) is not None and int(parts[0]) and option != debughelp.DEBUG_OPTION:
            sizes[option] = sizes.get(option, 0) + int(parts[0])
    return dict(sorted(sizes.items()))


def render(measured: dict[str, dict[str, int]]) -> str:
    lines = ["# Code each module option brings, per mbedTLS line: bytes of text of its library",
             "# objects built with the line's default configuration (gcc -Os, x86-64).",
             "# Written by tests/test_review_sizes.py (pytest --update-golden); review uses it",
             "# to estimate what an unneeded option costs."]
    for line, sizes in measured.items():
        lines += ["", f'["{line}"]'] + [f"{name} = {size}" for name, size in sizes.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.mbedtls
def test_sizes_are_measured(trees, request):
    import tomllib

    measured = {line: measure(tree) for line, tree in trees.items()}
    if request.config.getoption("--update-golden"):
        SIZES.write_text(render(measured))
    committed = tomllib.loads(SIZES.read_text())
    for line, sizes in measured.items():
        assert set(committed[line]) == set(sizes)
        off = {n: (committed[line][n], s) for n, s in sizes.items()
               if abs(committed[line][n] - s) > 0.15 * s}
        assert off == {}
    assert measured["3.6"]["MBEDTLS_SSL_TLS_C"] > 10_000
