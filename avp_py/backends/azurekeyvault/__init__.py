"""``AVP_TYPE=azurekeyvault``: secrets from Azure Key Vault through azure-keyvault-secrets.

A placeholder's path is the vault (a name, a host or an https URL, see ``addressing``), its key
the secret name and its version the secret version. One ``SecretClient`` per vault per run,
shared by the worker threads; one credential per run. The SDK is imported on the first fetch
(``sdk``), so that runs which fetch nothing do not pay for it.

The first request to a vault runs alone: it answers Key Vault's authentication challenge and
gets the token, which the SDK then caches for the other workers. Without that, every worker
starting at once sends its own unauthenticated request and asks for its own token. If that
first request fails for a reason that is not about its secret (credential, network,
deadline), the workers waiting for the vault fail with the same error instead of trying again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from avp_py.backends.azurekeyvault.addressing import AddressError, check_secret, vault_url
from avp_py.backends.azurekeyvault.localfiles import check_credential_files
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.base import BackendContext, BackendStats, SecretState, VersionInfo
from avp_py.errors import AvpError, BackendUnavailableError, PlaceholderError, ResolutionError
from avp_py.model import Deadline, SecretRef, SecretValue

if TYPE_CHECKING:
    from types import ModuleType

_T = TypeVar("_T")


@dataclass
class _Vault:
    """One vault's client, and whether its first request (the challenge) has finished."""

    client: Any
    ready: threading.Event = field(default_factory=threading.Event)
    primed: bool = False
    failure: AvpError | None = None  # why the first request failed, if not per secret


class AzureKeyVaultBackend:
    """Fetches secrets from one or more vaults with one credential."""

    def __init__(
        self, options: AzureOptions, deadline: Deadline, pool_size: int, stats: BackendStats
    ) -> None:
        self._options = options
        self._deadline = deadline
        self._pool_size = max(1, pool_size)
        self._stats = stats
        self._lock = threading.Lock()
        self._credential: Any = None
        self._vaults: dict[str, _Vault] = {}
        self._closed = False

    def validate(self, ref: SecretRef) -> str | None:
        """Azure's naming rules for vault, secret and version, checked before any request."""
        try:
            vault_url(ref.path, self._options.dns_suffix)
            check_secret(ref.key, ref.version)
        except AddressError as exc:
            return str(exc)
        return None

    def fetch(self, ref: SecretRef) -> SecretValue:
        """GET the secret; 404 and disabled are SecretNotFoundError."""
        return self._request(ref, _get)

    def fetch_state(self, ref: SecretRef) -> SecretState:
        """MetadataBackend: the state of ``ref`` from its versions' metadata, without its value."""
        return self._request(ref, _fetch_state)

    def list_versions(self, ref: SecretRef) -> list[VersionInfo]:
        """VersionListingBackend: every version of the secret, from metadata only."""
        return self._request(ref, _list_versions)

    def list_names(self, ref: SecretRef) -> list[str]:
        """NameListingBackend: the names of the secrets in ``ref``'s vault, metadata only."""
        return self._request(ref, _list_names)

    def _request(
        self,
        ref: SecretRef,
        call: Callable[[ModuleType, Any, SecretRef, Deadline, AzureOptions], _T],
    ) -> _T:
        problem = self.validate(ref)
        if problem:  # callers validate first; a request to such an address is never made
            raise PlaceholderError(f"{ref.describe()}: {problem}")
        sdk = _sdk()
        vault, first = self._vault(sdk, vault_url(ref.path, self._options.dns_suffix))
        if first:
            try:
                self._stats.add("requests")
                return call(sdk, vault.client, ref, self._deadline, self._options)
            except ResolutionError:
                raise  # about this secret only
            except AvpError as exc:
                vault.failure = exc  # credentials, network...: the other fetches would fail too
                raise
            finally:
                vault.ready.set()
        if not vault.ready.wait(self._deadline.remaining(time.monotonic()) + sdk.DEADLINE_GRACE):
            raise BackendUnavailableError(
                f"the deadline (AVP_TIMEOUT_SECONDS) ran out before {ref.describe()} could be"
                " fetched: the first request to its vault did not finish"
            )
        if vault.failure is not None:
            raise type(vault.failure)(str(vault.failure), vault.failure.details())
        self._stats.add("requests")
        return call(sdk, vault.client, ref, self._deadline, self._options)

    def _vault(self, sdk: ModuleType, url: str) -> tuple[_Vault, bool]:
        """The vault's client, and True if the caller makes the vault's first request."""
        with self._lock:
            if self._closed:
                raise BackendUnavailableError("the Azure Key Vault backend is closed")
            if self._credential is None:
                self._credential = sdk.build_credential(self._options, self._deadline, self._stats)
            vault = self._vaults.get(url)
            if vault is None:
                credential = sdk.client_credential(self._credential, self._options)
                client = sdk.build_client(
                    url, credential, self._deadline, self._pool_size, self._stats
                )
                vault = self._vaults[url] = _Vault(client)
            first, vault.primed = not vault.primed, True
            return vault, first

    def close(self) -> None:
        """Close every client and the credential; later fetches fail."""
        with self._lock:
            self._closed = True
            vaults, self._vaults = list(self._vaults.values()), {}
            credential, self._credential = self._credential, None
        for vault in vaults:
            vault.client.close()
            vault.ready.set()
        if credential is not None and hasattr(credential, "close"):
            credential.close()


def _sdk() -> ModuleType:
    from avp_py.backends.azurekeyvault import sdk

    return sdk


def _get(
    sdk: ModuleType, client: Any, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> SecretValue:
    return sdk.get_secret(client, ref, deadline, options)  # type: ignore[no-any-return]


def _fetch_state(
    sdk: ModuleType, client: Any, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> SecretState:
    from avp_py.backends.azurekeyvault import metadata

    return metadata.fetch_state(client, ref, deadline, options)


def _list_versions(
    sdk: ModuleType, client: Any, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> list[VersionInfo]:
    from avp_py.backends.azurekeyvault import metadata

    return metadata.list_versions(client, ref, options)


def _list_names(
    sdk: ModuleType, client: Any, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> list[str]:
    from avp_py.backends.azurekeyvault import metadata

    return metadata.list_names(client, ref, options)


def create(context: BackendContext) -> AzureKeyVaultBackend:
    """Build the backend from ``AVP_AZURE_*``/``AZURE_*`` options (no network, no SDK import).

    ConfigError if the options are invalid, the chosen credential lacks a setting or the workload
    identity token file is missing or unusable.
    """
    options = AzureOptions.from_options(context.options)
    check_credential_files(options)
    return AzureKeyVaultBackend(options, context.deadline, context.max_concurrency, context.stats)
