"""The committed knowledge base: it regenerates byte for byte, loads, and every suite's
recorded option set really compiles that suite in (the real preprocessor decides)."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from configgen import kb, mbedbuild
from configgen.errors import KnowledgeBaseError
from configgen.kb import extract
from configgen.kb.model import data_name
from kb_support import bare_header


@pytest.mark.mbedtls
def test_committed_knowledge_base_regenerates_byte_for_byte(tree):
    committed = resources.files("configgen.kb").joinpath(data_name(tree.line)).read_text()
    assert extract.dumps(extract.extract(tree)) == committed, "run 'configgen kb extract'"


def test_load_gives_the_line_it_names():
    for line, version in (("2.28", "2.28.3"), ("3.6", "3.6.6")):
        base = kb.load(line)
        assert (base.line, base.version) == (line, version)
        assert base.option("MBEDTLS_SSL_TLS_C").default_enabled
    assert len(kb.load("2.28").suites) == 207
    assert len(kb.load("3.6").suites) == 190
    print("suites: 2.28.3 =", len(kb.load("2.28").suites), "3.6.6 =", len(kb.load("3.6").suites))


def test_hash_option_names_follow_the_line():
    assert kb.load("2.28").option("MBEDTLS_SHA384_C") is None
    assert kb.load("3.6").option("MBEDTLS_SHA384_C") is not None
    assert kb.load("2.28").option("MBEDTLS_SSL_MAX_CONTENT_LEN") is not None
    assert kb.load("3.6").option("MBEDTLS_SSL_MAX_CONTENT_LEN") is None


def test_unknown_line_is_one_clear_error():
    with pytest.raises(KnowledgeBaseError, match="no knowledge base for mbedTLS 4.0"):
        kb.load("4.0")


def _surviving_names(preprocessed: str) -> set[str]:
    return set(re.findall(r'"(TLS[A-Z0-9_-]+)"', preprocessed))


@pytest.mark.mbedtls
def test_every_suite_compiles_in_with_its_recorded_options(tree):
    """Preprocess ssl_ciphersuites.c with just the suite's option set (closed over the
    dependency rules): check_config accepts it and the suite is in the table."""
    base = kb.load(tree.line)
    kept = 0
    for suite in base.suites:
        header = bare_header(base, dict.fromkeys(suite.requires))
        output = mbedbuild.preprocess(tree, header, "library/ssl_ciphersuites.c")
        assert suite.name in _surviving_names(output), f"{suite.hex} {suite.name}"
        kept += 1
    print(f"mbedTLS {tree.version}: {kept}/{len(base.suites)} suites kept by their option sets")
