"""mbedTLS's own test certificates, judged by mbedTLS's own parser: the inspector must agree.

Every file of each tested release's test data that holds, or claims to hold, a certificate (*.crt, *.pem,
*.der, *.p7b, anything with a PEM certificate or PKCS#7 block, any DER file that starts like a
certificate) goes through the real mbedtls_x509_crt_parse_file() of that release's DEFAULT
configuration, all in one harness process. The inspector's verdict (configgen.verdicts.file_verdict
over configgen.inspect.parse) must match it on every file: parses or not, and the exact return
value wherever the inspector predicts one. A file the inspector refuses to read (a CSR, a CRL,
a bare public key) counts as "does not parse".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pki import MbedtlsJudge

from configgen import crtfile, inspect
from configgen import kb as kbmod
from configgen.errors import CertificateError
from configgen import verdicts

pytestmark = pytest.mark.mbedtls

SUFFIXES = {".crt", ".pem", ".der", ".cer", ".p7b", ".p7c"}
MARKERS = (b"-----BEGIN CERTIFICATE", b"-----BEGIN X509 CERTIFICATE", b"-----BEGIN PKCS7")


def data_dir(tree) -> Path:
    for name in ("framework/data_files", "tests/data_files"):  # 3.6 moved them to the framework
        if (tree.root / name).is_dir():
            return tree.root / name
    raise AssertionError(f"no test data in {tree.root}")


def certificate_files(directory: Path) -> list[Path]:
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if (path.suffix in SUFFIXES or any(m in data for m in MARKERS)
                or crtfile.der_slot(data, pem=False).der is not None):
            found.append(path)
    return found


def verdict(path: Path, kb, release: str) -> verdicts.FileVerdict | None:
    try:
        return verdicts.file_verdict(inspect.parse(inspect.read_bytes(path), str(path)), kb,
                                    release=release)
    except CertificateError:
        return None


@pytest.fixture(scope="module")
def judged(release_tree, tmp_path_factory):
    files = certificate_files(data_dir(release_tree))
    judge = MbedtlsJudge(release_tree, release_tree.config_header.read_text(), tmp_path_factory.mktemp(f"corpus-{release_tree.version}"))
    real = judge.run([(str(i), path, None, None) for i, path in enumerate(files)])
    return [(path, real[str(i)].chain_ret) for i, path in enumerate(files)]


def test_verdict_is_mbedtls_own_on_every_file(release_tree, judged):
    kb = kbmod.load(release_tree.line)
    disagree, predicted, parsed = [], 0, 0
    for path, real in judged:
        found = verdict(path, kb, release_tree.version)
        says = found is not None and found.parses_by_default
        code = found.result if found is not None else None
        parsed += real == 0
        predicted += code is not None
        if says != (real == 0) or (code is not None and code != real):
            disagree.append(f"{path.relative_to(release_tree.root)}: mbedTLS {real:#x}, inspector "
                            f"{'unreadable' if found is None else (f'{code:#x}' if code is not None else 'fails, code unknown')}")
    print(f"mbedTLS {release_tree.version}: the inspector agrees with mbedtls_x509_crt_parse_file() on "
          f"{len(judged) - len(disagree)}/{len(judged)} files of {data_dir(release_tree).relative_to(release_tree.root)} "
          f"({parsed} parse); return value predicted for {predicted}")
    assert len(judged) > 400
    assert disagree == []


# The disagreements of issue 15, each with what the inspector must now say about it.
KNOWN = [
    ("cert_v1_with_ext.crt", False, verdicts.ERR_EXTENSIONS_NOT_V3, "extensions-not-v3", "version 3"),
    ("server1_pathlen_int_max.crt", False, verdicts.ERR_PATHLEN_INT_MAX, "pathlen-int-max", "pathLenConstraint"),
    ("server7_all_space.crt", False, verdicts.ERR_PEM_BASE64, "space-inside-base64-line", "remove the spaces"),
    ("server7_pem_space.crt", False, 1, "space-inside-base64-line", "remove the spaces"),
    ("server5-der1a.crt", True, 0, "trailing-bytes", "ignores"),
    ("keyUsage.decipherOnly.crt", True, 0, None, None),
    ("dir4/cert11.crt", True, 0, None, None),  # basicConstraints cA encoded 01, not FF
]


@pytest.mark.parametrize(("name", "parses", "result", "code", "words"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_disagreements_are_named(release_tree, judged, name, parses, result, code, words):
    path = next((p for p, _ in judged if str(p).endswith(f"/{name}")), None)
    if path is None:
        pytest.skip(f"{name} is not in mbedTLS {release_tree.version}'s test data")
    found = verdict(path, kbmod.load(release_tree.line), release_tree.version)
    assert found is not None
    assert (found.parses_by_default, found.result) == (parses, result)
    assert dict(judged)[path] == result
    problems = found.problems + tuple(p for c in inspect.parse(path.read_bytes(), str(path)).certificates
                                      for p in verdicts.certificate_verdict(c, kbmod.load(release_tree.line), verdicts.Role.ANCHOR,
                                                                  release_tree.version).problems)
    if code is None:
        assert not [p for p in problems if p.severity is verdicts.Severity.ERROR]
    else:
        assert any(p.code == code and words in p.message + p.fix for p in problems), problems


def test_pkcs7_is_refused_with_how_to_convert(release_tree, judged):
    kb = kbmod.load(release_tree.line)
    p7 = [(p, real) for p, real in judged if p.name.startswith("pkcs7_") and p.suffix == ".der"]
    if not p7:
        pytest.skip(f"no PKCS#7 files in mbedTLS {release_tree.version}'s test data")
    for path, real in p7:
        assert real != 0
        try:
            found = verdicts.file_verdict(inspect.parse(path.read_bytes(), str(path)), kb,
                                         release=release_tree.version)
        except CertificateError as error:  # no certificate inside, or a damaged container
            assert "PKCS#7" in str(error) and "embed the certificates as PEM or DER" in str(error), error
            continue
        assert not found.parses_by_default
        (problem,) = [p for p in found.problems if p.code == "pkcs7-container"]
        assert "cannot read PKCS#7" in problem.message
        assert f"openssl pkcs7 -inform DER -print_certs -in {path}" in problem.fix
