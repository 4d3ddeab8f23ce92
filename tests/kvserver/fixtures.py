"""pytest fixtures for tests that talk to :class:`tests.kvserver.KeyVaultServer`.

Registered for the whole suite by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.keyvault.secrets._shared import http_challenge_cache

from tests.kvserver.server import KeyVaultServer


@pytest.fixture(autouse=True)
def _fresh_challenge_cache() -> Iterator[None]:
    """The SDK caches Key Vault challenges per host for the whole process: tests that count
    challenges, or start a new server for the same host, must not inherit one."""
    http_challenge_cache.clear()
    yield
    http_challenge_cache.clear()


@pytest.fixture
def kv() -> Iterator[KeyVaultServer]:
    """A fresh Key Vault test server; fails the test if the server itself raised."""
    with KeyVaultServer() as server:
        yield server
        assert server.errors == [], "kvserver raised:\n" + "\n".join(server.errors)
