"""A real corpus: every root of Debian's ca-certificates package, judged by real mbedTLS.

Per line: each root parses with the default configuration exactly when the inspector says so
(a root that fails must be one the inspector flagged, with its reason); and with the hash
option the inspector names for it removed, it fails to parse.

And the generated form: a header configgen generates with that root as the only trust
anchor (plus file reading for the harness) lets real mbedTLS parse it. Roots that need the
same options share one header.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import pytest
from pki import MbedtlsJudge, config_without

from configgen import inspect
from configgen import kb as kbmod
from configgen import profile as profiles
from configgen.derive import Inputs, derive
from configgen.model.inputs import Certificate
from configgen.kb import extract_x509
from configgen.render import HeaderContext, render_header
from configgen.model.requirements import Need, Requirement
from configgen.resolve import resolve
from configgen import verdicts

CORPUS = Path("/usr/share/ca-certificates")


@pytest.fixture(scope="module")
def roots():
    files = sorted(CORPUS.glob("**/*.crt"))
    if not files:
        pytest.skip(f"no certificates under {CORPUS}: apt-get install -y ca-certificates")
    return [(path, inspect.parse(inspect.read_bytes(path), str(path)).certificates[0]) for path in files]


def test_every_root_parses_unless_flagged(tree, roots, tmp_path):
    kb = dataclasses.replace(kbmod.load(tree.line), x509=extract_x509.extract(tree)["x509"])
    judge = MbedtlsJudge(tree, tree.config_header.read_text(), tmp_path)
    real = judge.run([(str(i), path, None, None) for i, (path, _) in enumerate(roots)])
    passed, disagreements, unflagged = 0, [], []
    for i, (path, cert) in enumerate(roots):
        verdict = verdicts.certificate_verdict(cert, kb, verdicts.Role.ANCHOR)
        parsed = real[str(i)].chain_ret == 0
        passed += parsed
        if parsed != verdict.parses_by_default:
            disagreements.append((path.name, real[str(i)].chain_ret, verdict.parse_error))
        if not parsed and not verdict.problems and verdict.parses_by_default:
            unflagged.append(path.name)
    print(f"mbedTLS {tree.version}: {passed}/{len(roots)} roots parse with the default configuration")
    assert unflagged == []
    assert disagreements == []


def test_removing_the_named_hash_breaks_each_root(tree, roots, tmp_path):
    kb = dataclasses.replace(kbmod.load(tree.line), x509=extract_x509.extract(tree)["x509"])
    hash_options = {h["option"] for h in kb.x509["hashes"]}
    groups: dict[str, list[tuple[Path, object]]] = defaultdict(list)
    for path, cert in roots:
        verdict = verdicts.certificate_verdict(cert, kb, verdicts.Role.ANCHOR)
        if not verdict.parses_by_default:
            continue
        named = sorted({n.option for n in verdict.needs} & hash_options)
        assert len(named) == 1, (path.name, named)
        groups[named[0]].append((path, cert))
    still_parsing = []
    for option, members in sorted(groups.items()):
        judge = MbedtlsJudge(tree, config_without(tree, [option]), tmp_path / option)
        real = judge.run([(str(i), path, None, None) for i, (path, _) in enumerate(members)])
        still_parsing += [members[int(i)][0].name for i, got in real.items() if got.chain_ret == 0]
        print(f"mbedTLS {tree.version}: without {option}: {len(members)} roots, "
              f"{sum(got.chain_ret != 0 for got in real.values())} fail")
    assert still_parsing == []


def _only_anchor_options(kb, cert, profile):
    inputs = Inputs(profile, (), (Certificate(cert, "root.crt", "anchor"),), (), pem=True)
    reqs = derive(inputs, kb)
    reading = Requirement(Need.OPTION, ("MBEDTLS_FS_IO", None), "test harness: parses files")
    return resolve(dataclasses.replace(reqs, items=reqs.items + (reading,)), kb)


def test_a_header_generated_for_each_root_alone_parses_it(tree, roots, tmp_path):
    kb = kbmod.load(tree.line)
    # a profile needs a server; the anchor-only Inputs below leave it out
    (tmp_path / "tls.toml").write_text(f'board = "linux-host"\nmbedtls = "{tree.line}"\n'
                                       '[[server]]\nhost = "127.0.0.1"\n')
    profile = profiles.load(tmp_path / "tls.toml")
    groups: dict[tuple, list[Path]] = defaultdict(list)
    option_sets = {}
    for path, cert in roots:
        options = _only_anchor_options(kb, cert, profile)
        key = tuple(sorted(options.values().items()))  # roots needing the same options share a build
        option_sets.setdefault(key, options)
        groups[key].append(path)
    failed = []
    for index, (key, members) in enumerate(sorted(groups.items())):
        header = render_header(option_sets[key], kb, HeaderContext("corpus", "test"))
        judge = MbedtlsJudge(tree, header, tmp_path / str(index))
        real = judge.run([(str(i), path, None, None) for i, path in enumerate(members)])
        failed += [members[int(i)].name for i, got in real.items() if got.chain_ret != 0]
    print(f"mbedTLS {tree.version}: {len(roots) - len(failed)}/{len(roots)} roots parse with a header "
          f"generated for them alone ({len(groups)} distinct headers)")
    assert failed == []
