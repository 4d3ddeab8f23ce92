"""The current version of each watched secret, through the backend layer (metadata only).

One ``list_versions`` call per distinct secret per cycle, at most ``max_workers`` at once
(``AVP_MAX_CONCURRENCY``), within the cycle's deadline. Throttling (429 with ``Retry-After``),
server errors and dropped connections are retried by the backend exactly as during
``generate``; what still fails is an :class:`~avp_py.watch.planner.Unknown` for that secret,
reported and tried again next cycle. Values are never read: a backend without the
``VersionListingBackend`` capability cannot be watched.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from avp_py.backends.base import VersionInfo
from avp_py.errors import AvpError
from avp_py.model import SecretRef
from avp_py.watch.planner import Observation, Unknown, current_of


class ListingBackend(Protocol):
    """What the watcher needs of a backend: validation and the version listing."""

    def validate(self, ref: SecretRef) -> str | None:
        """Why ``ref`` can never be valid, or None."""

    def list_versions(self, ref: SecretRef) -> Sequence[VersionInfo]:
        """Every version of ``ref``'s secret, from metadata only."""

    def close(self) -> None:
        """Release clients and connections."""


def current_versions(
    backend: ListingBackend, refs: Sequence[SecretRef], max_workers: int
) -> dict[SecretRef, Observation]:
    """What each secret's metadata says now; a failure is an ``Unknown`` for that secret."""
    invalid: dict[SecretRef, Observation] = {
        ref: Unknown(problem) for ref in refs if (problem := backend.validate(ref))
    }
    todo = [ref for ref in refs if ref not in invalid]
    if not todo:
        return invalid
    workers = max(1, min(max_workers, len(todo)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avp-watch") as pool:
        found = dict(zip(todo, pool.map(lambda ref: _observe(backend, ref), todo), strict=True))
    return {**invalid, **found}


def _observe(backend: ListingBackend, ref: SecretRef) -> Observation:
    try:
        return current_of(backend.list_versions(ref))
    except AvpError as exc:  # the backend's messages name the secret, never a value
        return Unknown(str(exc))
