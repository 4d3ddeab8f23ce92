"""avp-py: fill ``<placeholders>`` in Kubernetes manifests from a secrets backend.

A drop-in replacement for argocd-vault-plugin, focused on Azure Key Vault. The command line
lives in :mod:`avp_py.cli`; as a library::

    from avp_py import Source, load_settings, render, start_deadline

    settings = load_settings({"AVP_TYPE": "file", "AVP_FILE_PATH": "secrets.yaml"})
    result = render([Source("app.yaml", text)], settings, start_deadline(settings.timeout_seconds))
    print(result.text)

Every failure is an :class:`AvpError` subclass (its ``exit_code`` and ``details()`` say more).
"""

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

__version__ = "0.1.0"

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
