"""The backend registry: built-in backends by name, plus plugins from entry points.

Built-ins are named here and imported only when selected, so a run that needs no secret never
imports a cloud SDK. Third-party backends register under the entry-point group
``avp_py.backends.v1`` (a factory ``(BackendContext) -> SecretBackend``); the group is read
only when ``AVP_TYPE`` names something that is not built in.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from avp_py.backends.base import BackendContext, BackendFactory, BackendStats, SecretBackend
from avp_py.errors import ConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "BackendContext",
    "BackendFactory",
    "BackendStats",
    "SecretBackend",
    "available_backends",
    "is_available",
    "load_factory",
]

ENTRY_POINT_GROUP = "avp_py.backends.v1"

BUILTIN: Mapping[str, str] = MappingProxyType(
    {
        "azurekeyvault": "avp_py.backends.azurekeyvault:create",
        "file": "avp_py.backends.file:create",
    }
)


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


def load_factory(name: str) -> BackendFactory:
    """The factory for ``name``; ConfigError if unknown or if the plugin fails to load."""
    if name in BUILTIN:
        module, _, attribute = BUILTIN[name].partition(":")
        return cast(BackendFactory, getattr(importlib.import_module(module), attribute))
    plugin = _plugins().get(name)
    if plugin is None:
        raise ConfigError(unknown_backend_message(name))
    try:
        return cast(BackendFactory, plugin.load())
    except Exception as exc:  # noqa: BLE001 - any failure of third-party code is a config error
        reason = type(exc).__name__
        raise ConfigError(
            f"backend plugin {name} ({plugin.value}) failed to load: {reason}"
        ) from exc


def unknown_backend_message(name: str) -> str:
    """AVP's message, plus what would have been accepted."""
    return (
        f"Must provide a supported Vault Type, received {name} "
        f"(available: {', '.join(available_backends())})"
    )
