"""avp-py: fill ``<placeholders>`` in Kubernetes manifests from a secrets backend.

A drop-in replacement for argocd-vault-plugin, focused on Azure Key Vault. The command line
lives in :mod:`avp_py.cli`; as a library::

    from avp_py import Source, load_settings, render, start_deadline

    settings = load_settings({"AVP_TYPE": "file", "AVP_FILE_PATH": "secrets.yaml"})
    result = render([Source("app.yaml", text)], settings, start_deadline(settings.timeout_seconds))
    print(result.text)

Every failure is an :class:`AvpError` subclass (its ``exit_code`` and ``details()`` say more).

The names are imported on first use (PEP 562): ``import avp_py`` itself imports nothing, so
that the render server's client (:mod:`avp_py.server.client`, issue 13), which runs before
anything else in every ``avp-py generate``, pays only for the standard library it uses.
"""

import importlib as _importlib
import sys as _sys
import types as _types
import typing as _typing

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    **dict.fromkeys(
        (
            "AvpError",
            "BackendAuthError",
            "BackendError",
            "BackendUnavailableError",
            "ConfigError",
            "ExitCode",
            "InputError",
            "ManifestParseError",
            "ModifierError",
            "PlaceholderError",
            "ResolutionError",
            "SecretNotFoundError",
            "UnresolvedPlaceholdersError",
        ),
        "avp_py.errors",
    ),
    "SecretRef": "avp_py.model",
    "SecretValue": "avp_py.model",
    "RenderResult": "avp_py.render",
    "RenderStats": "avp_py.render",
    "render": "avp_py.render",
    "start_deadline": "avp_py.render",
    "Settings": "avp_py.settings",
    "load_settings": "avp_py.settings",
    "Source": "avp_py.sources",
}

__all__ = [
    "AvpError",
    "BackendAuthError",
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "ExitCode",
    "InputError",
    "ManifestParseError",
    "ModifierError",
    "PlaceholderError",
    "RenderResult",
    "RenderStats",
    "ResolutionError",
    "SecretNotFoundError",
    "SecretRef",
    "SecretValue",
    "Settings",
    "Source",
    "UnresolvedPlaceholdersError",
    "__version__",
    "load_settings",
    "render",
    "start_deadline",
]

if _typing.TYPE_CHECKING:
    from avp_py.errors import (
        AvpError,
        BackendAuthError,
        BackendError,
        BackendUnavailableError,
        ConfigError,
        ExitCode,
        InputError,
        ManifestParseError,
        ModifierError,
        PlaceholderError,
        ResolutionError,
        SecretNotFoundError,
        UnresolvedPlaceholdersError,
    )
    from avp_py.model import SecretRef, SecretValue
    from avp_py.render import RenderResult, RenderStats, render, start_deadline
    from avp_py.settings import Settings, load_settings
    from avp_py.sources import Source


def __getattr__(name: str) -> _typing.Any:
    """Import a public name on first use and keep it (later lookups are plain globals)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'avp_py' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(_types.ModuleType):
    """``avp_py.render`` is the function, as it was when this module imported it eagerly.

    Importing the submodule ``avp_py.render`` (which ``avp_py.cli`` does) makes the import
    system set the package attribute ``render`` to the module; the public name is the function
    of the same name, so that is what the attribute keeps.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "render" and isinstance(value, _types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
