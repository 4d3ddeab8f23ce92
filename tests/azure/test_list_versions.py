"""The Azure backend's version listing (``VersionListingBackend``, for ``avp-py watch``),
through the real SDK against the Key Vault test server: metadata only, never a value."""

from __future__ import annotations

import pytest

from avp_py.backends.base import VersionListingBackend, latest_candidates
from avp_py.errors import BackendAuthError
from avp_py.model import SecretRef
from tests.kvserver import KeyVaultServer

from .conftest import BackendFactory

pytestmark = pytest.mark.keyvault

VAULT = "myvault"


def test_every_version_is_listed_with_its_state_and_no_value(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    old = kv.set_secret(VAULT, "db", "sentinel-old-value")
    new = kv.set_secret(VAULT, "db", "sentinel-new-value")
    kv.set_enabled(VAULT, "db", False, version=old)
    backend = make_backend()
    assert isinstance(backend, VersionListingBackend)
    versions = backend.list_versions(SecretRef(VAULT, "db", "0" * 32))
    assert {(v.version, v.enabled) for v in versions} == {(old, False), (new, True)}
    assert all(v.created is not None for v in versions)
    assert "sentinel" not in repr(versions)
    assert kv.counts(VAULT, "list_versions") == 1 and kv.counts(VAULT, "get") == 0


def test_many_versions_are_paged_through(kv: KeyVaultServer, make_backend: BackendFactory) -> None:
    ids = [kv.set_secret(VAULT, "busy", f"v{i}") for i in range(30)]  # Key Vault pages by 25
    versions = make_backend().list_versions(SecretRef(VAULT, "busy"))
    assert sorted(v.version for v in versions) == sorted(ids)
    assert kv.counts(VAULT, "list_versions") == 2
    candidates = latest_candidates(versions)
    assert candidates is not None and ids[-1] in {c.version for c in candidates}


def test_a_secret_that_does_not_exist_has_no_versions(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "other", "x")
    assert make_backend().list_versions(SecretRef(VAULT, "never-created")) == []


def test_an_identity_that_may_not_list_is_told_what_to_grant(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "db", "sentinel-value")
    kv.deny(VAULT, permissions=["list"])
    with pytest.raises(BackendAuthError, match="may not list the versions of secret db") as caught:
        make_backend().list_versions(SecretRef(VAULT, "db"))
    assert "Key Vault Reader" in str(caught.value)
    assert kv.counts(VAULT, "get") == 0, "never falls back to reading the value"
