"""An encrypted, size-bounded key/value store on disk, safe for many processes at once.

SQLite in WAL mode (readers never block the writer; concurrent ``generate`` processes wait
for each other's short writes) in a 0700 directory with 0600 files. Values are encrypted with
AES-256-GCM under a key derived (HKDF-SHA256, per-store random salt) from ``AVP_CACHE_KEY``;
an entry's lookup key is an HMAC of its reference, and the AEAD's associated data is that key
and the entry's ``stored_at``, so an entry can neither be moved to another reference nor made
younger. Anything unreadable is treated as absent, a damaged ``meta`` table or an older schema
starts the cache afresh, and a locked database is waited for only a share of the run's time
left: the cache may make a run faster, never make it fail (issue 11, item 10).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import sqlite3
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from avp_py.backends.cache.files import (
    FILENAME,
    StoreUnavailable,
    check_files,
    private_directory,
    restrict_files,
)
from avp_py.model import Deadline

log = logging.getLogger(__name__)

# PRAGMA user_version. 0: before issue 11 (stored_at outside the AEAD); such entries are dropped.
SCHEMA_VERSION = 2
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, nonce BLOB NOT NULL,"
    " payload BLOB NOT NULL, stored_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_age ON entries (stored_at)",
)
_CHECK = b"avp-py cache key check"
SALT_BYTES = 16
# A writer holds the lock for milliseconds; a lock held longer is a stuck or hostile process.
# Wait at most this long, and never more than a quarter of the run's time left, then go on
# without the cache: the backend needs the rest of the deadline.
MAX_LOCK_WAIT = 10.0
LOCK_SHARE_OF_TIME_LEFT = 0.25
# What a damaged row or database can raise; each means "absent", never a failed run.
_UNREADABLE = (sqlite3.Error, InvalidTag, ValueError, TypeError, OverflowError, struct.error)


@dataclass(frozen=True, slots=True)
class Entry:
    """A decrypted value and when it was stored (epoch seconds, authenticated)."""

    payload: bytes
    stored_at: float


class EncryptedStore:
    """get/put of encrypted payloads by name; every method is thread-safe."""

    def __init__(self, directory: str, secret: str, max_entries: int, deadline: Deadline) -> None:
        self._max_entries = max_entries
        self._deadline = deadline
        self._lock = threading.Lock()
        self._given_up = False
        folder = private_directory(Path(directory))
        path = folder / FILENAME
        try:
            check_files(folder)
            self._db = _connect(path, self._lock_wait())
            restrict_files(folder)
            self._migrate()
            salt = self._salt()
            self._aead = AESGCM(_derive(secret, salt, b"avp-py cache encryption v1"))
            self._mac_key = _derive(secret, salt, b"avp-py cache lookup v1")
            self._verify_key()
        except (*_UNREADABLE, OSError) as exc:
            raise StoreUnavailable(f"{path}: {type(exc).__name__}: {exc}") from exc

    def get(self, name: str) -> Entry | None:
        """The entry stored under ``name``, or None (also when unreadable)."""
        if self._given_up:
            return None
        key = self._key(name)
        try:
            with self._lock:
                self._set_lock_wait()
                row = self._db.execute(
                    "SELECT nonce, payload, stored_at FROM entries WHERE key = ?", (key,)
                ).fetchone()
            if row is None:
                return None
            stored_at = float(row[2])
            return Entry(self._aead.decrypt(row[0], row[1], _associated(key, stored_at)), stored_at)
        except _UNREADABLE as exc:
            self._unreadable(exc, "ignoring an unreadable entry")
            return None

    def put(self, name: str, payload: bytes) -> None:
        """Store ``payload`` under ``name``; failures are logged and ignored."""
        if self._given_up:
            return
        key = self._key(name)
        nonce = os.urandom(12)
        stored_at = time.time()
        sealed = self._aead.encrypt(nonce, payload, _associated(key, stored_at))
        try:
            with self._lock, self._db:
                self._set_lock_wait()
                self._db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                    (key, nonce, sealed, stored_at),
                )
                self._evict()
        except _UNREADABLE as exc:
            self._unreadable(exc, "could not store an entry")

    def close(self) -> None:
        """Close the database."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    def _unreadable(self, exc: BaseException, what: str) -> None:
        if _is_busy(exc):
            self._given_up = True  # every other call would wait as long again
            log.warning(
                "cache: the database stayed locked; not using the cache for the rest of this run"
            )
        else:
            log.warning("cache: %s (%s)", what, type(exc).__name__)

    def _lock_wait(self) -> float:
        left = self._deadline.remaining(time.monotonic())
        return min(MAX_LOCK_WAIT, LOCK_SHARE_OF_TIME_LEFT * left)

    def _set_lock_wait(self) -> None:
        milliseconds = int(self._lock_wait() * 1000)
        self._db.execute(f"PRAGMA busy_timeout = {milliseconds}")

    def _key(self, name: str) -> bytes:
        return hmac.new(self._mac_key, name.encode("utf-8", "surrogateescape"), "sha256").digest()

    def _evict(self) -> None:
        # Oldest first; runs inside put's transaction, so the bound holds across processes.
        self._db.execute(
            "DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY stored_at DESC"
            " LIMIT -1 OFFSET ?)",
            (self._max_entries,),
        )

    def _migrate(self) -> None:
        """Entries of another schema version cannot be read: drop them, once, for everyone."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")  # one process migrates; the others then see it
            if self._db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                log.info("cache: dropping the entries of another avp-py version")
                self._db.execute("DELETE FROM entries")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _salt(self) -> bytes:
        """The store's salt; a damaged one (NULL, not bytes, wrong size) starts a new cache."""
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (os.urandom(16),))
            row = self._db.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()
            salt = row[0] if row is not None else None
            if isinstance(salt, bytes) and len(salt) == SALT_BYTES:
                return salt
            log.warning("cache: the cache's salt is damaged; starting the cache afresh")
            salt = os.urandom(SALT_BYTES)
            self._db.execute("DELETE FROM entries")
            self._db.execute("DELETE FROM meta")
            self._db.execute("INSERT INTO meta VALUES ('salt', ?)", (salt,))
            return salt

    def _verify_key(self) -> None:
        """A new AVP_CACHE_KEY (or a damaged check) makes every entry unreadable: start afresh."""
        with self._lock, self._db:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'check'").fetchone()
            if row is not None:
                try:
                    sealed = bytes(row[0])
                    self._aead.decrypt(sealed[:12], sealed[12:], _CHECK)
                    return
                except (InvalidTag, ValueError, TypeError):
                    log.warning("cache: AVP_CACHE_KEY changed; emptying the cache")
                    self._db.execute("DELETE FROM entries")
            nonce = os.urandom(12)
            sealed = nonce + self._aead.encrypt(nonce, _CHECK, _CHECK)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('check', ?)", (sealed,))


def _associated(key: bytes, stored_at: float) -> bytes:
    """The AEAD's associated data: the entry's lookup key and its (exact, binary) age."""
    return key + struct.pack(">d", stored_at)


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _derive(secret: str, salt: bytes, info: bytes) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info)
    return kdf.derive(hashlib.sha256(secret.encode("utf-8")).digest())


def _connect(path: Path, lock_wait: float) -> sqlite3.Connection:
    previous = os.umask(0o077)  # the database, its WAL and shared-memory files: 0600
    try:
        db = sqlite3.connect(path, timeout=lock_wait, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(lock_wait * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        for statement in _SCHEMA:
            db.execute(statement)
    finally:
        os.umask(previous)
    return db
