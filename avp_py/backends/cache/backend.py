"""The caching backend: the encrypted store in front of any backend (see the package docs)."""

from __future__ import annotations

import json
import time

from avp_py.backends.base import BackendStats, SecretBackend
from avp_py.backends.cache import CacheSettings
from avp_py.backends.cache.store import EncryptedStore
from avp_py.model import SecretRef, SecretValue

_FORMAT = "v2"  # {"v": value, "version": ..., "ct": content type}


class CachingBackend:
    """Serves from the encrypted store when it can, from ``inner`` otherwise."""

    def __init__(
        self,
        inner: SecretBackend,
        store: EncryptedStore,
        namespace: str,
        settings: CacheSettings,
        stats: BackendStats,
    ) -> None:
        self._inner = inner
        self._store = store
        self._namespace = namespace
        self._ttl = settings.ttl_seconds
        self._pinned_ttl = settings.pinned_ttl_seconds
        self._stats = stats

    def validate(self, ref: SecretRef) -> str | None:
        """The wrapped backend's rules."""
        return self._inner.validate(ref)

    def fetch(self, ref: SecretRef) -> SecretValue:
        """From the cache if fresh enough, else from the backend (and then into the cache)."""
        name = self._name(ref)
        cached = self._lookup(name, ref)
        if cached is not None:
            self._stats.add("cache_hits")
            return cached
        self._stats.add("cache_misses")
        value = self._inner.fetch(ref)
        payload = json.dumps(
            {"v": value.reveal(), "version": value.version, "ct": value.content_type}
        )
        self._store.put(name, payload.encode("utf-8", "surrogateescape"))
        return value

    def _lookup(self, name: str, ref: SecretRef) -> SecretValue | None:
        entry = self._store.get(name)
        if entry is None:
            return None
        # A "latest" lookup may have been rotated, a pinned version disabled (revoked); an
        # entry from the future (a clock set back) is stale too. stored_at is authenticated.
        age = time.time() - entry.stored_at
        if not 0 <= age <= (self._pinned_ttl if ref.version else self._ttl):
            return None
        try:
            data = json.loads(entry.payload.decode("utf-8", "surrogateescape"))
            return SecretValue(data["v"], data.get("version"), data.get("ct"))
        except (ValueError, KeyError, TypeError):
            return None

    def _name(self, ref: SecretRef) -> str:
        # The backend's identity is part of the name: the same path in another backend (or
        # a file backend's other file) is another secret. The entry format is too: entries
        # stored before the content type was kept (issue 15) are never read back.
        return json.dumps([_FORMAT, self._namespace, ref.path, ref.key, ref.version])

    def close(self) -> None:
        """Close the store and the wrapped backend."""
        self._store.close()
        self._inner.close()
