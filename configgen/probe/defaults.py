"""The ClientHello each mbedTLS line sends with its default configuration.

Modelled on `ssl_write_client_hello` (2.28.3 library/ssl_cli.c) and
`mbedtls_ssl_write_client_hello` + `mbedtls_ssl_tls13_write_client_hello_exts`
(3.6.6 library/ssl_client.c, ssl_tls13_client.c) with the default config and a client that
calls mbedtls_ssl_set_hostname(): the same extensions, groups and signature algorithms as
the real ssl_client2 sends (tests/test_probe_mbedtls.py holds it to that), in the probe's own
extension order, offering the knowledge base's suites (a superset of the default build's).
Replaying it tells whether a server chokes on what an unconfigured device would send.
"""

from __future__ import annotations

from configgen.probe.hello import Hello

DEFAULT_GROUPS: dict[str, tuple[int, ...]] = {
    # 2.28: ssl_preset_default_curves order (mbedtls_ecp_grp_id_list, strongest first)
    "2.28": (25, 28, 24, 27, 23, 22, 26, 21, 20, 19, 18, 29, 30),
    # 3.6: ssl_preset_default_groups
    "3.6": (29, 23, 24, 30, 25, 26, 27, 28, 256, 257, 258, 259, 260),
}
DEFAULT_SIGNATURE_SCHEMES: dict[str, tuple[int, ...]] = {
    "2.28": (0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301),
    "3.6": (0x0403, 0x0503, 0x0603, 0x0806, 0x0805, 0x0804, 0x0601, 0x0501, 0x0401),
}
DEFAULT_FLAGS = frozenset(
    {"ec_point_formats", "encrypt_then_mac", "extended_master_secret", "session_ticket"}
)


def default_hello(line: str, tls12_suites: tuple[int, ...], tls13_suites: tuple[int, ...],
                  sni: str | None) -> Hello:
    """What mbedTLS `line` sends by default, offering the given suites."""
    if line == "2.28":
        return Hello(versions=("1.2",), suites=tls12_suites, groups=DEFAULT_GROUPS[line],
                     signature_schemes=DEFAULT_SIGNATURE_SCHEMES[line], sni=sni,
                     flags=DEFAULT_FLAGS, scsv=True)
    return Hello(
        versions=("1.3", "1.2"),
        suites=tls13_suites + tls12_suites,
        groups=DEFAULT_GROUPS[line],
        key_shares=(29,),
        signature_schemes=DEFAULT_SIGNATURE_SCHEMES[line],
        sni=sni,
        flags=DEFAULT_FLAGS | {"psk_key_exchange_modes"},
        scsv=True,
    )
