"""``avp.kubernetes.io/*`` annotations of one object, parsed once into typed directives.

AVP reads these with ``ParseBool`` and throws the error away, so ``ignore: "yes"`` silently
means *false*, and an unquoted ``true`` makes every annotation invisible (AVP #261). A typo
here decides whether secrets are injected, so avp-py rejects such values instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from avp_py import gocompat
from avp_py.errors import PlaceholderError
from avp_py.model import YamlNode

PREFIX = "avp.kubernetes.io/"
PATH = PREFIX + "path"
SECRET_VERSION = PREFIX + "secret-version"
IGNORE = PREFIX + "ignore"
REMOVE_MISSING = PREFIX + "remove-missing"
KV_VERSION = PREFIX + "kv-version"
ROLLOUT_ON_CHANGE = PREFIX + "rollout-on-change"

KNOWN = frozenset({PATH, SECRET_VERSION, IGNORE, REMOVE_MISSING, KV_VERSION, ROLLOUT_ON_CHANGE})


@dataclass(frozen=True, slots=True)
class Directives:
    """What the annotations ask for. ``path`` is None when the annotation key is absent."""

    path: str | None = None
    secret_version: str = ""
    ignore: bool = False
    remove_missing: bool = False
    rollout_on_change: bool = False

    @property
    def generic(self) -> bool:
        """Generic ``<key>`` placeholders are active when the path annotation key exists (§3.2)."""
        return self.path is not None


def annotations_of(body: YamlNode) -> dict[str, YamlNode]:
    """``metadata.annotations`` of an object, or an empty mapping."""
    if not isinstance(body, dict):
        return {}
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    annotations = metadata.get("annotations")
    if annotations is None:
        return {}
    if not isinstance(annotations, dict):
        raise PlaceholderError("metadata.annotations must be a mapping")
    return annotations


def parse_directives(body: YamlNode) -> Directives:
    """Read and validate the avp-py annotations of one object."""
    annotations = annotations_of(body)
    values = {key: _string(key, value) for key, value in annotations.items() if key in KNOWN}
    return Directives(
        path=values.get(PATH),
        secret_version=values.get(SECRET_VERSION, ""),
        ignore=_flag(IGNORE, values.get(IGNORE)),
        remove_missing=_flag(REMOVE_MISSING, values.get(REMOVE_MISSING)),
        rollout_on_change=_flag(ROLLOUT_ON_CHANGE, values.get(ROLLOUT_ON_CHANGE)),
    )


def _string(key: str, value: YamlNode) -> str:
    if not isinstance(value, str):
        # Kubernetes rejects non-string annotation values too; AVP silently ignores them.
        raise PlaceholderError(f'annotation {key} must be a string: quote its value, e.g. "true"')
    return value


def _flag(key: str, value: str | None) -> bool:
    parsed = False if value is None else gocompat.parse_bool(value)  # AVP reads them so
    if parsed is None:
        raise PlaceholderError(f'annotation {key} must be "true" or "false", not "{value}"')
    return parsed
