"""pytest fixtures for tests that talk to :class:`tests.kvserver.KeyVaultServer`.

Registered for the whole suite by ``tests/conftest.py``; only tests that start a server pay
for them (the SDK is imported by the fixture, not by this module).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kvserver.server import KeyVaultServer


def clear_challenge_cache() -> None:
    """The SDK caches Key Vault challenges per host for the whole process: a test that counts
    challenges, or starts a new server (another tenant) for the same host, must not inherit one.
    Whoever starts a server for the SDK in this process calls it first."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    http_challenge_cache.clear()


@pytest.fixture
def fresh_challenge_cache() -> Iterator[None]:
    """No challenge cached before the test, none left after it (the Azure tests use it)."""
    clear_challenge_cache()
    yield
    clear_challenge_cache()


@pytest.fixture
def kv(fresh_challenge_cache: None) -> Iterator[KeyVaultServer]:
    """A fresh Key Vault test server; fails the test if the server itself raised."""
    with KeyVaultServer() as server:
        yield server
        assert server.errors == [], "kvserver raised:\n" + "\n".join(server.errors)
