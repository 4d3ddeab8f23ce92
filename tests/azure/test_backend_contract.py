"""The backend contract: what every backend does, whichever it is.

One seed (two versions of ``db``, a ``cert`` with a content type, a disabled ``off`` where the
backend can disable) fills each backend: the file backend (a secrets file), the Azure backend
(the real SDK over HTTPS against ``tests.kvserver``, which is why the suite lives here),
:class:`avp_py.testing.MemoryBackend`, and the cross-run cache in front of each. The same tests
then hold all of them to the contract in ``avp_py.backends.base``: values and versions, missing
secrets and versions as SecretNotFoundError naming the reference, content types, no value in
any message, safe from several threads; and, for the backends that have them, ``fetch_state``
agreeing with ``fetch``, ``list_versions`` listing the seeded versions and ``list_names`` the
seeded secrets.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from avp_py.backends.base import (
    BackendContext,
    BackendStats,
    MetadataBackend,
    NameListingBackend,
    SecretBackend,
    VersionListingBackend,
)
from avp_py.backends.cache import CacheSettings, wrap
from avp_py.backends.cache.backend import CachingBackend
from avp_py.backends.file import CONTENT_TYPES
from avp_py.backends.file import create as create_file
from avp_py.errors import SecretNotFoundError
from avp_py.model import Deadline, MissingReason, SecretRef
from avp_py.testing import MemoryBackend
from tests.kvserver import KeyVaultServer
from tests.kvserver.fixtures import clear_challenge_cache

from .conftest import PROCESS_KEYS, build

VAULT = "contract-kv"
FIRST, SECOND = "SENTINEL-first-value", "SENTINEL-second-value"
PEM = "-----BEGIN CERTIFICATE-----\nSENTINEL-pem\n-----END CERTIFICATE-----\n"
PEM_TYPE = "application/x-pem-file"
OFF = "SENTINEL-disabled-value"
VALUES = (FIRST, SECOND, PEM, OFF)
UNKNOWN_VERSION = "f" * 32


class Sink(Protocol):
    """What seeding needs: the calls MemoryBackend and the Key Vault test server share."""

    def set_secret(
        self, vault: str, name: str, value: str, *, enabled: bool = ..., content_type: str | None
    ) -> str: ...


def seed(sink: Sink, *, disables: bool) -> dict[str, list[str]]:
    """Fill ``sink``; returns each secret's version ids, oldest first."""
    versions = {
        "db": [
            sink.set_secret(VAULT, "db", FIRST, content_type=None),
            sink.set_secret(VAULT, "db", SECOND, content_type=None),
        ],
        "cert": [sink.set_secret(VAULT, "cert", PEM, content_type=PEM_TYPE)],
    }
    if disables:
        versions["off"] = [sink.set_secret(VAULT, "off", OFF, enabled=False, content_type=None)]
    return versions


@dataclass
class FileSeed:
    """A Sink that writes what it is given as the file backend's secrets file."""

    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, dict[str, str]] = field(default_factory=dict)

    def set_secret(
        self, vault: str, name: str, value: str, *, enabled: bool = True, content_type: str | None
    ) -> str:
        assert enabled, "a secrets file cannot hold a disabled secret"
        version = f"{sum(len(keys) for keys in self.entries.values()) + 1:032x}"
        for entry in (vault, f"{vault}#{version}"):  # the latest, and this version
            self.entries.setdefault(entry, {})[name] = value
            if content_type is not None:
                self.types.setdefault(entry, {})[name] = content_type
        return version

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({**self.entries, CONTENT_TYPES: self.types}))


@dataclass
class Seeded:
    """A backend filled with the seed, and the version ids the seed got."""

    backend: SecretBackend
    versions: dict[str, list[str]]

    def ref(self, name: str, index: int | None = None) -> SecretRef:
        """``name`` at its latest version, or at its ``index``-th seeded version."""
        return SecretRef(VAULT, name, "" if index is None else self.versions[name][index])


def _deadline() -> Deadline:
    return Deadline(30.0, time.monotonic() + 30.0)


@pytest.fixture(scope="module")
def contract_kv() -> Iterator[KeyVaultServer]:
    """One test server for the module, seeded once (the tests only read)."""
    clear_challenge_cache()
    with KeyVaultServer() as server:
        yield server
        assert server.errors == [], "kvserver raised:\n" + "\n".join(server.errors)


@pytest.fixture(scope="module")
def kv_versions(contract_kv: KeyVaultServer) -> dict[str, list[str]]:
    return seed(contract_kv, disables=True)


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> Seeded:
    backend = MemoryBackend()
    return Seeded(backend, seed(backend, disables=True))


def _file(request: pytest.FixtureRequest, tmp_path: Path) -> Seeded:
    sink = FileSeed()
    versions = seed(sink, disables=False)
    sink.write(tmp_path / "secrets.json")
    options = {"AVP_FILE_PATH": str(tmp_path / "secrets.json")}
    return Seeded(create_file(BackendContext(options, _deadline(), 4)), versions)


def _azure(request: pytest.FixtureRequest, tmp_path: Path) -> Seeded:
    kv: KeyVaultServer = request.getfixturevalue("contract_kv")
    versions: dict[str, list[str]] = request.getfixturevalue("kv_versions")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    env = kv.client_env("managed")
    for name in PROCESS_KEYS:
        if name in env:
            monkeypatch.setenv(name, env[name])
    options = {k: v for k, v in env.items() if k not in PROCESS_KEYS}
    options["AVP_AZURE_CREDENTIAL"] = "managed"
    return Seeded(build(options, concurrency=8), versions)


Builder = Callable[[pytest.FixtureRequest, Path], Seeded]
BUILDERS: dict[str, Builder] = {"memory": _memory, "file": _file, "azure": _azure}
DISABLES = ("memory", "azure")  # the file backend has no notion of a disabled secret
HAS_STATE = ("memory", "file", "azure")  # MetadataBackend; the cache is fetch-only
LISTS_VERSIONS = ("memory", "azure")
LISTS_NAMES = ("memory", "file", "azure")
ALL = [*BUILDERS, *(f"cached-{name}" for name in BUILDERS)]


def _make(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Seeded:
    inner = BUILDERS[name.removeprefix("cached-")](request, tmp_path)
    if not name.startswith("cached-"):
        return inner
    settings = CacheSettings(str(tmp_path / "cache"), "k" * 40)
    cached = wrap(inner.backend, settings, f"contract-{name}", BackendStats(), _deadline())
    assert isinstance(cached, CachingBackend)
    return Seeded(cached, inner.versions)


@pytest.fixture
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    made = _make(request.param, request, tmp_path)
    yield made
    made.backend.close()
    # Nothing a test did may have left credentials in the process environment.
    assert not [name for name in os.environ if name.startswith("AZURE_")]


def backends(*names: str) -> Any:
    """Parametrise a test over these backends; those against the server are marked keyvault."""
    marked = [pytest.param(n, marks=pytest.mark.keyvault) if "azure" in n else n for n in names]
    return pytest.mark.parametrize("seeded", marked, indirect=True)


@backends(*ALL)
def test_the_latest_version_is_the_one_set_last(seeded: Seeded) -> None:
    for _ in range(2):  # the second time from the cache, for the cached backends
        value = seeded.backend.fetch(seeded.ref("db"))
        assert value.reveal() == SECOND
        # a backend that knows the concrete version reports it; the file backend knows none
        assert value.version in (None, seeded.versions["db"][-1])


@backends(*ALL)
def test_a_pinned_version_gives_that_version(seeded: Seeded) -> None:
    for _ in range(2):
        value = seeded.backend.fetch(seeded.ref("db", 0))
        assert (value.reveal(), value.version) == (FIRST, seeded.versions["db"][0])


@backends(*ALL)
def test_the_content_type_comes_with_the_value(seeded: Seeded) -> None:
    for _ in range(2):
        value = seeded.backend.fetch(seeded.ref("cert"))
        assert (value.reveal(), value.content_type) == (PEM, PEM_TYPE)
    assert seeded.backend.fetch(seeded.ref("db")).content_type is None


@backends(*ALL)
def test_a_missing_secret_or_version_is_secret_not_found_naming_the_reference(
    seeded: Seeded,
) -> None:
    for ref in (SecretRef(VAULT, "absent"), SecretRef(VAULT, "db", UNKNOWN_VERSION)):
        for _ in range(2):  # never cached
            with pytest.raises(SecretNotFoundError) as caught:
                seeded.backend.fetch(ref)
            assert caught.value.ref == ref
            assert ref.describe() in str(caught.value)


@backends(*(name for name in ALL if name.removeprefix("cached-") in DISABLES))
def test_a_disabled_version_is_not_served(seeded: Seeded) -> None:
    for ref in (seeded.ref("off"), seeded.ref("off", 0)):
        with pytest.raises(SecretNotFoundError) as caught:
            seeded.backend.fetch(ref)
        assert caught.value.reason is MissingReason.DISABLED
        assert OFF not in str(caught.value)


@backends(*ALL)
def test_the_seeded_references_are_valid(seeded: Seeded) -> None:
    for name, versions in seeded.versions.items():
        for index in (None, *range(len(versions))):
            assert seeded.backend.validate(seeded.ref(name, index)) is None


@backends(*ALL)
def test_no_value_in_a_repr_or_message(seeded: Seeded) -> None:
    shown = [repr(seeded.backend), repr(seeded.backend.fetch(seeded.ref("db")))]
    for ref in (
        SecretRef(VAULT, "absent"),
        *([seeded.ref("off")] if "off" in seeded.versions else []),
    ):
        try:
            seeded.backend.fetch(ref)
        except SecretNotFoundError as exc:
            shown += [str(exc), repr(exc)]
    assert not [value for value in VALUES for text in shown if value in text]


@backends(*ALL)
def test_fetches_from_several_threads_agree(seeded: Seeded) -> None:
    refs = [seeded.ref("db"), seeded.ref("db", 0), seeded.ref("cert")] * 8
    with ThreadPoolExecutor(8) as pool:
        values = list(pool.map(lambda ref: seeded.backend.fetch(ref).reveal(), refs))
    assert values == [SECOND, FIRST, PEM] * 8


@backends(*HAS_STATE)
def test_the_state_of_a_reference_agrees_with_fetching_it(seeded: Seeded) -> None:
    backend = seeded.backend
    assert isinstance(backend, MetadataBackend)
    expected = {
        seeded.ref("db"): None,
        seeded.ref("db", 0): None,
        seeded.ref("cert"): None,
        SecretRef(VAULT, "absent"): MissingReason.NOT_FOUND,
        SecretRef(VAULT, "db", UNKNOWN_VERSION): MissingReason.VERSION_NOT_FOUND,
    }
    if "off" in seeded.versions:
        expected[seeded.ref("off")] = expected[seeded.ref("off", 0)] = MissingReason.DISABLED
    for ref, reason in expected.items():
        state = backend.fetch_state(ref)
        assert (state.usable, state.reason) == (reason is None, reason), ref
        assert state.exists == (
            reason is not MissingReason.NOT_FOUND and reason is not MissingReason.VERSION_NOT_FOUND
        ), ref
        if state.usable:
            fetched = backend.fetch(ref)
            assert state.version in (None, fetched.version), ref
        else:
            with pytest.raises(SecretNotFoundError):
                backend.fetch(ref)


@backends(*LISTS_VERSIONS)
def test_the_versions_listed_are_the_versions_set(seeded: Seeded) -> None:
    backend = seeded.backend
    assert isinstance(backend, VersionListingBackend)
    for name, versions in seeded.versions.items():
        listed = backend.list_versions(seeded.ref(name))
        assert sorted(info.version for info in listed) == sorted(versions)
        assert all(info.enabled == (name != "off") for info in listed)
        assert all(info.created is not None for info in listed)
    assert list(backend.list_versions(SecretRef(VAULT, "absent"))) == []


@backends(*LISTS_NAMES)
def test_the_names_listed_are_the_secrets_set(seeded: Seeded) -> None:
    backend = seeded.backend
    assert isinstance(backend, NameListingBackend)
    assert sorted(backend.list_names(seeded.ref("db"))) == sorted(seeded.versions)
