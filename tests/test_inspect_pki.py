"""The generated test PKI, judged by real mbedTLS (2.28 and 3.6).

For every case the inspector's verdict (which certificates parse with the default
configuration) and the chain diagnosis (verify flags) must equal what a harness compiled
against the real library reports. Then, per case, the options the inspector says the case
needs beyond an ordinary chain are taken out of the configuration, and real mbedTLS must
fail to parse it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from pki import MbedtlsJudge, config_without, scenarios

from configgen import chain as chainmod
from configgen import inspect
from configgen import kb as kbmod
from configgen.kb import extract_x509
from configgen import verdicts

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    cases = scenarios(NOW)
    for case in cases:
        case.write(directory)
    return cases


@pytest.fixture(scope="module")
def kbs(trees):
    """The committed KB of each line with the X.509 tables extracted afresh from the tree."""
    return {line: dataclasses.replace(kbmod.load(line), x509=extract_x509.extract(tree)["x509"])
            for line, tree in trees.items()}


def _certs(path):
    return inspect.parse(inspect.read_bytes(path), str(path)).certificates


def _predicted_ret(certs, kb, role):
    failed = sum(not verdicts.certificate_verdict(c, kb, role).parses_by_default for c in certs)
    return "all" if failed == len(certs) else failed


def _real_ret(ret):
    return "all" if ret < 0 else ret


def test_matrix_matches_real_mbedtls(tree, pki, kbs, tmp_path):
    kb = kbs[tree.line]
    judge = MbedtlsJudge(tree, tree.config_header.read_text(), tmp_path)
    real = judge.run([(c.name, c.files["chain"], c.files["ca"], c.host) for c in pki])
    rows, mismatches = [], []
    for case in pki:
        chain, anchors = _certs(case.files["chain"]), _certs(case.files["ca"])
        got = real[case.name]
        report = chainmod.diagnose(chain, anchors, case.host, NOW, kb)
        predicted = (
            _predicted_ret(chain, kb, verdicts.Role.PRESENTED),
            _predicted_ret(anchors, kb, verdicts.Role.ANCHOR),
            report.flags if report.verified else None,
        )
        actual = (_real_ret(got.chain_ret), _real_ret(got.ca_ret), got.flags)
        rows.append(f"{tree.line} {case.name:22} predicted={predicted} mbedtls={actual} {report.flag_names}")
        if predicted != actual:
            mismatches.append(rows[-1])
    print("\n".join(rows))
    assert mismatches == []


def _distinct_needs(case, baseline, kb):
    """Options this case needs that the ordinary chain does not (values: a smaller MPI)."""
    def needs(c):
        found = set()
        for path, role in ((c.files["chain"], verdicts.Role.PRESENTED), (c.files["ca"], verdicts.Role.ANCHOR)):
            for cert in _certs(path):
                found |= {(n.option, n.value) for n in verdicts.certificate_verdict(cert, kb, role).needs}
        return found

    # MBEDTLS_X509_USE_C guards x509.c's RSASSA-PSS branch, so a PSS case names it; every
    # certificate needs it, and without it there is no X.509 to test at all.
    base = {option for option, _ in needs(baseline)} | {"MBEDTLS_X509_USE_C"}
    flags = sorted({o for o, v in needs(case) if v is None and o not in base})
    mpi = max((int(v) for o, v in needs(case) if o == verdicts.MPI_OPTION), default=0)
    return flags, mpi


# Cases whose distinctive needs are options (hash, curve, PSS) or a large RSA modulus.
_REMOVABLE = ("sha1-root", "ec-p384", "ec-p521", "ec-bp256", "rsa-pss", "rsa4096", "rsa8192")


def test_removing_what_the_inspector_names_breaks_parsing(tree, pki, kbs, tmp_path):
    kb = kbs[tree.line]
    cases = {c.name: c for c in pki}
    broken = []
    for name in _REMOVABLE:
        case = cases[name]
        flags, mpi = _distinct_needs(case, cases["ok"], kb)
        values = {}
        if mpi > 256:  # an ordinary chain fits in 256 bytes (RSA-2048)
            values[verdicts.MPI_OPTION] = str(mpi // 2)
        assert flags or values, f"{name}: the inspector names nothing distinctive"
        judge = MbedtlsJudge(tree, config_without(tree, flags, values), tmp_path / name)
        got = judge.run([(name, case.files["chain"], case.files["ca"], case.host)])[name]
        print(tree.line, name, "without", flags, values, "->", got)
        if got.chain_ret == 0 and got.ca_ret == 0:
            broken.append(name)
    assert broken == []
