"""Azure SDK exceptions translated into avp-py's error tree, in short value-free messages."""

from __future__ import annotations

import json
import re
import ssl
from typing import NoReturn
from urllib.parse import urlsplit

import requests
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from avp_py.backends.azurekeyvault.addressing import DEFAULT_SUFFIX, KNOWN_SUFFIXES
from avp_py.backends.azurekeyvault.causes import find_cause
from avp_py.backends.azurekeyvault.identities import SETTING
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.azurekeyvault.pipeline import (
    TOKEN_REQUEST,
    ChallengeMismatch,
    DeadlineExceeded,
)
from avp_py.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    SecretNotFoundError,
)
from avp_py.model import MissingReason, SecretRef

_MESSAGE_MAX = 300


def describe(ref: SecretRef) -> str:
    """``secret NAME in vault PATH [at version V]`` for messages."""
    version = f" at version {ref.version}" if ref.version else ""
    return f"secret {ref.key} in vault {ref.path}{version}"


def translate(exc: Exception, ref: SecretRef, options: AzureOptions) -> NoReturn:
    """Map an Azure exception to the avp-py error tree (the only place that does)."""
    where = describe(ref)
    mismatch = find_cause(exc, ChallengeMismatch)
    if mismatch is not None:
        raise _challenge_error(mismatch, where, options) from exc
    deadline = find_cause(exc, DeadlineExceeded)
    if deadline is not None and deadline.during == TOKEN_REQUEST:
        raise BackendAuthError(
            f"could not get a token to read {where}: {_deadline_reason(deadline)}", [options.hint]
        ) from exc
    if deadline is not None:
        raise BackendUnavailableError(f"cannot read {where}: {_deadline_reason(deadline)}") from exc
    if isinstance(exc, RecursionError):
        # azure-core decodes JSON answers (errors too) before anything sees them; Key Vault
        # never nests so deeply, a proxy or something posing as the vault might.
        raise BackendError(
            f"cannot read {where}: the answer is JSON nested too deeply to decode"
            " (not Key Vault's: check HTTPS_PROXY and the vault host)"
        ) from exc
    if isinstance(exc, OSError):
        # Not wrapped by azure-core, so not the network's: a file the credential reads when it
        # asks for a token (the workload identity token file, removed after start-up).
        reason = exc.strerror or type(exc).__name__
        raise BackendAuthError(
            f"could not get a token to read {where}: a credential file cannot be read: {reason}",
            [options.hint],
        ) from exc
    if isinstance(exc, ResourceNotFoundError):
        raise SecretNotFoundError(ref) from exc
    if isinstance(exc, ClientAuthenticationError) and not _from_key_vault(exc):
        raise _credential_error(exc, where, options) from exc
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        _translate_status(exc, where, ref, options)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        raise BackendUnavailableError(f"cannot reach {where}: {network_reason(exc)}") from exc
    raise BackendError(f"{where}: {message_lines(exc)[0]}") from exc


def _credential_error(
    exc: ClientAuthenticationError, where: str, options: AzureOptions
) -> BackendAuthError:
    """The credential failed (its own HTTP status is not Key Vault's)."""
    unknown = unknown_client(str(exc), options)
    if unknown is not None:
        return BackendAuthError(f"could not get a token to read {where}: {unknown}")
    lines = message_lines(exc)
    return BackendAuthError(
        f"could not get a token to read {where}: {lines[0]}", [*lines[1:], options.hint]
    )


# Entra ID's answer for a client id no application of the tenant has, and the managed identity
# endpoints' for a client id the node or pod holds no identity for (App Service, then IMDS).
_UNKNOWN_APPLICATION = "AADSTS700016"
_UNKNOWN_MANAGED = ("No User Assigned or Delegated Managed Identity found", "Identity not found")


def unknown_client(message: str, options: AzureOptions) -> str | None:
    """What to fix when the client id the credential sent is nobody's (one line, naming the
    setting that chose it), or None for any other authentication failure."""
    client_id = options.client_id or "(none)"
    if _UNKNOWN_APPLICATION in message:
        problem = (
            f"Microsoft Entra ID has no application with client id {client_id} in tenant"
            f" {options.tenant_id or '(AZURE_TENANT_ID not set)'} (AADSTS700016)"
        )
    elif any(text in message for text in _UNKNOWN_MANAGED):
        problem = f"the managed identity endpoint holds no identity with client id {client_id}"
    else:
        return None
    return f"{problem}: {_chosen_by(options)}"


def _chosen_by(options: AzureOptions) -> str:
    """The setting that chose the client id, as an operator would fix it."""
    if options.identities:
        entries = [
            entry.strip()
            for entry in options.identities.split(",")
            if entry.partition("=")[2].strip() == options.client_id
        ]
        entry = entries[0] if entries else options.client_id
        return (
            f"check the {SETTING} entry {entry} (chosen by the AppProject,"
            " ARGOCD_APP_PROJECT_NAME): the client id of the team's identity"
        )
    return "check AZURE_CLIENT_ID (the identity's client id: az identity show --query clientId)"


def _challenge_error(mismatch: ChallengeMismatch, where: str, options: AzureOptions) -> ConfigError:
    """The vault's domain is not the one Key Vault answers for: a wrong DNS suffix, mostly a
    Private Link name (``privatelink.vaultcore.azure.net``), where Key Vault names
    ``https://vault.azure.net``."""
    domain = urlsplit(mismatch.resource).hostname or ""
    suffix = options.dns_suffix
    fix = (
        f"set AVP_AZURE_VAULT_DNS_SUFFIX={domain}"
        if domain in KNOWN_SUFFIXES and domain != DEFAULT_SUFFIX
        else f"remove AVP_AZURE_VAULT_DNS_SUFFIX (the default is {DEFAULT_SUFFIX})"
    )
    return ConfigError(
        f"cannot read {where}: {mismatch.host} answered Key Vault's authentication challenge"
        f" for {mismatch.resource!r}, a domain that does not cover the host, so no token is"
        f" sent (AVP_AZURE_VAULT_DNS_SUFFIX is {suffix})",
        [
            f"{fix} and address vaults by name or as NAME.{domain or DEFAULT_SUFFIX}: Private"
            " Link needs no suffix change, the public name resolves to the private endpoint"
            " through DNS (the privatelink zone)"
        ],
    )


def _deadline_reason(deadline: DeadlineExceeded) -> str:
    """The refused retry, and what it was retrying (raised while handling that error)."""
    failed = deadline.__context__
    if deadline.status is None and isinstance(failed, (ServiceRequestError, ServiceResponseError)):
        return f"{network_reason(failed)}; {deadline.describe()}"
    return deadline.describe()


def _from_key_vault(exc: HttpResponseError) -> bool:
    """Whether the error is Key Vault's answer (it names a Key Vault error code)."""
    return exc.response is not None and bool(_error(exc)[0])


def _translate_status(
    exc: HttpResponseError, where: str, ref: SecretRef, options: AzureOptions
) -> None:
    code, message = _error(exc)
    status = exc.status_code or 0
    if status == 403 and code == "SecretDisabled":
        raise SecretNotFoundError(ref, MissingReason.DISABLED) from exc
    if status == 401:
        # The challenge was answered and the token still refused (expired, wrong tenant...).
        raise BackendAuthError(
            f"Key Vault refused the token for {where} (HTTP 401): {message or code}",
            [
                f"the token came from AVP_AZURE_CREDENTIAL={options.credential}; check that its"
                " identity belongs to the vault's tenant (AZURE_TENANT_ID, and"
                " AZURE_AUTHORITY_HOST in sovereign clouds) and that the clock is right"
            ],
        ) from exc
    if status == 403:
        who = _identity(options, message)
        raise BackendAuthError(
            f"access denied to {where} (HTTP 403 {code}) for {who}: grant it the"
            f" 'Key Vault Secrets User' role (or a get-secrets access policy) on the vault"
        ) from exc
    if status == 429:
        raise BackendUnavailableError(f"throttled by Key Vault reading {where} (HTTP 429)") from exc
    if status >= 500:
        raise BackendUnavailableError(f"Key Vault failed reading {where} (HTTP {status})") from exc
    raise BackendError(f"Key Vault refused reading {where} (HTTP {status} {code})") from exc


_APPID = re.compile(r"appid=([0-9A-Za-z-]{1,64})")


def _identity(options: AzureOptions, message: str) -> str:
    """The client id Key Vault saw (from its message), else the configured one."""
    found = _APPID.search(message)
    client_id = found.group(1) if found else options.client_id
    return f"the identity with client id {client_id}" if client_id else "the sidecar's identity"


def _error(exc: HttpResponseError) -> tuple[str, str]:
    """The innermost Key Vault error code (``SecretDisabled`` inside ``Forbidden``) and the
    first line of the outer message; ``("", "")`` if the body is not a Key Vault error."""
    try:
        body = json.loads(exc.response.text()) if exc.response is not None else None
    # Not JSON, a body that was never read, or one nested too deeply for json ("[" * 100_000
    # from a proxy): not Key Vault's error either way.
    except (ValueError, AzureError, RecursionError):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    lines = str(error.get("message") or "").strip().splitlines()
    message = lines[0][:_MESSAGE_MAX] if lines else ""
    code = ""
    while isinstance(error, dict):
        code = str(error.get("code") or code)
        error = error.get("innererror")
    return code, message


def network_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words (requests' own text is a paragraph)."""
    certificate = find_cause(exc, ssl.SSLCertVerificationError)
    if certificate is not None:
        detail = certificate.verify_message or "not trusted"
        return (
            f"TLS certificate verification failed ({detail}); check the vault host, HTTPS_PROXY"
            " and the CA bundle (REQUESTS_CA_BUNDLE)"
        )
    proxy = find_cause(exc, requests.exceptions.ProxyError) is not None
    via = " to the proxy (HTTPS_PROXY)" if proxy else ""
    if find_cause(exc, ConnectionRefusedError) is not None:
        return f"connection refused{via}"
    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)):
        return "timed out"
    if find_cause(exc, ConnectionResetError) is not None:
        return "connection reset"
    if find_cause(exc, ssl.SSLError) is not None:
        return "TLS handshake failed"
    return message_lines(exc)[0]


def message_lines(exc: BaseException, limit: int = 6) -> list[str]:
    """The first lines of an SDK message: no values are in them, but keep them short.

    Response bodies (``Content: {...}``) are left out.
    """
    lines = [
        line.strip()[:_MESSAGE_MAX]
        for line in str(exc).strip().splitlines()
        if line.strip() and not line.strip().startswith("Content:")
    ]
    return lines[:limit] or [type(exc).__name__]
