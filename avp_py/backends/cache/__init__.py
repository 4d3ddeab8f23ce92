"""The opt-in cross-run cache (``AVP_CACHE_DIR``): a backend that wraps any backend.

Argo CD renders every application again after a commit or a "hard refresh all", all against
the same vaults (4,000 requests per 10 s per vault, then 429). A "latest" lookup is kept for
``AVP_CACHE_TTL_SECONDS`` (60 s by default), so a hard refresh soon after a rotation is not
served a stale value for long. A value fetched at a pinned version never changes in Key Vault,
but the version can be disabled, which is how a leaked value is revoked: it is kept for
``AVP_CACHE_PINNED_TTL_SECONDS`` (600 s by default), so a revoked version stops reaching new
renders within that time (issue 11, item 9). An entry stored "in the future" is stale. Missing
secrets are never cached. The wrapped backend is only used on a miss, so a fully cached run
never imports the Azure SDK.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from avp_py.backends.base import BackendStats, SecretBackend
from avp_py.model import Deadline

log = logging.getLogger(__name__)

MIN_KEY_LENGTH = 32
DEFAULT_TTL_SECONDS = 60.0
# Ten times the "latest" TTL: long enough to serve the renders of a "hard refresh all" storm
# (what the cache is for), short enough that a disabled (revoked) version stops being served
# within minutes. Re-checking `enabled` instead would cost a metadata request per pinned
# reference and run, as many requests as not caching at all.
DEFAULT_PINNED_TTL_SECONDS = 600.0
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class CacheSettings:
    """Where and how long to cache. ``key`` is a secret and never shown."""

    directory: str
    key: str
    ttl_seconds: float = DEFAULT_TTL_SECONDS
    max_entries: int = DEFAULT_MAX_ENTRIES
    pinned_ttl_seconds: float = DEFAULT_PINNED_TTL_SECONDS

    def __repr__(self) -> str:
        return (
            f"CacheSettings(directory={self.directory!r}, ttl_seconds={self.ttl_seconds},"
            f" pinned_ttl_seconds={self.pinned_ttl_seconds})"
        )


def wrap(
    inner: SecretBackend,
    settings: CacheSettings,
    namespace: str,
    stats: BackendStats,
    deadline: Deadline,
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
    from avp_py.backends.cache.files import StoreUnavailable
    from avp_py.backends.cache.store import EncryptedStore

    try:
        store = EncryptedStore(settings.directory, settings.key, settings.max_entries, deadline)
    except StoreUnavailable as exc:
        log.warning("cache disabled: %s", exc)
        return inner
    return CachingBackend(inner, store, namespace, settings, stats)
