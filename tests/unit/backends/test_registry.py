"""The backend registry: one entry per backend carries its factory, the setting names it owns
and its identity (the cross-run cache's namespace)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from avp_py import backends
from avp_py.backends import BUILTIN, BackendEntry
from avp_py.errors import ConfigError

AZURE = {
    "AVP_AZURE_CREDENTIAL": "workload",
    "AZURE_CLIENT_ID": "client-a",
    "AZURE_CLIENT_SECRET": "s3cret-value",
    "AVP_FILE_PATH": "secrets.yaml",
    "AVP_TIMEOUT_SECONDS": "20",
    "VAULT_ADDR": "https://vault.example",
}


def test_every_builtin_entry_names_itself_and_loads_its_factory() -> None:
    for name, entry in BUILTIN.items():
        assert entry.name == name
        assert callable(entry.load())
        assert backends.load_factory(name) is entry.load()


def test_the_azure_identity_is_its_credential_settings() -> None:
    identity = BUILTIN["azurekeyvault"].identity(AZURE)
    assert identity.options == (
        ("AVP_AZURE_CREDENTIAL", "workload"),
        ("AZURE_CLIENT_ID", "client-a"),
        ("AZURE_CLIENT_SECRET", "s3cret-value"),
    )
    assert identity.namespace == (
        '["azurekeyvault", [["AVP_AZURE_CREDENTIAL", "workload"], ["AZURE_CLIENT_ID", "client-a"],'
        ' ["AZURE_CLIENT_SECRET", "s3cret-value"]]]'
    )
    other = BUILTIN["azurekeyvault"].identity({**AZURE, "AZURE_CLIENT_ID": "client-b"})
    assert other.namespace != identity.namespace
    tuning = BUILTIN["azurekeyvault"].identity({**AZURE, "AVP_TIMEOUT_SECONDS": "5"})
    assert tuning == identity  # a knob that does not choose the secrets is not the identity


def test_the_file_identity_is_the_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    identity = BUILTIN["file"].identity(AZURE)
    assert identity.options == (("AVP_FILE_PATH", os.path.join(str(tmp_path), "secrets.yaml")),)
    monkeypatch.chdir(tmp_path.parent)
    assert BUILTIN["file"].identity(AZURE) != identity  # another directory, another file


def test_an_identity_never_shows_its_options() -> None:
    identity = BUILTIN["azurekeyvault"].identity(AZURE)
    assert "s3cret-value" not in repr(identity)


def test_setting_prefixes_come_from_the_registry() -> None:
    assert "AZURE" in backends.key_prefixes()
    assert set(backends.AVP_BACKEND_PREFIXES) <= set(backends.key_prefixes())
    assert not [p for p in backends.key_prefixes() if p.startswith("AVP_")]


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Must provide a supported Vault Type"):
        backends.entry("nope")


def test_a_plugin_identity_is_every_setting() -> None:
    entry = BackendEntry("plugin", "json:loads", identity_prefixes=("",))
    assert dict(entry.identity(AZURE).options) == AZURE
    assert entry.load() is __import__("json").loads
