"""Shared fixtures: the real mbedTLS source trees every slower test compiles against."""

from __future__ import annotations

import pytest

from configgen import sources

LINES = ("2.28", "3.6")
# The releases CI builds and tests against: each line's knowledge-base release and 3.6.7.
TESTED_RELEASES = sources.TESTED_RELEASES


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files instead of comparing"
    )


@pytest.fixture(scope="session", params=LINES)
def tree(request: pytest.FixtureRequest) -> sources.SourceTree:
    """Each supported mbedTLS line's source tree (fetched into the cache when missing)."""
    return sources.find_tree(request.param)


@pytest.fixture(scope="session")
def trees() -> dict[str, sources.SourceTree]:
    return {line: sources.find_tree(line) for line in LINES}


@pytest.fixture(scope="session", params=TESTED_RELEASES)
def release_tree(request: pytest.FixtureRequest) -> sources.SourceTree:
    """Each tested release's source tree (2.28.3, 3.6.6, 3.6.7), fetched when missing."""
    return sources.find_tree(request.param)
