"""Single-suite sweep: for every ciphersuite of each tested release (its line's knowledge
base compiled against that release's own tree), a header generated to require
exactly that suite passes check_config.h with -Wall -Werror, compiles that suite in (and no
suite built from parts the chosen one does not use), and offers exactly that suite.

The sweep works at the resolve level (requirements in, header out), so it covers every
suite the line implements, including those derive's default policy refuses (listed below).
"""

from __future__ import annotations

import re

import pytest

from configgen import kb as knowledge
from configgen import mbedbuild
from configgen.derive import refused
from configgen.kb import closure
from configgen.model.profile import Margin, Policy
from configgen.render import HeaderContext, render_header
from configgen.model.requirements import Need, Requirement, Requirements
from configgen.resolve import resolve, want_of

_DEFAULT_POLICY = Policy(("1.2", "1.3"), False, False, False, False, False, False, Margin.MINIMAL, None)


def single_suite_requirements(suite) -> Requirements:
    version = "tls1_3" if suite.min_tls == "1.3" else "tls1_2"
    items = (
        Requirement(Need.FEATURE, "client", "sweep: a TLS client"),
        Requirement(Need.FEATURE, "rng", "sweep: random numbers"),
        Requirement(Need.FEATURE, version, "sweep: the suite's protocol version"),
        Requirement(Need.SUITE, suite.id, f"sweep: {suite.name}"),
    )
    return Requirements(items, suites=(suite.id,))


def _survivors(preprocessed: str) -> set[str]:
    return set(re.findall(r'"(TLS[A-Z0-9_-]+)"', preprocessed))


def _offered(preprocessed: str) -> list[int]:
    match = re.search(r"ciphersuite_preference\[\]\s*=\s*\{([^}]*)\}", preprocessed)
    assert match, "no ciphersuite_preference table"
    return [int(v, 0) for v in re.findall(r"0x[0-9A-Fa-f]+|\b\d+\b", match.group(1)) if int(v, 0)]


@pytest.mark.mbedtls
def test_every_suite_alone(release_tree, capsys):
    tree = release_tree
    kb = knowledge.load(tree.line)
    by_name = {s.name: s for s in kb.suites}
    baseline = closure.enable(
        kb, {}, [want_of(r, kb) for r in single_suite_requirements(kb.suites[0]).items[:2]]
    )
    passed = 0
    refused_by_default: dict[str, int] = {}
    for suite in kb.suites:
        why = refused(suite, _DEFAULT_POLICY)
        if why:
            refused_by_default[why] = refused_by_default.get(why, 0) + 1
        options = resolve(single_suite_requirements(suite), kb)
        header = render_header(options, kb, HeaderContext("sweep", "sweep"))
        assert mbedbuild.check_config(tree, header) == "", suite.name
        output = mbedbuild.preprocess(tree, header, "library/ssl_ciphersuites.c")
        survivors = _survivors(output)
        assert suite.name in survivors, suite.name
        own_parts = closure.direct(kb, suite.guard) | set(baseline)
        for other in survivors - {suite.name}:
            extra = closure.direct(kb, by_name[other].guard) - own_parts
            assert not extra, f"{suite.name}: {other} also compiled in, needs {sorted(extra)}"
        assert _offered(output) == [suite.id], suite.name
        passed += 1
    with capsys.disabled():
        print(f"\nmbedTLS {tree.version} ({kb.version}'s knowledge base): single-suite sweep {passed}/{len(kb.suites)} passed; "
              f"{sum(refused_by_default.values())} refused by the default policy "
              f"({', '.join(f'{n} {why}' for why, n in sorted(refused_by_default.items()))}; "
              "admitted by [policy].allow_weak_ciphers, psk, allow_cbc, allow_no_forward_secrecy)")
    assert passed == len(kb.suites)
