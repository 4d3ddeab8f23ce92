"""The opt-in cross-run cache (``AVP_CACHE_DIR``): a backend that wraps any backend.

Argo CD renders every application again after a commit or a "hard refresh all", all against
the same vaults (4,000 requests per 10 s per vault, then 429). Key Vault versions never
change, so a value fetched at a pinned version is kept until evicted; a "latest" lookup is
kept for ``AVP_CACHE_TTL_SECONDS`` (60 s by default), so a hard refresh soon after a rotation
is not served a stale value for long. Missing secrets are never cached. The wrapped backend is
only used on a miss, so a fully cached run never imports the Azure SDK.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from avp_py.backends.base import BackendStats, SecretBackend

log = logging.getLogger(__name__)

MIN_KEY_LENGTH = 32


@dataclass(frozen=True)
class CacheSettings:
    """Where and how long to cache. ``key`` is a secret and never shown."""

    directory: str
    key: str
    ttl_seconds: float = 60.0
    max_entries: int = 10_000

    def __repr__(self) -> str:
        return f"CacheSettings(directory={self.directory!r}, ttl_seconds={self.ttl_seconds})"


def wrap(
    inner: SecretBackend, settings: CacheSettings, namespace: str, stats: BackendStats
) -> SecretBackend:
    """``inner`` behind the cache, or ``inner`` alone if the cache cannot be used (a warning)."""
    if len(settings.key) < MIN_KEY_LENGTH:
        log.warning(
            "AVP_CACHE_DIR is set but AVP_CACHE_KEY is missing or shorter than %d characters:"
            " not caching on disk",
            MIN_KEY_LENGTH,
        )
        return inner
    # Imported here: sqlite3 and cryptography cost start-up time that runs without a cache
    # should not pay.
    from avp_py.backends.cache.backend import CachingBackend
    from avp_py.backends.cache.store import EncryptedStore, StoreUnavailable

    try:
        store = EncryptedStore(settings.directory, settings.key, settings.max_entries)
    except StoreUnavailable as exc:
        log.warning("cache disabled: %s", exc)
        return inner
    return CachingBackend(inner, store, namespace, settings.ttl_seconds, stats)
