"""The backend registry: built-in backends by name, plus plugins from entry points.

Everything the core knows about a backend is its :class:`BackendEntry` here: the factory (imported
only when selected, so a run that needs no secret never imports a cloud SDK), the setting names
it owns and what makes up its identity (the cross-run cache's namespace). Adding a backend
means a module under ``backends/`` and one entry in :data:`BUILTIN`; nothing outside
``backends/`` names a backend's settings.

Third-party backends register under the entry-point group ``avp_py.backends.v1`` (a factory
``(BackendContext) -> SecretBackend``); the group is read only when ``AVP_TYPE`` names
something that is not built in. A plugin's identity is every resolved setting, so its cache
entries are never shared between configurations.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from avp_py.backends.base import (
    BackendContext,
    BackendEntry,
    BackendFactory,
    BackendIdentity,
    BackendStats,
    SecretBackend,
)
from avp_py.errors import ConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "BackendContext",
    "BackendEntry",
    "BackendFactory",
    "BackendIdentity",
    "BackendStats",
    "SecretBackend",
    "available_backends",
    "entry",
    "is_available",
    "key_prefixes",
    "load_factory",
]

ENTRY_POINT_GROUP = "avp_py.backends.v1"

BUILTIN: Mapping[str, BackendEntry] = MappingProxyType(
    {
        "azurekeyvault": BackendEntry(
            "azurekeyvault",
            "avp_py.backends.azurekeyvault:create",
            key_prefixes=("AZURE",),
            identity_prefixes=("AZURE", "AVP_AZURE_"),
            selector="avp_py.backends.azurekeyvault.identities:select_options",
            every="avp_py.backends.azurekeyvault.identities:every_identity",
        ),
        "file": BackendEntry(
            "file",
            "avp_py.backends.file:create",
            identity_prefixes=("AVP_FILE_",),
            path_options=("AVP_FILE_PATH",),
        ),
    }
)

# The keys of AVP's other backends (Vault, AWS, GCP, SOPS, 1Password, Kubernetes): an AVP
# configuration may still carry them, so they are read and refused like backend keys.
AVP_BACKEND_PREFIXES = ("VAULT", "AWS", "GOOGLE", "SOPS", "OP_CONNECT", "K8S_SECRET")


def _plugins() -> dict[str, EntryPoint]:
    # importlib.metadata costs ~50 ms to import: only runs naming a plugin backend pay for it.
    from importlib import metadata

    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> list[str]:
    """Every backend name ``AVP_TYPE`` accepts, sorted."""
    return sorted({*BUILTIN, *_plugins()})


def is_available(name: str) -> bool:
    """True if ``name`` is a built-in or an installed plugin backend."""
    return name in BUILTIN or name in _plugins()


def key_prefixes() -> tuple[str, ...]:
    """Every backend's own setting prefixes outside ``AVP_*`` (``AZURE``, ``VAULT``...)."""
    owned = (prefix for known in BUILTIN.values() for prefix in known.key_prefixes)
    return tuple(sorted({*owned, *AVP_BACKEND_PREFIXES}))


def entry(name: str) -> BackendEntry:
    """The registry entry for ``name``; ConfigError if no backend has that name."""
    if name in BUILTIN:
        return BUILTIN[name]
    plugin = _plugins().get(name)
    if plugin is None:
        raise ConfigError(unknown_backend_message(name))
    return BackendEntry(name, plugin.value, identity_prefixes=("",))


def load_factory(name: str) -> BackendFactory:
    """The factory for ``name``; ConfigError if unknown or if the plugin fails to load."""
    selected = entry(name)
    if name in BUILTIN:
        return selected.load()
    try:  # third-party code
        return selected.load()
    except Exception as exc:  # noqa: BLE001 - any failure of third-party code is a config error
        reason = type(exc).__name__
        raise ConfigError(
            f"backend plugin {name} ({selected.target}) failed to load: {reason}"
        ) from exc


def unknown_backend_message(name: str) -> str:
    """AVP's message, plus what would have been accepted."""
    return (
        f"Must provide a supported Vault Type, received {name} "
        f"(available: {', '.join(available_backends())})"
    )
