"""Secret metadata from Azure Key Vault without reading values (``avp-py check`` and ``watch``).

``list_properties_of_secret_versions(name)`` answers with every version's attributes (id,
enabled, created...) and never a value, so a reference is described without fetching it:

* a pinned version: the version with that id, or "version V not found";
* the latest version: the one created last; Key Vault's ``created`` has a one-second
  resolution, so when versions created in the same second disagree on ``enabled`` the
  secret is fetched instead, and its value dropped on the spot;
* no version at all: "not found"; a disabled version: ``enabled=False``, "disabled".

An identity allowed to get secrets but not to list them (an access policy without
``list``) gets a 403 on listing: the reference is then described by fetching it, the value
dropped on the spot. Any other failure is translated exactly as a fetch's would be.

``avp-py watch`` only lists (:func:`list_versions`): it never falls back to fetching, so an
identity that may not list gets an error saying so. Imported only when a reference is
described or listed (it imports the SDK through ``sdk``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from azure.core.exceptions import HttpResponseError
from azure.keyvault.secrets import SecretClient, SecretProperties

from avp_py.backends.azurekeyvault import sdk
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.base import SecretState, VersionInfo, latest_candidates
from avp_py.errors import BackendAuthError, SecretNotFoundError
from avp_py.model import Deadline, MissingReason, SecretRef


def fetch_state(
    client: SecretClient, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> SecretState:
    """The state of ``ref`` (MetadataBackend.fetch_state) through one vault's client."""
    try:
        versions = _infos(client.list_properties_of_secret_versions(ref.key))
    except sdk.FAILURES as exc:
        if not _listing_forbidden(exc):
            sdk.translate(exc, ref, options)
        return state_by_fetching(client, ref, deadline, options)
    if not versions:
        return SecretState(False, reason=MissingReason.NOT_FOUND)
    if ref.version:
        return pinned_state(versions, ref.version)
    state = latest_state(versions)
    return state if state is not None else state_by_fetching(client, ref, deadline, options)


def list_versions(client: SecretClient, ref: SecretRef, options: AzureOptions) -> list[VersionInfo]:
    """Every version of ``ref``'s secret (VersionListingBackend); [] if it does not exist."""
    try:
        return _infos(client.list_properties_of_secret_versions(ref.key))
    except sdk.FAILURES as exc:
        if _listing_forbidden(exc):
            raise BackendAuthError(
                f"the identity may not list the versions of secret {ref.key} in vault"
                f" {ref.path} (HTTP 403): avp-py watch reads metadata only; grant it"
                " 'Key Vault Reader' (or a list-secrets access policy) on the vault"
            ) from exc
        try:
            sdk.translate(exc, ref, options)
        except SecretNotFoundError:
            return []  # no such secret: it has no versions


def list_names(client: SecretClient, ref: SecretRef, options: AzureOptions) -> list[str]:
    """The names of the secrets in ``ref``'s vault (NameListingBackend): one listing, paged by
    the SDK, metadata only. An identity that may not list gets no names."""
    try:
        return [p.name for p in client.list_properties_of_secrets() if p.name]
    except sdk.FAILURES as exc:
        if _listing_forbidden(exc):
            return []  # the identity may get secrets but not list them: no suggestion
        sdk.translate(exc, ref, options)


def _infos(listing: Iterable[SecretProperties]) -> list[VersionInfo]:
    return [
        VersionInfo(
            properties.version or "",
            properties.enabled is not False,
            _seconds(properties.created_on),
            _seconds(properties.not_before),
            _seconds(properties.expires_on),
            bool(properties.managed),
        )
        for properties in listing
    ]


def _seconds(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def pinned_state(versions: Sequence[VersionInfo], version: str) -> SecretState:
    """The state of one version id among the listed ones."""
    wanted = version.lower()
    found = next((p for p in versions if p.version.lower() == wanted), None)
    if found is None:
        return SecretState(False, reason=MissingReason.VERSION_NOT_FOUND)
    return _state(found)


def latest_state(versions: Sequence[VersionInfo]) -> SecretState | None:
    """The state of the newest version; None when the listing cannot tell (see module doc)."""
    candidates = latest_candidates(versions)
    if not candidates:
        return None
    if len(candidates) == 1:
        return _state(candidates[0])
    if len({p.enabled for p in candidates}) == 1:  # same answer whichever is the latest
        enabled = candidates[0].enabled
        reason = None if enabled else MissingReason.DISABLED
        # The validity window is the latest version's own: unknown here.
        managed = {p.managed for p in candidates}
        return SecretState(
            True, enabled, None, reason, managed=managed.pop() if len(managed) == 1 else None
        )
    return None


def _state(version: VersionInfo) -> SecretState:
    enabled = version.enabled
    reason = None if enabled else MissingReason.DISABLED
    return SecretState(
        True,
        enabled,
        version.version or None,
        reason,
        version.not_before,
        version.expires,
        version.managed,
    )


def _listing_forbidden(exc: BaseException) -> bool:
    """A 403 on listing, i.e. the identity may not list (a disabled secret can be listed)."""
    return isinstance(exc, HttpResponseError) and exc.status_code == 403


def state_by_fetching(
    client: SecretClient, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> SecretState:
    """GET the secret and keep only its state and version; the value is never kept."""
    try:
        version = sdk.get_secret(client, ref, deadline, options).version
    except SecretNotFoundError as exc:
        if exc.reason is MissingReason.DISABLED:
            return SecretState(True, False, ref.version or None, MissingReason.DISABLED)
        return SecretState(False, reason=exc.reason)
    return SecretState(True, version=version)
