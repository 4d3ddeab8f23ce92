"""The contract every secrets backend satisfies, and what the core hands to a backend."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from avp_py.model import Deadline, SecretRef, SecretValue


class SecretBackend(Protocol):
    """Fetches one secret per call; must be safe to call from several threads at once.

    ``fetch`` raises :class:`avp_py.errors.SecretNotFoundError` when the reference has no
    (enabled) value, and a :class:`avp_py.errors.BackendError` subclass for anything that
    makes the backend unusable (credentials, network, deadline). No message may contain a value.
    """

    def fetch(self, ref: SecretRef) -> SecretValue:
        """The value of ``ref`` (``ref.version == ""`` means the latest version)."""

    def validate(self, ref: SecretRef) -> str | None:
        """Why ``ref`` can never be valid for this backend (e.g. a bad vault name), or None."""

    def close(self) -> None:
        """Release clients and connections."""


@dataclass(frozen=True, slots=True)
class SecretState:
    """What a backend knows about one reference without reading its value.

    ``exists`` is False when the secret, or the requested version of it, does not exist;
    ``enabled`` is False for a disabled version; ``version`` is the concrete version the
    reference points at, when the backend knows one (None otherwise: never derived from the
    value); ``reason`` says why the reference is unusable ("not found", "version V not found",
    "disabled"), and is empty when it is usable.
    """

    exists: bool
    enabled: bool = True
    version: str | None = None
    reason: str = ""

    @property
    def usable(self) -> bool:
        """A fetch of this reference would return a value."""
        return self.exists and self.enabled


@runtime_checkable
class MetadataBackend(Protocol):
    """Optional capability of a backend: describe a reference without fetching its value.

    ``avp-py check`` uses it when present (``isinstance(backend, MetadataBackend)``) and falls
    back to ``fetch``, discarding the value, when absent. ``describe`` raises the same
    :class:`avp_py.errors.BackendError` subclasses as ``fetch`` for anything that makes the
    backend unusable; a missing or disabled secret is a :class:`SecretState`, not an error.
    Must be safe to call from several threads at once; no message may contain a value.
    """

    def describe(self, ref: SecretRef) -> SecretState:
        """Existence, enabled state and concrete version of ``ref`` (``""``: the latest)."""


@dataclass
class BackendStats:
    """Counters a backend increments (requests, cache hits...); shown by ``--verbose``."""

    _counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, amount: int = 1) -> None:
        """Thread-safe increment."""
        with self._lock:
            self._counts[name] += amount

    def get(self, name: str) -> int:
        """Current value of one counter."""
        with self._lock:
            return self._counts[name]


@dataclass(frozen=True)
class BackendContext:
    """Everything a backend factory may use. ``options`` holds the resolved settings by their
    upper-case names (``AVP_*`` and backend keys such as ``AZURE_*``); the backend validates
    the ones it uses, so the core never learns backend-specific keys."""

    options: Mapping[str, str]
    deadline: Deadline
    max_concurrency: int
    stats: BackendStats = field(default_factory=BackendStats)


BackendFactory = Callable[[BackendContext], SecretBackend]
