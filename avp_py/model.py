"""Value types shared by every layer of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypeAlias

# A parsed YAML/JSON node: what PyYAML/json produce for Kubernetes objects.
YamlNode: TypeAlias = "dict[str, YamlNode] | list[YamlNode] | str | int | float | bool | None"


@dataclass(frozen=True, order=True, slots=True)
class SecretRef:
    """One secret a placeholder needs: backend path (AVP's term; a vault for Azure), key, version.

    ``version`` is ``""`` for "latest". Two placeholders with equal refs are fetched once.
    """

    path: str
    key: str
    version: str = ""

    def describe(self) -> str:
        """Human-readable form used in every message: ``path#key`` or ``path#key#version``."""
        suffix = f"#{self.version}" if self.version else ""
        return f"{self.path}#{self.key}{suffix}"


@dataclass(frozen=True, slots=True)
class SecretValue:
    """A value returned by a backend. Its ``repr`` and ``str`` never show the value.

    ``version`` is the concrete version the backend served, when it knows one (Key Vault
    does); it is not secret and feeds the rollout checksum and the cache. ``content_type`` is
    the secret's content type when the backend has one (Key Vault's ``contentType``:
    ``application/x-pkcs12`` for a certificate's secret); not secret either, it tells the
    certificate modifiers how to read the value.
    """

    _value: object = field(repr=False)
    version: str | None = None
    content_type: str | None = None

    def reveal(self) -> object:
        """Return the plaintext. Only substitution and the cache call this."""
        return self._value

    def __repr__(self) -> str:
        return (
            f"SecretValue(<redacted>, version={self.version!r}, content_type={self.content_type!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Deadline:
    """The run's one overall time budget (decision D9): ``seconds`` long, ends at ``expires_at``.

    ``expires_at`` is a ``time.monotonic()`` timestamp.
    """

    seconds: float
    expires_at: float

    def remaining(self, now: float) -> float:
        """Seconds left at monotonic time ``now`` (never negative)."""
        return max(0.0, self.expires_at - now)


class MissingReason(Enum):
    """Why a backend has no usable value for a reference: carried by
    :class:`~avp_py.errors.SecretNotFoundError`, the resolver's :class:`Missing` outcome and a
    backend's ``SecretState``, and classified by ``avp-py check``."""

    NOT_FOUND = "not found"
    PATH_NOT_FOUND = "path not found"  # the whole path is absent (the file backend)
    VERSION_NOT_FOUND = "version not found"
    DISABLED = "disabled"
    NO_VALUE = "has no value"

    def text(self, ref: SecretRef) -> str:
        """The reason in words, as messages show it: ``version 7 not found``."""
        if self is MissingReason.VERSION_NOT_FOUND:
            return f"version {ref.version} not found"
        text: str = self.value
        return text


@dataclass(frozen=True, slots=True)
class Missing:
    """The backend has no (enabled) value for a reference; ``reason`` says why."""

    reason: MissingReason


# What resolving one reference gave: its value, or why there is none.
Outcome = SecretValue | Missing


@dataclass(frozen=True, order=True, slots=True)
class LatestVersion:
    """A reference a render resolved at "latest", and the concrete version it was served.

    ``version`` is None when the secret was missing (``remove-missing`` dropped its key). What
    ``avp-py watch`` compares with Key Vault's current version (issue 14); never a value.
    """

    ref: SecretRef
    version: str | None


@dataclass(frozen=True, slots=True)
class AppContext:
    """The Application being rendered, from the trusted ``ARGOCD_APP_*`` variables."""

    name: str = ""
    namespace: str = ""
    project: str = ""
