"""IANA code points the probe speaks and the names it writes them as (TLS registries)."""

from __future__ import annotations

VERSIONS: dict[int, str] = {0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2", 0x0304: "1.3"}
VERSION_CODES: dict[str, int] = {name: code for code, name in VERSIONS.items()}
# Every TLS 1.3 suite is 0x13XX (RFC 8446 §B.4); no TLS 1.2 suite is.
TLS13_SUITE_PREFIX = 0x13

# Supported groups (RFC 8422, RFC 7919, RFC 8446 §4.2.7)
GROUPS: dict[int, str] = {
    18: "secp192k1",
    19: "secp192r1",
    20: "secp224k1",
    21: "secp224r1",
    22: "secp256k1",
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    26: "brainpoolP256r1",
    27: "brainpoolP384r1",
    28: "brainpoolP512r1",
    29: "x25519",
    30: "x448",
    31: "brainpoolP256r1tls13",
    32: "brainpoolP384r1tls13",
    33: "brainpoolP512r1tls13",
    256: "ffdhe2048",
    257: "ffdhe3072",
    258: "ffdhe4096",
    259: "ffdhe6144",
    260: "ffdhe8192",
}
GROUP_CODES: dict[str, int] = {name: code for code, name in GROUPS.items()}
# Elliptic curves usable for TLS 1.2 ECDHE (the TLS 1.3-only brainpool code points excluded).
TLS12_CURVES: tuple[int, ...] = (29, 23, 24, 25, 30, 26, 27, 28, 22, 21, 20, 19, 18)
# Groups a TLS 1.3 key share may use.
TLS13_GROUPS: tuple[int, ...] = (29, 23, 24, 25, 30, 31, 32, 33, 256, 257, 258, 259, 260)

# Signature schemes (RFC 8446 §4.2.3; TLS 1.2 hash/signature pairs share the code space)
SIGNATURE_SCHEMES: dict[int, str] = {
    0x0201: "rsa_pkcs1_sha1",
    0x0202: "dsa_sha1",
    0x0203: "ecdsa_sha1",
    0x0301: "rsa_pkcs1_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x0401: "rsa_pkcs1_sha256",
    0x0402: "dsa_sha256",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0501: "rsa_pkcs1_sha384",
    0x0502: "dsa_sha384",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0601: "rsa_pkcs1_sha512",
    0x0602: "dsa_sha512",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
}
# What the probe offers: every scheme above but DSA, strongest-first within each family.
OFFERED_SIGNATURE_SCHEMES: tuple[int, ...] = (
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
    0x0401, 0x0501, 0x0601, 0x081A, 0x081B, 0x081C, 0x0301, 0x0303, 0x0201, 0x0203,
)

# Extension types (IANA "TLS ExtensionType Values")
EXTENSIONS: dict[int, str] = {
    0: "server_name",
    1: "max_fragment_length",
    5: "status_request",
    10: "supported_groups",
    11: "ec_point_formats",
    13: "signature_algorithms",
    16: "application_layer_protocol_negotiation",
    22: "encrypt_then_mac",
    23: "extended_master_secret",
    28: "record_size_limit",
    35: "session_ticket",
    41: "pre_shared_key",
    42: "early_data",
    43: "supported_versions",
    44: "cookie",
    45: "psk_key_exchange_modes",
    51: "key_share",
    0xFF01: "renegotiation_info",
}
EXTENSION_CODES: dict[str, int] = {name: code for code, name in EXTENSIONS.items()}

# max_fragment_length codes (RFC 6066 §4) and the sizes they stand for
MFL_CODES: dict[int, int] = {1: 512, 2: 1024, 3: 2048, 4: 4096}
MFL_SIZES: dict[int, int] = {size: code for code, size in MFL_CODES.items()}

# ClientCertificateType (RFC 5246 §7.4.4, RFC 8422 §5.5)
CERTIFICATE_TYPES: dict[int, str] = {
    1: "rsa_sign",
    2: "dss_sign",
    3: "rsa_fixed_dh",
    4: "dss_fixed_dh",
    64: "ecdsa_sign",
    65: "rsa_fixed_ecdh",
    66: "ecdsa_fixed_ecdh",
}

ALERTS: dict[int, str] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}


def name_of(table: dict[int, str], code: int) -> str:
    """The registry name of a code point, or its hex form when unknown."""
    return table.get(code, f"0x{code:04X}")
