"""Fixtures for the check's catalogue: the Key Vault test server loaded with its vault (one per
module), reached through the real Azure SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kvserver import KeyVaultServer
from tests.kvserver.fixtures import clear_challenge_cache

from .spec import azure_env as catalogue_azure_env
from .spec import load_vault


@pytest.fixture(scope="module")
def kv() -> Iterator[KeyVaultServer]:
    """The Key Vault test server, loaded with the catalogue's vault (sentinel values)."""
    clear_challenge_cache()  # the checks run the SDK in this process (CliRunner)
    with KeyVaultServer() as server:
        load_vault(server)
        yield server
        assert server.errors == [], "kvserver raised:\n" + "\n".join(server.errors)


@pytest.fixture
def azure_env(kv: KeyVaultServer) -> dict[str, str | None]:
    """Settings for ``AVP_TYPE=azurekeyvault`` with a managed identity, via the test server."""
    return catalogue_azure_env(kv)
