"""An encrypted, size-bounded key/value store on disk, safe for many processes at once.

SQLite in WAL mode (readers never block the writer; concurrent ``generate`` processes wait
for each other's short writes) in a 0700 directory with 0600 files. Values are encrypted with
AES-256-GCM under a key derived (HKDF-SHA256, per-store random salt) from ``AVP_CACHE_KEY``;
an entry's lookup key is an HMAC of its reference, which is also the AEAD's associated data,
so an entry cannot be moved to another reference. Anything unreadable is treated as absent:
the cache may make a run faster, never make it fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import sqlite3
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

FILENAME = "avp-py-cache.sqlite3"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, nonce BLOB NOT NULL,"
    " payload BLOB NOT NULL, stored_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_age ON entries (stored_at)",
)
_CHECK = b"avp-py cache key check"


class StoreUnavailable(Exception):
    """The store cannot be used (permissions, corruption); the run goes on without it."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A decrypted value and when it was stored (epoch seconds)."""

    payload: bytes
    stored_at: float


class EncryptedStore:
    """get/put of encrypted payloads by name; every method is thread-safe."""

    def __init__(self, directory: str, secret: str, max_entries: int) -> None:
        self._max_entries = max_entries
        self._lock = threading.Lock()
        path = _private_directory(Path(directory)) / FILENAME
        try:
            self._db = _connect(path)
            salt = self._salt()
            self._aead = AESGCM(_derive(secret, salt, b"avp-py cache encryption v1"))
            self._mac_key = _derive(secret, salt, b"avp-py cache lookup v1")
            self._verify_key()
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"{path}: {type(exc).__name__}: {exc}") from exc

    def get(self, name: str) -> Entry | None:
        """The entry stored under ``name``, or None (also when unreadable)."""
        key = self._key(name)
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT nonce, payload, stored_at FROM entries WHERE key = ?", (key,)
                ).fetchone()
            if row is None:
                return None
            return Entry(self._aead.decrypt(row[0], row[1], key), float(row[2]))
        except (sqlite3.Error, InvalidTag, ValueError, TypeError) as exc:
            log.warning("cache: ignoring an unreadable entry (%s)", type(exc).__name__)
            return None

    def put(self, name: str, payload: bytes) -> None:
        """Store ``payload`` under ``name``; failures are logged and ignored."""
        key = self._key(name)
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload, key)
        try:
            with self._lock, self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                    (key, nonce, sealed, time.time()),
                )
                self._evict()
        except sqlite3.Error as exc:
            log.warning("cache: could not store an entry (%s)", type(exc).__name__)

    def close(self) -> None:
        """Close the database."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    def _key(self, name: str) -> bytes:
        return hmac.new(self._mac_key, name.encode("utf-8", "surrogateescape"), "sha256").digest()

    def _evict(self) -> None:
        # Oldest first; runs inside put's transaction, so the bound holds across processes.
        self._db.execute(
            "DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY stored_at DESC"
            " LIMIT -1 OFFSET ?)",
            (self._max_entries,),
        )

    def _salt(self) -> bytes:
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (os.urandom(16),))
            row = self._db.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()
        return bytes(row[0])

    def _verify_key(self) -> None:
        """A new AVP_CACHE_KEY makes every entry unreadable: start afresh rather than fail."""
        with self._lock, self._db:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'check'").fetchone()
            if row is not None:
                try:
                    self._aead.decrypt(bytes(row[0])[:12], bytes(row[0])[12:], _CHECK)
                    return
                except InvalidTag:
                    log.warning("cache: AVP_CACHE_KEY changed; emptying the cache")
                    self._db.execute("DELETE FROM entries")
            nonce = os.urandom(12)
            sealed = nonce + self._aead.encrypt(nonce, _CHECK, _CHECK)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('check', ?)", (sealed,))


def _derive(secret: str, salt: bytes, info: bytes) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info)
    return kdf.derive(hashlib.sha256(secret.encode("utf-8")).digest())


def _private_directory(directory: Path) -> Path:
    """Create the directory 0700, or refuse one that other users could read or write."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError as exc:
        raise StoreUnavailable(f"cannot create {directory}: {exc.strerror}") from exc
    if info.st_uid != os.getuid():
        raise StoreUnavailable(f"{directory} belongs to another user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        try:
            directory.chmod(0o700)
        except OSError as exc:
            raise StoreUnavailable(f"{directory} is readable by others: {exc.strerror}") from exc
    return directory


def _connect(path: Path) -> sqlite3.Connection:
    previous = os.umask(0o077)  # the database, its WAL and shared-memory files: 0600
    try:
        db = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        for statement in _SCHEMA:
            db.execute(statement)
    finally:
        os.umask(previous)
    for file in path.parent.glob(FILENAME + "*"):
        file.chmod(0o600)
    return db
