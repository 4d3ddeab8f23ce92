"""The cross-run cache: freshness rules, encryption at rest, permissions, failure tolerance."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from avp_py.backends.base import BackendStats
from avp_py.backends.cache import CacheSettings, wrap
from avp_py.backends.cache.store import FILENAME, EncryptedStore
from avp_py.errors import BackendUnavailableError, SecretNotFoundError
from avp_py.model import Deadline, SecretRef
from avp_py.testing import MemoryBackend

KEY = "k" * 40
SENTINEL = "SENTINEL-VALUE-7f3a91"
V9 = "9" * 32


def _inner(
    content_type: str | None = None, on_request: Callable[[str, SecretRef], None] | None = None
) -> MemoryBackend:
    """``kv#name`` (one version, ``V9``), ``kv#map`` (a mapping), ``kv#s0`` … ``kv#s11``,
    ``kv#other``; ``kv#absent`` does not exist and ``kv#invalid`` is never valid."""
    backend = MemoryBackend(
        invalid=lambda ref: "bad" if ref.key == "invalid" else None, on_request=on_request
    )
    backend.set_secret("kv", "name", SENTINEL, version=V9, content_type=content_type)
    backend.set_secret("kv", "map", {"nested": [SENTINEL, 1]}, version=V9)
    for index in range(12):
        backend.set_secret("kv", f"s{index}", SENTINEL, version=V9)
    backend.set_secret("kv", "other", SENTINEL, version=V9)
    return backend


def _deadline(seconds: float = 30.0) -> Deadline:
    return Deadline(seconds, time.monotonic() + seconds)


def _cached(
    tmp_path: Path,
    ttl: float = 60.0,
    namespace: str = "ns",
    key: str = KEY,
    pinned_ttl: float = 600.0,
    deadline: Deadline | None = None,
):
    inner = _inner()
    stats = BackendStats()
    settings = CacheSettings(str(tmp_path / "c"), key, ttl, 100, pinned_ttl)
    backend = wrap(inner, settings, namespace, stats, deadline or _deadline())
    return backend, inner, stats


LATEST = SecretRef("kv", "name")
PINNED = SecretRef("kv", "name", V9)


def test_second_run_is_served_from_the_cache(tmp_path: Path) -> None:
    first, inner, _ = _cached(tmp_path)
    assert first.fetch(PINNED).reveal() == SENTINEL
    first.close()
    second, inner2, stats = _cached(tmp_path)
    value = second.fetch(PINNED)
    assert (value.reveal(), value.version) == (SENTINEL, V9)
    assert (len(inner2.fetched()), stats.get("cache_hits")) == (0, 1)
    second.close()


def test_misses_are_counted_beside_hits(tmp_path: Path) -> None:
    # --verbose reports both (issue 10 item 6).
    first, _, stats = _cached(tmp_path)
    first.fetch(PINNED)
    first.fetch(LATEST)
    first.fetch(PINNED)
    assert (stats.get("cache_misses"), stats.get("cache_hits")) == (2, 1)
    first.close()


def test_latest_and_pinned_expire_after_their_own_ttl(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path)
    first.fetch(LATEST)
    first.fetch(PINNED)
    first.close()
    second, inner, _ = _cached(tmp_path, ttl=0.0)
    second.fetch(LATEST)
    second.fetch(PINNED)
    assert len(inner.fetched()) == 1  # only "latest" went back to the backend
    second.close()
    # Issue 11, item 9: a pinned version can be disabled (revoked); it expires too.
    third, inner, _ = _cached(tmp_path, pinned_ttl=0.0)
    third.fetch(LATEST)
    third.fetch(PINNED)
    assert len(inner.fetched()) == 1  # only the pinned one
    third.close()


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
    assert len(inner.fetched()) == 2
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


def test_an_existing_open_directory_is_refused_never_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 11, item 10: never chmod a directory avp-py did not create.
    directory = tmp_path / "c"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    backend, inner, _ = _cached(tmp_path)
    assert isinstance(backend, MemoryBackend)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o755
    assert list(directory.iterdir()) == []
    assert "is open to other users (mode 0755)" in caplog.text


def test_a_new_key_empties_the_cache(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path)
    first.fetch(PINNED)
    first.close()
    second, inner, _ = _cached(tmp_path, key="x" * 40)
    second.fetch(PINNED)
    assert len(inner.fetched()) == 1
    second.close()


def test_a_short_key_disables_the_cache(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend, inner, _ = _cached(tmp_path, key="short")
    assert isinstance(backend, MemoryBackend)
    assert not (tmp_path / "c").exists()
    assert "AVP_CACHE_KEY" in caplog.text


def test_namespaces_do_not_share_entries(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path, namespace="identity-a")
    first.fetch(PINNED)
    first.close()
    second, inner, _ = _cached(tmp_path, namespace="identity-b")
    second.fetch(PINNED)
    assert len(inner.fetched()) == 1
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
    assert len(inner.fetched()) == 1
    second.close()


def test_a_corrupt_database_disables_the_cache(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    (directory / FILENAME).write_bytes(os.urandom(4096))
    backend, inner, _ = _cached(tmp_path)
    assert backend.fetch(PINNED).reveal() == SENTINEL
    assert len(inner.fetched()) == 1
    backend.close()


def test_the_number_of_entries_is_bounded(tmp_path: Path) -> None:
    inner = _inner()
    settings = CacheSettings(str(tmp_path / "c"), KEY, 60, 5)
    backend = wrap(inner, settings, "ns", BackendStats(), _deadline())
    for index in range(12):
        backend.fetch(SecretRef("kv", f"s{index}", V9))
    backend.close()
    with sqlite3.connect(tmp_path / "c" / FILENAME) as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 5
    db.close()


# ---------------------------------------------------------------- issue 11, item 10


def _filled(tmp_path: Path) -> None:
    first, _, _ = _cached(tmp_path)
    first.fetch(PINNED)
    first.fetch(LATEST)
    first.close()


def _sql(tmp_path: Path, *statements: str) -> None:
    db = sqlite3.connect(tmp_path / "c" / FILENAME)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


# The schema says NOT NULL; a tampered file need not keep it.
NULLABLE_META = (
    "CREATE TABLE m2 (name TEXT PRIMARY KEY, value BLOB)",
    "INSERT INTO m2 SELECT * FROM meta",
    "DROP TABLE meta",
    "ALTER TABLE m2 RENAME TO meta",
)


@pytest.mark.parametrize(
    "damage",
    [
        (*NULLABLE_META, "UPDATE meta SET value = NULL WHERE name = 'salt'"),
        ("UPDATE meta SET value = 'not bytes' WHERE name = 'salt'",),
        ("UPDATE meta SET value = x'00' WHERE name = 'salt'",),
        ("UPDATE meta SET value = 42 WHERE name = 'salt'",),
        ("DELETE FROM meta WHERE name = 'salt'",),
        (*NULLABLE_META, "UPDATE meta SET value = NULL WHERE name = 'check'"),
        ("UPDATE meta SET value = x'00' WHERE name = 'check'",),
    ],
)
def test_a_damaged_meta_table_starts_the_cache_afresh(
    tmp_path: Path, damage: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    _filled(tmp_path)
    _sql(tmp_path, *damage)
    second, inner, _ = _cached(tmp_path)
    assert not isinstance(second, MemoryBackend), caplog.text  # the cache is still used
    assert second.fetch(PINNED).reveal() == SENTINEL
    assert len(inner.fetched()) == 1  # nothing from before was served
    second.close()
    third, inner, stats = _cached(tmp_path)  # and the rebuilt cache works again
    assert third.fetch(PINNED).reveal() == SENTINEL
    assert (len(inner.fetched()), stats.get("cache_hits")) == (0, 1)
    third.close()


def test_a_tampered_stored_at_makes_the_entry_unreadable(tmp_path: Path) -> None:
    # stored_at is authenticated: a "latest" value cannot be kept fresh by moving it forward.
    _filled(tmp_path)
    _sql(tmp_path, f"UPDATE entries SET stored_at = {time.time() + 3600}")
    second, inner, _ = _cached(tmp_path)
    second.fetch(LATEST)
    second.fetch(PINNED)
    assert len(inner.fetched()) == 2
    second.close()


def test_an_entry_from_the_future_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Written by a clock that was ahead (or is now set back): authentic, but not fresh.
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    _filled(tmp_path)
    monkeypatch.undo()
    second, inner, _ = _cached(tmp_path)
    second.fetch(LATEST)
    second.fetch(PINNED)
    assert len(inner.fetched()) == 2
    second.close()


def test_entries_of_an_older_schema_are_dropped_not_fatal(tmp_path: Path) -> None:
    # What avp-py wrote before issue 11: user_version 0, stored_at outside the AEAD.
    _filled(tmp_path)
    _sql(tmp_path, "PRAGMA user_version = 0")
    second, inner, stats = _cached(tmp_path)
    assert second.fetch(PINNED).reveal() == SENTINEL
    assert (len(inner.fetched()), stats.get("cache_hits")) == (1, 0)
    second.close()
    db = sqlite3.connect(tmp_path / "c" / FILENAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 1
    db.close()


def test_an_entry_sealed_the_old_way_is_ignored(tmp_path: Path) -> None:
    # Sealed as before issue 11 (associated data: the lookup key only) inside a current store.
    _filled(tmp_path)
    store = EncryptedStore(str(tmp_path / "c"), KEY, 100, _deadline())
    key = store._key(json.dumps(["ns", PINNED.path, PINNED.key, PINNED.version]))
    nonce = os.urandom(12)
    sealed = store._aead.encrypt(nonce, b'{"v": "stale", "version": "v9"}', key)
    store.close()
    _sql(tmp_path, "DELETE FROM entries")
    db = sqlite3.connect(tmp_path / "c" / FILENAME)
    with db:
        db.execute("INSERT INTO entries VALUES (?, ?, ?, ?)", (key, nonce, sealed, time.time()))
    db.close()
    second, inner, _ = _cached(tmp_path)
    assert second.fetch(PINNED).reveal() == SENTINEL
    assert len(inner.fetched()) == 1
    second.close()


@pytest.mark.parametrize("where", ["directory", FILENAME, FILENAME + "-wal", FILENAME + "-shm"])
def test_symlinks_at_or_inside_the_cache_directory_are_refused(
    tmp_path: Path, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 11, item 10: they were followed, and their targets chmod-ed.
    target = tmp_path / "target"
    target.mkdir()
    (target / "victim").write_text("keep me")
    target.chmod(0o755)
    (target / "victim").chmod(0o644)
    directory = tmp_path / "c"
    if where == "directory":
        directory.symlink_to(target, target_is_directory=True)
    else:
        directory.mkdir(mode=0o700)
        (directory / where).symlink_to(target / "victim")
    backend, inner, _ = _cached(tmp_path)
    assert isinstance(backend, MemoryBackend)  # no cache, the run goes on
    assert backend.fetch(PINNED).reveal() == SENTINEL
    assert "is a symlink; refusing to follow it" in caplog.text
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "victim").stat().st_mode) == 0o644
    assert (target / "victim").read_text() == "keep me"
    assert sorted(p.name for p in target.iterdir()) == ["victim"]


def _expiring(deadline: Deadline) -> MemoryBackend:
    """Like a real backend: a fetch after the deadline fails (BackendUnavailableError)."""

    def check(operation: str, ref: SecretRef) -> None:
        if deadline.remaining(time.monotonic()) <= 0:
            raise BackendUnavailableError("the deadline ran out")

    return _inner(on_request=check)


def test_a_locked_database_costs_a_share_of_the_time_left_then_is_bypassed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _filled(tmp_path)
    holder = sqlite3.connect(tmp_path / "c" / FILENAME, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM entries WHERE 0")  # takes the lock and keeps it
    try:
        deadline = _deadline(2.0)  # shorter than the fixed 10 s wait this replaces
        inner = _expiring(deadline)
        settings = CacheSettings(str(tmp_path / "c"), KEY, 60, 100)
        backend = wrap(inner, settings, "ns", BackendStats(), deadline)
        for ref in (PINNED, LATEST, SecretRef("kv", "other")):
            assert backend.fetch(ref).reveal() == SENTINEL
        backend.close()
    finally:
        holder.close()
    assert len(inner.fetched()) == 3
    assert "locked" in caplog.text


def test_the_content_type_is_kept(tmp_path: Path) -> None:
    """The certificate modifiers read it (issue 15): a cached value must keep it."""
    for expected_calls in (1, 0):
        inner = _inner(content_type="application/x-pkcs12")
        settings = CacheSettings(str(tmp_path / "c"), KEY, 60, 100)
        backend = wrap(inner, settings, "ns", BackendStats(), _deadline())
        value = backend.fetch(PINNED)
        assert (value.version, value.content_type) == (V9, "application/x-pkcs12")
        assert len(inner.fetched()) == expected_calls
        backend.close()


def test_entries_of_the_format_without_content_types_are_not_read(tmp_path: Path) -> None:
    """Before issue 15 an entry's name had no format tag and its payload no content type: a
    pinned entry would serve a certificate without its content type until it expired."""
    store = EncryptedStore(str(tmp_path / "c"), KEY, 100, _deadline())
    old_name = json.dumps(["ns", PINNED.path, PINNED.key, PINNED.version])
    store.put(old_name, json.dumps({"v": SENTINEL, "version": "v9"}).encode())
    store.close()
    backend, inner, stats = _cached(tmp_path)
    assert backend.fetch(PINNED).content_type is None  # _inner serves none
    assert (len(inner.fetched()), stats.get("cache_hits")) == (1, 0)
    backend.close()
