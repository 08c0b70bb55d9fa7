"""Facts about certificates and keys: what was observed in a file, nothing more.

Frozen dataclasses with tuples, enums as (str, Enum), so facts compare in tests and turn into
JSON without a custom encoder. A key's facts hold its type, size and curve and the
fingerprint of its *public* half (to match it with a certificate) — never key material.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum


class Container(str, Enum):
    """How a file wraps what it holds."""

    PEM = "pem"
    DER = "der"
    PKCS7_PEM = "pkcs7-pem"
    PKCS7_DER = "pkcs7-der"
    PKCS12 = "pkcs12"

    @property
    def is_pem(self) -> bool:
        return self in (Container.PEM, Container.PKCS7_PEM)


class KeyType(str, Enum):
    RSA = "rsa"
    EC = "ec"
    ED25519 = "ed25519"
    ED448 = "ed448"
    DSA = "dsa"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PublicKeyFacts:
    type: KeyType
    oid: str  # the SubjectPublicKeyInfo algorithm OID
    bits: int | None  # RSA modulus / EC field size / DSA p size
    curve: str | None  # mbedTLS / SEC name of an EC curve ("secp256r1", "brainpoolP256r1")
    curve_oid: str | None
    fingerprint: str  # SHA-256 of the DER SubjectPublicKeyInfo, hex

    def describe(self) -> str:
        if self.type is KeyType.EC:
            return f"EC {self.curve or self.curve_oid}"
        if self.type in (KeyType.ED25519, KeyType.ED448):
            return "Ed25519" if self.type is KeyType.ED25519 else "Ed448"
        kind = str(self.type.value).upper()
        return f"{kind}-{self.bits}" if self.bits else kind


@dataclass(frozen=True, slots=True)
class SignatureFacts:
    oid: str
    name: str  # cryptography's name of the OID ("sha256WithRSAEncryption")
    hash: str | None  # "SHA-256"; for RSASSA-PSS the hash of its parameters
    scheme: str  # rsa_pkcs1v15 | rsassa_pss | ecdsa | ed25519 | ed448 | dsa | unknown


@dataclass(frozen=True, slots=True)
class ExtensionFacts:
    oid: str
    name: str
    critical: bool
    policies: tuple[str, ...] = ()  # certificatePolicies: the policy OIDs
    well_formed: bool = True  # the value is exactly its ASN.1 type (judged where asn1crypto knows it)


@dataclass(frozen=True, slots=True)
class CertFacts:
    """One certificate of one file (`index` counts from 0 in file order)."""

    source: str
    index: int
    container: Container
    subject: str  # RFC 4514
    issuer: str
    common_name: str | None
    serial: str  # hex
    not_before: dt.datetime
    not_after: dt.datetime
    version: int  # 1, 2 or 3, as X.509 numbers them
    public_key: PublicKeyFacts
    signature: SignatureFacts
    is_ca: bool | None  # None: no basicConstraints
    path_length: int | None
    key_usage: tuple[str, ...] | None  # None: no keyUsage extension
    extended_key_usage: tuple[str, ...]
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    extensions: tuple[ExtensionFacts, ...]
    fingerprint: str  # SHA-256 of the DER certificate, hex
    der: bytes  # the certificate itself (public): chain checks verify signatures with it
    tbs_signature_oid: str = ""  # the signature algorithm named inside the TBSCertificate
    signature_consistent: bool = True  # ... identical to the outer one, as mbedTLS requires
    # basicConstraints starts with an INTEGER (a pathLenConstraint without cA), which older
    # releases read as a cA value and 3.6.7 refuses (releases.toml)
    basic_integer_first: bool = False

    @property
    def label(self) -> str:
        return f"{self.source}#{self.index + 1}" if self.index else self.source

    @property
    def self_issued(self) -> bool:
        return self.subject_key == self.issuer_key

    @property
    def subject_key(self) -> str:
        return self.subject.casefold()

    @property
    def issuer_key(self) -> str:
        return self.issuer.casefold()

    @property
    def display_name(self) -> str:
        return self.common_name or self.subject


@dataclass(frozen=True, slots=True)
class KeyEncryption:
    """How a private key is encrypted (read from the file, no password needed)."""

    format: str  # "pem" (RFC 1421 Proc-Type/DEK-Info) | "pkcs8" (EncryptedPrivateKeyInfo) | "pkcs12"
    scheme: str  # "rfc1421" | "pbes2" | "pkcs12-pbe" | "pbes1" | the algorithm OID when unknown
    cipher: str | None  # "AES-256-CBC", "DES-EDE3-CBC", "DES-CBC", ...
    hash: str | None  # the key derivation's hash: MD5 (RFC 1421), PBKDF2's PRF, PKCS#12's SHA-1


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """A private key: its type and size, and which certificates carry its public half."""

    source: str
    index: int
    container: Container
    encrypted: bool
    public_key: PublicKeyFacts
    encryption: KeyEncryption | None = None


class Flaw(str, Enum):
    """Why mbedtls_x509_crt_parse_file() stops at a slot before its DER parser (configgen/crtfile.py)."""

    SPACE_IN_LINE = "space-inside-base64-line"
    BAD_CHARACTER = "bad-base64-character"
    BASE64_LENGTH = "base64-length"  # digits not a multiple of 4: refused by 3.6, read by 2.28
    EMPTY_PEM = "empty-pem-block"  # END right after BEGIN
    BLANK_PEM = "blank-pem-block"  # only white space between BEGIN and END
    ENCRYPTED_PEM = "encrypted-pem-certificate"
    NOT_DER = "not-der"  # no outer SEQUENCE
    NO_TBS = "no-tbs-certificate"  # a SEQUENCE, but not a certificate inside (PKCS#7, a key, ...)


@dataclass(frozen=True, slots=True)
class Slot:
    """One certificate as mbedTLS finds it in a file: a CERTIFICATE PEM block, or the whole
    file read as DER. `der` is what reaches mbedtls_x509_crt_parse_der() (with a `flaw`, what
    would have: mbedTLS stops at the flaw); `cert` indexes the file's certificates (None:
    nothing configgen could read either)."""

    pem: bool
    der: bytes | None
    flaw: Flaw | None
    trailing: int = 0  # DER: bytes after the outer SEQUENCE, which mbedTLS ignores
    cert: int | None = None


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything one file holds, and the slots mbedtls_x509_crt_parse_file() finds in it."""

    source: str
    container: Container
    certificates: tuple[CertFacts, ...]
    keys: tuple[KeyFacts, ...]
    slots: tuple[Slot, ...] = ()
