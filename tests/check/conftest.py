"""Fixtures for ``avp-py check`` end to end: the catalogue, the file backend, and the Key Vault
test server (one per module) reached through the real Azure SDK, as tests/keyvault does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.isolation import is_inherited_setting
from tests.kvserver import KeyVaultServer

CATALOGUE = Path(__file__).parent / "catalogue"
SECRETS_FILE = CATALOGUE / "secrets.yaml"


def catalogue() -> dict[str, Any]:
    data = yaml.safe_load((CATALOGUE / "catalogue.yaml").read_text())
    assert isinstance(data, dict)
    return data


def sentinels() -> list[str]:
    """Every value of the catalogue's vault: none may appear in any output."""
    data = yaml.safe_load(SECRETS_FILE.read_text())
    return [str(value) for vault in data.values() for value in vault.values()]


def clean_env(**values: str) -> dict[str, str | None]:
    """A CliRunner environment: inherited settings removed, ``values`` set."""
    env: dict[str, str | None] = {name: None for name in os.environ if is_inherited_setting(name)}
    env.update(values)
    return env


def file_env(secrets: Path = SECRETS_FILE, **values: str) -> dict[str, str | None]:
    return clean_env(AVP_TYPE="file", AVP_FILE_PATH=str(secrets), **values)


@pytest.fixture(scope="module")
def kv() -> Iterator[KeyVaultServer]:
    """The Key Vault test server, loaded with the catalogue's vault (sentinel values)."""
    spec = catalogue()
    with KeyVaultServer() as server:
        for vault, secrets in yaml.safe_load(SECRETS_FILE.read_text()).items():
            for name, value in secrets.items():
                server.set_secret(vault, name, str(value))
        for name in spec["disabled"]:
            server.set_enabled(spec["vault"], name, False)
        yield server
        assert server.errors == [], "kvserver raised:\n" + "\n".join(server.errors)


@pytest.fixture
def azure_env(kv: KeyVaultServer) -> dict[str, str | None]:
    """Settings for ``AVP_TYPE=azurekeyvault`` with a managed identity, via the test server."""
    kv.reset_counters()
    return clean_env(
        AVP_TYPE="azurekeyvault",
        AVP_AZURE_CREDENTIAL="managed",
        AVP_TIMEOUT_SECONDS="20",
        **kv.client_env("managed"),
    )
