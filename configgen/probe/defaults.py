"""The ClientHello each mbedTLS line sends with its default configuration.

Modelled on `ssl_write_client_hello` (2.28.3 library/ssl_cli.c) and
`mbedtls_ssl_write_client_hello` + `mbedtls_ssl_tls13_write_client_hello_exts`
(3.6.6 library/ssl_client.c, ssl_tls13_client.c) with the default config and a client that
calls mbedtls_ssl_set_hostname(): the extensions each line writes, in its order of groups.
Replaying it tells whether a server chokes on what an unconfigured device would send.
"""

from __future__ import annotations

from configgen.probe.hello import Hello

DEFAULT_GROUPS: dict[str, tuple[int, ...]] = {
    # 2.28: ssl_preset_default_curves order (mbedtls_ecp_grp_id_list, strongest first)
    "2.28": (25, 28, 24, 27, 23, 22, 26, 21, 20, 19, 18, 29, 30),
    # 3.6: ssl_preset_default_groups
    "3.6": (29, 23, 24, 25, 30, 28, 27, 26, 256, 257, 258, 259, 260),
}
DEFAULT_FLAGS = frozenset(
    {"ec_point_formats", "encrypt_then_mac", "extended_master_secret", "session_ticket"}
)


def default_hello(line: str, tls12_suites: tuple[int, ...], tls13_suites: tuple[int, ...],
                  sni: str | None) -> Hello:
    """What mbedTLS `line` sends by default, offering the given suites."""
    if line == "2.28":
        return Hello(versions=("1.2",), suites=tls12_suites, groups=DEFAULT_GROUPS[line],
                     sni=sni, flags=DEFAULT_FLAGS, scsv=True)
    return Hello(
        versions=("1.3", "1.2"),
        suites=tls13_suites + tls12_suites,
        groups=DEFAULT_GROUPS[line],
        key_shares=(29,),
        sni=sni,
        flags=DEFAULT_FLAGS | {"psk_key_exchange_modes"},
        scsv=True,
    )
