"""``AVP_TYPE=file``: secrets from a local YAML/JSON file, for offline debugging and tests.

Format: ``PATH: {KEY: VALUE}`` holds the latest version of every key at PATH (for Azure-style
placeholders PATH is the vault name and KEY the secret name); ``"PATH#VERSION": {KEY: VALUE}``
holds an older version. VALUE may be any YAML type. The file is the operator's (never an
application's): ``AVP_FILE_PATH`` cannot be set per application.

The file has no notion of a concrete version for the latest entry, nor of a disabled secret:
``fetch`` and ``describe`` report the version only when the reference pins one.

Content types (what Key Vault keeps next to a value; the certificate modifiers read it) are
declared under the reserved top-level key ``"#contentTypes"``, in the same shape:
``"#contentTypes": {PATH: {KEY: TYPE}}``, or ``"PATH#VERSION"`` for one version (else the
PATH entry applies to every version). No placeholder can name that key: a path is never empty.
"""

from __future__ import annotations

from collections.abc import Mapping

from avp_py import yamlcodec
from avp_py.backends.base import BackendContext, BackendStats, SecretState
from avp_py.errors import ConfigError, ManifestParseError, SecretNotFoundError
from avp_py.model import MissingReason, SecretRef, SecretValue, YamlNode

DEFAULT_PATH = "secrets.yaml"
MAX_FILE_BYTES = 64 << 20
CONTENT_TYPES = "#contentTypes"


class FileBackend:
    """Serves values from one parsed secrets file."""

    def __init__(
        self,
        data: Mapping[str, YamlNode],
        stats: BackendStats,
        content_types: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._data = data
        self._stats = stats
        self._content_types = content_types or {}

    def fetch(self, ref: SecretRef) -> SecretValue:
        """The value of ``ref``; a missing path, key or version is SecretNotFoundError."""
        self._stats.add("requests")
        entry = self._data.get(f"{ref.path}#{ref.version}" if ref.version else ref.path)
        if not isinstance(entry, dict):
            reason = (
                MissingReason.VERSION_NOT_FOUND if ref.version else MissingReason.PATH_NOT_FOUND
            )
            raise SecretNotFoundError(ref, reason)
        value = entry.get(ref.key)
        if value is None:
            raise SecretNotFoundError(ref)
        return SecretValue(value, ref.version or None, self._content_type(ref))

    def _content_type(self, ref: SecretRef) -> str | None:
        names = [f"{ref.path}#{ref.version}", ref.path] if ref.version else [ref.path]
        for name in names:
            declared = self._content_types.get(name, {}).get(ref.key)
            if declared is not None:
                return declared
        return None

    def fetch_state(self, ref: SecretRef) -> SecretState:
        """Whether ``fetch(ref)`` would find a value (MetadataBackend); never disabled."""
        self._stats.add("requests")
        if self._has(ref.path, ref.key):
            if not ref.version:
                return SecretState(True)
            if self._has(f"{ref.path}#{ref.version}", ref.key):
                return SecretState(True, version=ref.version)
            return SecretState(False, reason=MissingReason.VERSION_NOT_FOUND)
        if ref.version and self._has(f"{ref.path}#{ref.version}", ref.key):
            return SecretState(True, version=ref.version)
        return SecretState(False, reason=MissingReason.NOT_FOUND)

    def list_names(self, ref: SecretRef) -> list[str]:
        """The keys at ``ref.path`` (NameListingBackend), never their values."""
        self._stats.add("requests")
        entry = self._data.get(ref.path)
        return [str(key) for key in entry] if isinstance(entry, dict) else []

    def _has(self, entry_name: str, key: str) -> bool:
        entry = self._data.get(entry_name)
        return isinstance(entry, dict) and entry.get(key) is not None

    def validate(self, ref: SecretRef) -> str | None:
        """Every reference is acceptable to a file."""
        return None

    def close(self) -> None:
        """Nothing to release."""


def create(context: BackendContext) -> FileBackend:
    """Read ``AVP_FILE_PATH`` (default ``secrets.yaml``)."""
    path = context.options.get("AVP_FILE_PATH") or DEFAULT_PATH
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror
        raise ConfigError(f"cannot read the secrets file {path} (AVP_FILE_PATH): {reason}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"the secrets file {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = yamlcodec.load_yaml(raw.decode("utf-8-sig"))
    except (ManifestParseError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the secrets file {path} is not valid YAML/JSON: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"the secrets file {path} must be a mapping of PATH: {{KEY: VALUE}}")
    content_types = _content_types(data.pop(CONTENT_TYPES, None), path)
    return FileBackend(data, context.stats, content_types)


def _content_types(section: YamlNode, path: str) -> dict[str, dict[str, str]]:
    """The ``"#contentTypes"`` section: ``{PATH: {KEY: TYPE}}`` with string types."""
    if section is None:
        return {}
    shape = f'"{CONTENT_TYPES}" in the secrets file {path} must be a mapping of PATH: {{KEY: TYPE}}'
    if not isinstance(section, dict):
        raise ConfigError(shape)
    result: dict[str, dict[str, str]] = {}
    for entry, types in section.items():
        if not isinstance(types, dict) or not all(isinstance(t, str) for t in types.values()):
            raise ConfigError(f"{shape} (at {entry})")
        result[entry] = {str(key): str(kind) for key, kind in types.items()}
    return result
