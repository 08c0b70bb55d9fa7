"""The X.509 tables of the knowledge base, held against real mbedTLS.

The oracle: a C program compiled against the library asks mbedTLS itself what it supports
(OID lookups, the ECP curve list, the key types with an implementation) and, next to each
answer, evaluates the extracted guard with the real preprocessor (`#if <guard>`). Both must
agree, for the default configuration and for one with hashes and curves removed. The
project's own preprocessor engine (cpp.py) must agree with the compiler on every guard too.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from cryptography import x509
from pki import MbedtlsJudge, config_without, issue, key

from configgen import mbedbuild
from configgen.verdicts import oid_bytes
from configgen.kb import cpp, extract_options, extract_x509
from configgen.kb import extract as kb_extract

# Removed in the reduced configuration, as the KB names them: the options of SHA-1 and
# SHA-384, one NIST and one Brainpool curve.
_REMOVED_HASHES = ("SHA-1", "SHA-384")
_REMOVED_GROUPS = ("secp384r1", "brainpoolP256r1")


@pytest.fixture(scope="module")
def extracted(trees):
    return {line: extract_x509.extract(tree) for line, tree in trees.items()}


def test_one_key_plain_json_sorted_no_paths(tree, extracted):
    data = extracted[tree.line]
    assert list(data) == ["x509"]
    text = json.dumps(data, sort_keys=True)
    assert json.loads(text) == data
    assert str(tree.root) not in text and "/root" not in text
    x509 = data["x509"]
    assert x509["signature_algorithms"] == sorted(
        x509["signature_algorithms"], key=lambda s: (s["oid"], s["name"])
    )
    assert [h["name"] for h in x509["hashes"]] == sorted(h["name"] for h in x509["hashes"])
    assert extract_x509.extract(tree) == data  # deterministic


def test_version_differences(extracted):
    old, new = extracted["2.28"]["x509"], extracted["3.6"]["x509"]
    hashes = {line: {h["name"]: h["option"] for h in d["x509"]["hashes"]} for line, d in extracted.items()}
    assert hashes["2.28"]["SHA-384"] == "MBEDTLS_SHA512_C"
    assert hashes["3.6"]["SHA-384"] == "MBEDTLS_SHA384_C"
    assert hashes["3.6"]["SHA-224"] == "MBEDTLS_SHA224_C"
    assert old["critical_extension_option"] == "MBEDTLS_X509_ALLOW_UNSUPPORTED_CRITICAL_EXTENSION"
    assert new["critical_extension_option"] is None
    assert old["extension_callback"] == new["extension_callback"] == extract_x509.EXT_CALLBACK
    assert old["policies"] == new["policies"] == ["2.5.29.32.0"]
    ext = {line: {e["name"] for e in d["x509"]["extensions"]} for line, d in extracted.items()}
    assert ext["3.6"] - ext["2.28"] == {"id-ce-subjectKeyIdentifier", "id-ce-authorityKeyIdentifier"}
    assert "id-ce-nameConstraints" not in ext["3.6"]
    sig = {s["name"]: s for s in new["signature_algorithms"]}
    assert sig["sha256WithRSAEncryption"]["oid"] == "1.2.840.113549.1.1.11"
    assert sig["ecdsa-with-SHA384"]["hash"] == "SHA-384"
    assert sig["RSASSA-PSS"]["scheme"] == "rsassa_pss" and sig["RSASSA-PSS"]["hash"] is None
    groups = {g["name"]: g for g in new["groups"]}
    assert groups["secp256r1"]["tls_id"] == 23 and groups["secp256r1"]["bits"] == 256
    assert groups["secp256r1"]["option"] == "MBEDTLS_ECP_DP_SECP256R1_ENABLED"
    assert groups["secp256r1"]["oid"] == "1.2.840.10045.3.1.7"


def _probe(kind: str, index: int, guard: str, found: str, setup: str = "") -> str:
    return f"""
    {{
        {setup}
        int found = ({found});
#if {guard}
        int want = 1;
#else
        int want = 0;
#endif
        printf("{kind} {index} %d %d\\n", found, want);
    }}"""


def _harness(x509: dict) -> str:
    """The oracle program: one line per table entry, `kind index found guard_holds`."""
    body: list[str] = []

    def buf(dotted: str) -> str:
        data = ", ".join(str(b) for b in oid_bytes(dotted))
        return (
            f"static const unsigned char o[] = {{ {data} }};"
            " mbedtls_asn1_buf b = { MBEDTLS_ASN1_OID, sizeof o, (unsigned char *) o };"
        )

    for i, sig in enumerate(x509["signature_algorithms"]):
        if sig["scheme"] == "rsassa_pss":
            continue  # needs its parameters parsed too: held against real certificates in test_inspect_pki
        body.append(_probe("sig", i, sig["guard"], "mbedtls_oid_get_sig_alg(&b, &md, &pk) == 0",
                           buf(sig["oid"]) + " mbedtls_md_type_t md; mbedtls_pk_type_t pk;"))
    for i, item in enumerate(x509["pk_types"]):
        body.append(_probe(
            "pk", i, item["guard"],
            "mbedtls_oid_get_pk_alg(&b, &pk) == 0 && mbedtls_pk_info_from_type(pk) != NULL",
            buf(item["oid"]) + " mbedtls_pk_type_t pk;"))
    for i, item in enumerate(x509["hashes"]):
        body.append(_probe("md", i, item["guard"], "mbedtls_oid_get_md_alg(&b, &md) == 0",
                           buf(item["oid"]) + " mbedtls_md_type_t md;"))
    for i, item in enumerate(x509["groups"]):
        body.append(_probe("ecp", i, item["ecp_guard"], f"has_tls_id({item['tls_id']})"))
        if item["oid"] is not None:
            body.append(_probe("curve_oid", i, item["guard"], "curve_oid(&b)", buf(item["oid"])))
    return (
        """
#include "common.h"
#include <stdio.h>
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/ecp.h"
#include "mbedtls/x509_crt.h"

static int has_tls_id(int id)
{
#if defined(MBEDTLS_ECP_C) || defined(MBEDTLS_ECP_LIGHT)
    const mbedtls_ecp_curve_info *c;
    for (c = mbedtls_ecp_curve_list(); c->grp_id != MBEDTLS_ECP_DP_NONE; c++) {
        if (c->tls_id == id) {
            return 1;
        }
    }
#endif
    (void) id;
    return 0;
}

static int curve_oid(const mbedtls_asn1_buf *b)
{
    mbedtls_ecp_group_id g;
    if (mbedtls_oid_get_ec_grp(b, &g) == 0) {
        return 1;
    }
#if MBEDTLS_VERSION_MAJOR >= 3
    if (mbedtls_oid_get_ec_grp_algid(b, &g) == 0) {
        return 1;
    }
#endif
    return 0;
}

int main(void)
{
    int (*cb)() = (int (*)()) mbedtls_x509_crt_parse_der_with_ext_cb;
    (void) cb;
"""
        + "".join(body)
        + "\n    return 0;\n}\n"
    )


def _configs(tree, x509: dict) -> dict[str, tuple[str, tuple[str, ...]]]:
    hashes = {h["name"]: h["option"] for h in x509["hashes"]}
    groups = {g["name"]: g["option"] for g in x509["groups"]}
    removed = tuple(hashes[h] for h in _REMOVED_HASHES) + tuple(groups[g] for g in _REMOVED_GROUPS)
    return {"default": (tree.config_header.read_text(), ()), "reduced": (config_without(tree, removed), removed)}


@pytest.mark.parametrize("config_name", ["default", "reduced"])
def test_guards_match_what_mbedtls_supports(tree, extracted, tmp_path, config_name):
    x509 = extracted[tree.line]["x509"]
    header, removed = _configs(tree, x509)[config_name]
    library = mbedbuild.build_library(tree, header)
    source = tmp_path / "oracle.c"
    source.write_text(_harness(x509))
    program = mbedbuild.build_program(library, source, tmp_path / "oracle")
    lines = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout.split("\n")
    rows = [line.split() for line in lines if line]
    assert len(rows) > 40
    mismatches = [row for row in rows if row[2] != row[3]]
    assert mismatches == []

    # The guards mean what they say: the removed options take their entries away.
    table = {"sig": "signature_algorithms", "pk": "pk_types", "md": "hashes", "ecp": "groups",
             "curve_oid": "groups"}
    present = {(row[0], x509[table[row[0]]][int(row[1])]["name"]) for row in rows if row[2] == "1"}
    assert ("md", "SHA-256") in present and ("ecp", "secp256r1") in present
    for name in _REMOVED_HASHES:
        assert (("md", name) in present) == (config_name == "default")
    for name in _REMOVED_GROUPS:
        assert (("ecp", name) in present) == (config_name == "default")
        assert (("curve_oid", name) in present) == (config_name == "default")
    assert (("sig", "sha-1WithRSAEncryption") in present) == (config_name == "default")

    # The project's preprocessor engine agrees with the compiler on every guard.
    options = extract_options.extract(tree)
    entry = kb_extract._ENTRY[tree.line]
    files = kb_extract.preprocessor_files(tree, entry + options["config_tail"])
    config = {o["name"]: o["value"] for o in options["options"]
              if o["default_enabled"] and o["name"] not in removed}
    outcome = cpp.run(files, entry, cpp.config_directives(config, options["config_tail"]))
    for kind, index, _, want in rows:
        item = x509[table[kind]][int(index)]
        guard = item["ecp_guard"] if kind == "ecp" else item["guard"]
        assert outcome.holds(guard) == (want == "1"), (kind, item["name"], guard)


def _extension_certs(now):
    """One certificate per extension, each marked critical (the parser's table decides)."""
    root = issue("Extension Root", "rsa2048-x", None, now, ca=True)
    public = key("p256-x").public_key()
    extensions = {
        "2.5.29.37": x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]),
        "2.5.29.17": x509.SubjectAlternativeName([x509.DNSName("server.example")]),
        "2.5.29.14": x509.SubjectKeyIdentifier.from_public_key(public),
        "2.5.29.35": x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
        "2.5.29.32": x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]),
        # nsCertType: BIT STRING, SSL server (no class in cryptography; DER written out)
        "2.16.840.1.113730.1.1": x509.UnrecognizedExtension(
            x509.ObjectIdentifier("2.16.840.1.113730.1.1"), b"\x03\x02\x06\x40"),
        "2.5.29.30": x509.NameConstraints(permitted_subtrees=[x509.DNSName("example")], excluded_subtrees=None),
        "2.5.29.36": x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None),
        "2.5.29.54": x509.InhibitAnyPolicy(0),
        "2.5.29.18": x509.IssuerAlternativeName([x509.DNSName("ca.example")]),
        "2.5.29.31": x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier("http://ca.example/crl")], None, None, None)]),
    }
    certs = {oid: issue("server.example", "p256-x", root, now, extra=((ext, True),), key_usage=False)
             for oid, ext in extensions.items()}
    # keyUsage and basicConstraints are critical in every certificate issue() makes
    certs["2.5.29.15"] = certs["2.5.29.19"] = issue("server.example", "p256-x", root, now, ca=False)
    return certs


def test_extension_table_matches_the_parser(tree, extracted, tmp_path):
    """A certificate with a critical extension parses exactly when the KB lists the
    extension as handled (guard true in the default configuration)."""
    x509_table = extracted[tree.line]["x509"]
    certs = _extension_certs(dt.datetime.now(dt.timezone.utc))
    jobs = []
    for oid, cert in certs.items():
        path = tmp_path / f"{oid}.pem"
        path.write_bytes(cert.pem())
        jobs.append((oid, path, None, None))
    judge = MbedtlsJudge(tree, tree.config_header.read_text(), tmp_path)
    real = judge.run(jobs)
    handled = {e["oid"] for e in x509_table["extensions"]}
    got = {oid: r.chain_ret == 0 for oid, r in real.items()}
    assert got == {oid: oid in handled for oid in certs}
    assert handled <= set(certs)
