"""A real backend over a dict, for tests of avp-py and of code built on it (not for production).

:class:`MemoryBackend` implements the backend Protocol and the optional capabilities
(``MetadataBackend``, ``VersionListingBackend``, ``NameListingBackend`` in
:mod:`avp_py.backends.base`) with Key Vault's rules: every secret has versions, the latest is
the one set last, a version can be disabled, a value can carry a content type, a version its
validity window (reported in its metadata, as Key Vault's ``nbf`` and ``exp``) and whether a
certificate is behind it. It is seeded with the same calls as the project's
Key Vault test server (``set_secret``, ``set_enabled``, ``delete_secret``), so one seed fills
either, and the backend contract suite holds it to the same contract as the real backends.

It records what it was asked (``requests``, ``peak``) and can be told to fail (``fail``), so that
tests observe the pipeline through a backend that behaves like one instead of a hand-written
fake per test. :class:`FetchOnlyBackend` hides the optional capabilities, as a plugin backend
that implements only ``fetch`` would.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from avp_py.backends.base import BackendStats, SecretBackend, SecretState, VersionInfo
from avp_py.errors import AvpError, BackendUnavailableError, SecretNotFoundError
from avp_py.model import MissingReason, SecretRef, SecretValue

__all__ = ["FetchOnlyBackend", "MemoryBackend"]


@dataclass
class _Version:
    version: str
    value: object
    enabled: bool
    content_type: str | None
    created: float
    not_before: float | None = None
    expires: float | None = None
    managed: bool = False


@dataclass
class _Secret:
    versions: list[_Version]  # oldest first: the last one is the latest
    versioned: bool  # False: "latest" has no version id the backend knows (the file backend)


class MemoryBackend:
    """Secrets in memory, by ``(path, key)``; thread-safe, values never in a repr or message.

    ``invalid(ref)`` says why a reference can never be valid (``validate``), None by default;
    ``on_request(operation, ref)`` runs at the start of every request (``"fetch"``,
    ``"fetch_state"``, ``"list_versions"``) while it counts as in flight: a test can hold
    requests there (a gate) or fail them (raise).
    """

    def __init__(
        self,
        *,
        stats: BackendStats | None = None,
        invalid: Callable[[SecretRef], str | None] | None = None,
        on_request: Callable[[str, SecretRef], None] | None = None,
    ) -> None:
        self.stats = stats or BackendStats()
        self.requests: list[tuple[str, SecretRef]] = []
        self.peak = 0  # the most requests in flight at once
        self.closed = False
        self._invalid = invalid
        self._on_request = on_request
        self._secrets: dict[tuple[str, str], _Secret] = {}
        self._failures: dict[tuple[str, str], AvpError] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._active = 0

    def __repr__(self) -> str:
        return f"MemoryBackend(<{len(self._secrets)} secrets>)"

    # -- seeding ----------------------------------------------------------------------------

    def set_secret(
        self,
        path: str,
        key: str,
        value: object,
        *,
        version: str | None = None,
        enabled: bool = True,
        content_type: str | None = None,
        created: float | None = None,
        versioned: bool = True,
        not_before: float | None = None,
        expires: float | None = None,
        managed: bool = False,
    ) -> str:
        """Add a version (the new latest) and return its id: ``version``, or 32 hex digits as
        Key Vault's. ``versioned=False``: fetching the latest reports no version, as the file
        backend does. ``created`` defaults to now; it, ``not_before`` and ``expires`` are
        seconds since the epoch; ``managed``: a Key Vault certificate's secret."""
        with self._lock:
            chosen = version if version is not None else f"{next(self._ids):032x}"
            when = time.time() if created is None else created
            secret = self._secrets.setdefault((path, key), _Secret([], versioned))
            secret.versioned = versioned
            secret.versions.append(
                _Version(chosen, value, enabled, content_type, when, not_before, expires, managed)
            )
            return chosen

    def set_enabled(
        self, path: str, key: str, enabled: bool, *, version: str | None = None
    ) -> None:
        """Enable or disable one version (the latest by default)."""
        with self._lock:
            versions = self._secrets[(path, key)].versions
            target = versions[-1] if version is None else self._find(versions, version)
            if target is None:
                raise KeyError(f"{path}#{key}#{version}")
            target.enabled = enabled

    def delete_secret(self, path: str, key: str) -> None:
        """Remove the secret and all its versions."""
        with self._lock:
            del self._secrets[(path, key)]

    def fail(self, path: str, key: str, error: AvpError | None) -> None:
        """Every later request for the secret raises ``error`` (None: stop failing)."""
        with self._lock:
            if error is None:
                self._failures.pop((path, key), None)
            else:
                self._failures[(path, key)] = error

    def fetched(self) -> list[SecretRef]:
        """The references ``fetch`` was called with, in order."""
        with self._lock:
            return [ref for operation, ref in self.requests if operation == "fetch"]

    # -- the backend Protocol and its capabilities ------------------------------------------

    def validate(self, ref: SecretRef) -> str | None:
        """``invalid(ref)`` when given, else every reference is acceptable."""
        return self._invalid(ref) if self._invalid is not None else None

    def fetch(self, ref: SecretRef) -> SecretValue:
        """The value of ``ref``; SecretNotFoundError with Key Vault's reasons when unusable."""
        with self._request("fetch", ref) as secret:
            found = self._pick(secret, ref)
            if isinstance(found, MissingReason):
                raise SecretNotFoundError(ref, found)
            return SecretValue(found.value, self._shown(secret, ref), found.content_type)

    def fetch_state(self, ref: SecretRef) -> SecretState:
        """MetadataBackend: what ``fetch(ref)`` would find, without reading the value."""
        with self._request("fetch_state", ref) as secret:
            found = self._pick(secret, ref)
            if found is MissingReason.DISABLED:
                return SecretState(True, False, self._shown(secret, ref), found)
            if isinstance(found, MissingReason):
                return SecretState(False, reason=found)
            window = found.not_before, found.expires, found.managed
            return SecretState(True, True, self._shown(secret, ref), None, *window)

    def list_versions(self, ref: SecretRef) -> Sequence[VersionInfo]:
        """VersionListingBackend: every version of the secret (none if it does not exist)."""
        with self._request("list_versions", ref) as secret:
            versions = secret.versions if secret is not None else []
            return [
                VersionInfo(v.version, v.enabled, v.created, v.not_before, v.expires, v.managed)
                for v in versions
            ]

    def list_names(self, ref: SecretRef) -> Sequence[str]:
        """NameListingBackend: the names of the secrets at ``ref.path``, sorted."""
        with self._request("list_names", ref), self._lock:
            return sorted(key for path, key in self._secrets if path == ref.path)

    def close(self) -> None:
        """Later requests fail (BackendUnavailableError), as after the Azure backend's close."""
        self.closed = True

    # -- internals --------------------------------------------------------------------------

    def _request(self, operation: str, ref: SecretRef) -> _InFlight:
        return _InFlight(self, operation, ref)

    def _begin(self, operation: str, ref: SecretRef) -> None:
        with self._lock:
            self.requests.append((operation, ref))
            self._active += 1
            self.peak = max(self.peak, self._active)
        self.stats.add("requests")

    def _end(self) -> None:
        with self._lock:
            self._active -= 1

    def _lookup(self, operation: str, ref: SecretRef) -> _Secret | None:
        if self.closed:
            raise BackendUnavailableError("the memory backend is closed")
        if self._on_request is not None:
            self._on_request(operation, ref)
        with self._lock:
            failure = self._failures.get((ref.path, ref.key))
            if failure is not None:
                raise failure
            return self._secrets.get((ref.path, ref.key))

    @staticmethod
    def _find(versions: list[_Version], version: str) -> _Version | None:
        return next((v for v in versions if v.version == version), None)

    def _pick(self, secret: _Secret | None, ref: SecretRef) -> _Version | MissingReason:
        if secret is None or not secret.versions:
            return MissingReason.NOT_FOUND
        found = self._find(secret.versions, ref.version) if ref.version else secret.versions[-1]
        if found is None:
            return MissingReason.VERSION_NOT_FOUND
        if not found.enabled:
            return MissingReason.DISABLED
        if found.value is None:
            return MissingReason.NO_VALUE
        return found

    @staticmethod
    def _shown(secret: _Secret | None, ref: SecretRef) -> str | None:
        if ref.version:
            return ref.version
        if secret is None or not secret.versioned:
            return None
        return secret.versions[-1].version


class _InFlight:
    """One request: counted in flight from ``on_request`` until it returns or raises."""

    def __init__(self, backend: MemoryBackend, operation: str, ref: SecretRef) -> None:
        self._backend = backend
        self._operation = operation
        self._ref = ref

    def __enter__(self) -> _Secret | None:
        self._backend._begin(self._operation, self._ref)
        try:
            return self._backend._lookup(self._operation, self._ref)
        except BaseException:
            self._backend._end()
            raise

    def __exit__(self, *exc: object) -> None:
        self._backend._end()


class FetchOnlyBackend:
    """Another backend's ``fetch``, ``validate`` and ``close`` only: none of its optional
    capabilities, as a backend that implements just the Protocol."""

    def __init__(self, inner: SecretBackend) -> None:
        self._inner = inner

    def fetch(self, ref: SecretRef) -> SecretValue:
        """The inner backend's fetch."""
        return self._inner.fetch(ref)

    def validate(self, ref: SecretRef) -> str | None:
        """The inner backend's rules."""
        return self._inner.validate(ref)

    def close(self) -> None:
        """Close the inner backend."""
        self._inner.close()
