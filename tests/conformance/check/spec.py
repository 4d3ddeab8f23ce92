"""The check's catalogue of mistakes (``catalogue/``): its spec, its vault and the environments
the catalogue tests run ``avp-py check`` in (file backend, or Azure via the test server)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

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


def load_vault(server: KeyVaultServer) -> None:
    """Put the catalogue's vault into ``server``: sentinel values, some disabled, expired or not
    yet valid, one a certificate (a managed secret)."""
    spec = catalogue()
    for vault, secrets in yaml.safe_load(SECRETS_FILE.read_text()).items():
        for name, value in secrets.items():
            if name in spec["certificates"]:
                server.import_certificate(vault, name, str(value), "application/x-pem-file")
            else:
                server.set_secret(vault, name, str(value))
    vault, year = spec["vault"], 365 * 86_400
    for name in spec["disabled"]:
        server.set_enabled(vault, name, False)
    for name in spec["expired"]:
        server.set_validity(vault, name, expires=int(time.time()) - year)
    for name in spec["not_yet_valid"]:
        server.set_validity(vault, name, not_before=int(time.time()) + year)


def azure_env(server: KeyVaultServer) -> dict[str, str | None]:
    """Settings for ``AVP_TYPE=azurekeyvault`` with a managed identity, via the test server."""
    server.reset_counters()
    return clean_env(
        AVP_TYPE="azurekeyvault",
        AVP_AZURE_CREDENTIAL="managed",
        AVP_TIMEOUT_SECONDS="20",
        **server.client_env("managed"),
    )
