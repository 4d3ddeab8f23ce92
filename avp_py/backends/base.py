"""The contract every secrets backend satisfies, what the core hands to a backend, and what the
core knows about a backend before importing it (its registry entry and identity)."""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast, runtime_checkable

from avp_py.model import Deadline, MissingReason, SecretRef, SecretValue


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
    value); ``reason`` says why the reference is unusable, and is None when it is usable.
    ``not_before`` and ``expires`` are the version's validity window (Key Vault's ``nbf`` and
    ``exp``, seconds since the epoch; None when unset or unknown); ``managed`` is True for the
    secret behind a Key Vault certificate, False for a plain secret, None when unknown.
    """

    exists: bool
    enabled: bool = True
    version: str | None = None
    reason: MissingReason | None = None
    not_before: float | None = None
    expires: float | None = None
    managed: bool | None = None

    @property
    def usable(self) -> bool:
        """A fetch of this reference would return a value."""
        return self.exists and self.enabled


@runtime_checkable
class MetadataBackend(Protocol):
    """Optional capability of a backend: the state of a reference without fetching its value.

    ``avp-py check`` uses it when present (``isinstance(backend, MetadataBackend)``) and falls
    back to ``fetch``, discarding the value, when absent. ``fetch_state`` raises the same
    :class:`avp_py.errors.BackendError` subclasses as ``fetch`` for anything that makes the
    backend unusable; a missing or disabled secret is a :class:`SecretState`, not an error.
    Must be safe to call from several threads at once; no message may contain a value.
    """

    def fetch_state(self, ref: SecretRef) -> SecretState:
        """Existence, enabled state and concrete version of ``ref`` (``""``: the latest), asked
        of the backend (network I/O for a remote one)."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a secret as its metadata describes it (never its value).

    ``created``, ``not_before`` and ``expires`` are in seconds since the epoch (Key Vault's
    resolution is one second), None when the backend does not say; ``managed`` as in
    :class:`SecretState`.
    """

    version: str
    enabled: bool = True
    created: float | None = None
    not_before: float | None = None
    expires: float | None = None
    managed: bool | None = None


@runtime_checkable
class VersionListingBackend(Protocol):
    """Optional capability: every version of a secret, from metadata only.

    ``avp-py watch`` uses it to learn a secret's current version without reading any value
    (issue 14); a backend without it cannot be watched. ``list_versions`` ignores
    ``ref.version``; a secret that does not exist has no versions (an empty list, not an
    error). It raises the same :class:`avp_py.errors.BackendError` subclasses as ``fetch``
    for anything that makes the backend unusable, must be safe to call from several threads
    at once, and no message may contain a value.
    """

    def list_versions(self, ref: SecretRef) -> Sequence[VersionInfo]:
        """The versions of ``ref``'s secret, in any order."""


@runtime_checkable
class NameListingBackend(Protocol):
    """Optional capability: the names of the secrets at a path (a vault), from metadata only.

    ``avp-py check`` uses it for "did you mean" on a missing secret. ``list_names`` ignores
    ``ref.key`` and ``ref.version``; it raises the same :class:`avp_py.errors.BackendError`
    subclasses as ``fetch``, must be safe to call from several threads at once, and no
    message may contain a value.
    """

    def list_names(self, ref: SecretRef) -> Sequence[str]:
        """The names of every secret at ``ref.path``, in any order."""


def latest_candidates(versions: Sequence[VersionInfo]) -> list[VersionInfo] | None:
    """The versions that may be the latest: those created last.

    More than one when several were created in the same second (Key Vault's ``created`` cannot
    tell them apart); None when a version has no creation time, so that nothing can be said;
    an empty list when there are no versions.
    """
    if any(item.created is None for item in versions):
        return None
    if not versions:
        return []
    newest = max(item.created or 0.0 for item in versions)
    return [item for item in versions if item.created == newest]


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


@dataclass(frozen=True, slots=True)
class BackendIdentity:
    """Which backend, with which credentials, endpoints or file, values are read through.

    Two runs with equal identities read the same secrets the same way, so the cross-run cache
    keeps one namespace per identity (and a value read under one identity is never served under
    another). ``options`` may hold credentials: it is left out of the ``repr``, and
    :attr:`namespace` must only be stored keyed (the cache HMACs it), never shown or logged.
    """

    backend: str
    options: tuple[tuple[str, str], ...] = field(repr=False)

    @property
    def namespace(self) -> str:
        """The canonical text of the identity: ``["NAME", [["KEY", "VALUE"], ...]]``."""
        return json.dumps([self.backend, list(self.options)])


@dataclass(frozen=True, slots=True)
class BackendEntry:
    """One backend as the core knows it, without importing it.

    ``target`` is ``"module:attribute"`` of its :data:`BackendFactory`, imported only when
    ``AVP_TYPE`` selects it. ``key_prefixes`` are its own setting names outside ``AVP_*``
    (``AZURE_*``, as its SDK spells them): read from the config file or Secret before the
    environment, and never from an Application (AVP §2.1, decision D5). ``identity_prefixes``
    are the settings that choose whose secrets it reads (credential, endpoint, file): they make
    its :class:`BackendIdentity`; those in ``path_options`` are file paths, made absolute
    because a relative path depends on the working directory. ``selector``, when set, is
    ``"module:function"`` of ``(options, project) -> options``: what the backend derives from
    the render's AppProject (the Azure backend's identity per project, ``AVP_AZURE_IDENTITIES``),
    applied once when the settings are built, so the identity above includes it. ``every``,
    when set, is ``"module:function"`` of ``(options) -> [options, ...]``: the options of every
    identity the selector can choose (one run serving several projects checks each at start).
    """

    name: str
    target: str
    key_prefixes: tuple[str, ...] = ()
    identity_prefixes: tuple[str, ...] = ()
    path_options: tuple[str, ...] = ()
    selector: str = ""
    every: str = ""

    def load(self) -> BackendFactory:
        """Import the factory (the registry turns a plugin's failure into a ConfigError)."""
        module, _, attributes = self.target.partition(":")
        found: object = importlib.import_module(module.strip())
        for attribute in filter(None, attributes.strip().split(".")):  # as EntryPoint.load
            found = getattr(found, attribute)
        return cast(BackendFactory, found)

    def select_options(self, options: Mapping[str, str], project: str) -> dict[str, str]:
        """The options for a render of ``project`` (ConfigError when the backend refuses it)."""
        if not self.selector:
            return dict(options)
        module, _, function = self.selector.partition(":")
        select = getattr(importlib.import_module(module), function)
        return cast(dict[str, str], select(options, project))

    def every_identity(self, options: Mapping[str, str]) -> list[dict[str, str]]:
        """The options of each identity the selector can choose (ConfigError if malformed)."""
        if not self.every:
            return [dict(options)]
        module, _, function = self.every.partition(":")
        every = getattr(importlib.import_module(module), function)
        return cast(list[dict[str, str]], every(options))

    def identity(self, options: Mapping[str, str]) -> BackendIdentity:
        """The identity these resolved options select for this backend."""
        chosen = {
            key: os.path.abspath(value) if key in self.path_options else value
            for key, value in options.items()
            if key.startswith(self.identity_prefixes)
        }
        return BackendIdentity(self.name, tuple(sorted(chosen.items())))
