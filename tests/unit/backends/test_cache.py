"""The cross-run cache: freshness rules, encryption at rest, permissions, failure tolerance."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from avp_py.backends.base import BackendStats
from avp_py.backends.cache import CacheSettings, wrap
from avp_py.backends.cache.store import FILENAME
from avp_py.errors import SecretNotFoundError
from avp_py.model import SecretRef, SecretValue

KEY = "k" * 40
SENTINEL = "SENTINEL-VALUE-7f3a91"


class CountingBackend:
    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, ref: SecretRef) -> SecretValue:
        self.calls += 1
        if ref.key == "absent":
            raise SecretNotFoundError(ref.describe())
        return SecretValue({"nested": [SENTINEL, 1]} if ref.key == "map" else SENTINEL, "v9")

    def validate(self, ref: SecretRef) -> str | None:
        return "bad" if ref.key == "invalid" else None

    def close(self) -> None:
        pass


def _cached(tmp_path: Path, ttl: float = 60.0, namespace: str = "ns", key: str = KEY):
    inner = CountingBackend()
    stats = BackendStats()
    backend = wrap(inner, CacheSettings(str(tmp_path / "c"), key, ttl, 100), namespace, stats)
    return backend, inner, stats


LATEST = SecretRef("kv", "name")
PINNED = SecretRef("kv", "name", "0" * 32)


def test_second_run_is_served_from_the_cache(tmp_path: Path) -> None:
    first, inner, _ = _cached(tmp_path)
    assert first.fetch(PINNED).reveal() == SENTINEL
    first.close()
    second, inner2, stats = _cached(tmp_path)
    value = second.fetch(PINNED)
    assert (value.reveal(), value.version) == (SENTINEL, "v9")
    assert (inner2.calls, stats.get("cache_hits")) == (0, 1)
    second.close()


def test_latest_expires_after_the_ttl_pinned_does_not(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path)
    first.fetch(LATEST)
    first.fetch(PINNED)
    first.close()
    second, inner, _ = _cached(tmp_path, ttl=0.0)
    second.fetch(LATEST)
    second.fetch(PINNED)
    assert inner.calls == 1  # only "latest" went back to the backend
    second.close()


def test_values_of_any_type_round_trip(tmp_path: Path) -> None:
    ref = SecretRef("kv", "map")
    for _ in range(2):
        backend, _, _ = _cached(tmp_path)
        assert backend.fetch(ref).reveal() == {"nested": [SENTINEL, 1]}
        backend.close()


def test_missing_secrets_are_not_cached(tmp_path: Path) -> None:
    backend, inner, _ = _cached(tmp_path)
    for _ in range(2):
        with pytest.raises(SecretNotFoundError):
            backend.fetch(SecretRef("kv", "absent"))
    assert inner.calls == 2
    assert backend.validate(SecretRef("kv", "invalid")) == "bad"
    backend.close()


def test_values_are_encrypted_at_rest_and_files_are_private(tmp_path: Path) -> None:
    backend, _, _ = _cached(tmp_path)
    backend.fetch(PINNED)
    directory = tmp_path / "c"
    files = list(directory.iterdir())
    for file in files:  # the database, and its WAL while it is open
        assert SENTINEL.encode() not in file.read_bytes()
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    backend.close()


def test_an_existing_open_directory_is_made_private(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    backend, _, _ = _cached(tmp_path)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    backend.close()


def test_a_new_key_empties_the_cache(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path)
    first.fetch(PINNED)
    first.close()
    second, inner, _ = _cached(tmp_path, key="x" * 40)
    second.fetch(PINNED)
    assert inner.calls == 1
    second.close()


def test_a_short_key_disables_the_cache(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend, inner, _ = _cached(tmp_path, key="short")
    assert isinstance(backend, CountingBackend)
    assert not (tmp_path / "c").exists()
    assert "AVP_CACHE_KEY" in caplog.text


def test_namespaces_do_not_share_entries(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path, namespace="identity-a")
    first.fetch(PINNED)
    first.close()
    second, inner, _ = _cached(tmp_path, namespace="identity-b")
    second.fetch(PINNED)
    assert inner.calls == 1
    second.close()


def test_a_tampered_entry_is_refetched(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path)
    first.fetch(PINNED)
    first.close()
    with sqlite3.connect(tmp_path / "c" / FILENAME) as db:
        db.execute("UPDATE entries SET payload = zeroblob(40)")
    db.close()
    second, inner, _ = _cached(tmp_path)
    assert second.fetch(PINNED).reveal() == SENTINEL
    assert inner.calls == 1
    second.close()


def test_a_corrupt_database_disables_the_cache(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    (directory / FILENAME).write_bytes(os.urandom(4096))
    backend, inner, _ = _cached(tmp_path)
    assert backend.fetch(PINNED).reveal() == SENTINEL
    assert inner.calls == 1
    backend.close()


def test_the_number_of_entries_is_bounded(tmp_path: Path) -> None:
    inner = CountingBackend()
    backend = wrap(inner, CacheSettings(str(tmp_path / "c"), KEY, 60, 5), "ns", BackendStats())
    for index in range(12):
        backend.fetch(SecretRef("kv", f"s{index}", "0" * 32))
    backend.close()
    with sqlite3.connect(tmp_path / "c" / FILENAME) as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 5
    db.close()
