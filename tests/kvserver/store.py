"""Thread-safe in-memory secret store: vaults → secrets → versions.

Names are matched case-insensitively (as Key Vault does) and keep the casing they were created
with. Every read returns a copy, so callers never see a version change under them.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SECRET_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")
VAULT_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,63}$")


class NotFound(KeyError):
    """No such vault, secret or version."""


@dataclass
class SecretVersion:
    """One version of a secret, as stored."""

    name: str
    version: str
    value: str
    enabled: bool = True
    created: int = 0
    updated: int = 0
    content_type: str | None = None
    tags: dict[str, str] | None = None
    not_before: int | None = None
    expires: int | None = None
    managed: bool = False

    def copy(self) -> SecretVersion:
        tags = dict(self.tags) if self.tags is not None else None
        return dataclasses.replace(self, tags=tags)


@dataclass
class _Secret:
    name: str
    versions: list[SecretVersion] = field(default_factory=list)

    def find(self, version: str | None) -> SecretVersion | None:
        if not version:
            return self.versions[-1] if self.versions else None
        wanted = version.lower()
        return next((v for v in self.versions if v.version == wanted), None)


@dataclass
class _Vault:
    name: str
    secrets: dict[str, _Secret] = field(default_factory=dict)
    # (client id or "*", operation or "*") pairs refused with 403 AccessDenied
    denied: set[tuple[str, str]] = field(default_factory=set)
    # the only client ids with a role on the vault (None: everyone), as Azure RBAC grants
    readers: set[str] | None = None


def new_version_id() -> str:
    """A Key Vault style version id: 32 lowercase hex digits."""
    return uuid.uuid4().hex


class Store:
    """All vaults of one server. Every public method is atomic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vaults: dict[str, _Vault] = {}

    # -- vaults ----------------------------------------------------------------------------
    def add_vault(self, vault: str) -> None:
        if not VAULT_NAME_RE.match(vault):
            raise ValueError(f"invalid vault name {vault!r}")
        with self._lock:
            self._vaults.setdefault(vault.lower(), _Vault(vault.lower()))

    def has_vault(self, vault: str) -> bool:
        with self._lock:
            return vault.lower() in self._vaults

    def vault_names(self) -> list[str]:
        with self._lock:
            return sorted(self._vaults)

    def _vault(self, vault: str) -> _Vault:
        try:
            return self._vaults[vault.lower()]
        except KeyError:
            raise NotFound(vault) from None

    def _secret(self, vault: str, name: str) -> _Secret:
        try:
            return self._vault(vault).secrets[name.lower()]
        except KeyError:
            raise NotFound(name) from None

    # -- secrets ---------------------------------------------------------------------------
    def set_secret(
        self,
        vault: str,
        name: str,
        value: str,
        *,
        enabled: bool = True,
        content_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        not_before: int | None = None,
        expires: int | None = None,
        managed: bool = False,
    ) -> SecretVersion:
        """Add a new version (it becomes the latest); creates the vault if needed."""
        if not SECRET_NAME_RE.match(name):
            raise ValueError(f"invalid secret name {name!r}")
        self.add_vault(vault)
        now = int(time.time())
        with self._lock:
            secrets = self._vault(vault).secrets
            secret = secrets.setdefault(name.lower(), _Secret(name))
            version = SecretVersion(
                name=secret.name,
                version=new_version_id(),
                value=value,
                enabled=enabled,
                created=now,
                updated=now,
                content_type=content_type,
                tags=dict(tags) if tags is not None else None,
                not_before=not_before,
                expires=expires,
                managed=managed,
            )
            secret.versions.append(version)
            return version.copy()

    def get(self, vault: str, name: str, version: str | None = None) -> SecretVersion:
        """The given version, or the latest one (enabled or not). Raises NotFound."""
        with self._lock:
            found = self._secret(vault, name).find(version)
            if found is None:
                raise NotFound(f"{name}/{version}")
            return found.copy()

    def update(
        self, vault: str, name: str, version: str | None, changes: Mapping[str, object]
    ) -> SecretVersion:
        """Change attributes of one version (latest if ``version`` is empty)."""
        allowed = {"enabled", "content_type", "tags", "not_before", "expires"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        with self._lock:
            found = self._secret(vault, name).find(version)
            if found is None:
                raise NotFound(f"{name}/{version}")
            for key, value in changes.items():
                setattr(found, key, value)
            found.updated = int(time.time())
            return found.copy()

    def delete_secret(self, vault: str, name: str) -> None:
        """Remove a secret and all its versions (no soft-delete)."""
        with self._lock:
            vault_obj = self._vault(vault)
            if vault_obj.secrets.pop(name.lower(), None) is None:
                raise NotFound(name)

    def versions(self, vault: str, name: str) -> list[SecretVersion]:
        """All versions, oldest first; empty if the secret does not exist."""
        with self._lock:
            try:
                secret = self._secret(vault, name)
            except NotFound:
                return []
            return [v.copy() for v in secret.versions]

    def latest_versions(self, vault: str) -> list[SecretVersion]:
        """The latest version of every secret in the vault, sorted by name."""
        with self._lock:
            secrets = list(self._vault(vault).secrets.items())
            return [s.versions[-1].copy() for _, s in sorted(secrets) if s.versions]

    # -- access policy ---------------------------------------------------------------------
    def deny(self, vault: str, client_id: str | None, operations: Iterable[str] | None) -> None:
        ops = list(operations) if operations is not None else ["*"]
        with self._lock:
            denied = self._vault(vault).denied
            denied.update((client_id or "*", op) for op in ops)

    def allow_all(self, vault: str) -> None:
        with self._lock:
            self._vault(vault).denied.clear()
            self._vault(vault).readers = None

    def restrict(self, vault: str, client_ids: Iterable[str]) -> None:
        """Only these client ids have a role on the vault; every other one gets 403."""
        self.add_vault(vault)
        with self._lock:
            self._vault(vault).readers = set(client_ids)

    def has_role(self, vault: str, client_id: str) -> bool:
        with self._lock:
            readers = self._vault(vault).readers
            return readers is None or client_id in readers

    def is_denied(self, vault: str, client_id: str, operation: str) -> bool:
        keys = {(c, o) for c in (client_id, "*") for o in (operation, "*")}
        with self._lock:
            return bool(keys & self._vault(vault).denied)
