"""The azure-identity credential that ``AVP_AZURE_CREDENTIAL`` names, built from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import (
    AzureCliCredential,
    CertificateCredential,
    ChainedTokenCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from avp_py.backends.azurekeyvault.failures import message_lines
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.azurekeyvault.pipeline import TOKEN_REQUEST, DeadlineTransport
from avp_py.backends.base import BackendStats
from avp_py.errors import ConfigError
from avp_py.model import Deadline

# azure-identity logs every failed token attempt at WARNING. With no handler configured,
# Python's last-resort handler would print them on stderr around the ``Error:`` line (and the
# Entra ID response bodies with them); the error raised carries everything that is needed.
logging.getLogger("azure").addHandler(logging.NullHandler())


def build_credential(
    options: AzureOptions, deadline: Deadline, stats: BackendStats | None = None
) -> TokenCredential:
    """The credential ``AVP_AZURE_CREDENTIAL`` asks for, from explicit settings (never env writes).

    Token requests use their own deadline-bound transport, which counts them in ``stats``.
    """
    transport = DeadlineTransport(deadline, TOKEN_REQUEST, stats=stats)
    builders: dict[str, Callable[[AzureOptions, DeadlineTransport], TokenCredential]] = {
        "default": _default,
        "workload": _workload,
        "managed": _managed,
        "environment": _service_principal,
        "cli": _cli,
    }
    try:
        return builders[options.credential](options, transport)
    except (OSError, ValueError) as exc:  # e.g. an unreadable or invalid certificate file
        transport.close()
        reason = (
            exc.strerror if isinstance(exc, OSError) and exc.strerror else message_lines(exc)[0]
        )
        raise ConfigError(
            f"AVP_AZURE_CREDENTIAL={options.credential}: the credential cannot be built: {reason}",
            [options.hint],
        ) from exc


def _cli(options: AzureOptions, transport: DeadlineTransport) -> TokenCredential:
    transport.close()  # the Azure CLI runs as a subprocess, with its own timeout
    return AzureCliCredential(tenant_id=options.tenant_id)


def _default(options: AzureOptions, transport: DeadlineTransport) -> TokenCredential:
    # DefaultAzureCredential reads AZURE_* from os.environ only; settings that came from a
    # config file or Secret are passed explicitly, in the same order as its own chain.
    chain: list[TokenCredential] = []
    if options.has_service_principal:
        chain.append(_service_principal(options, transport))
    if options.has_workload_identity:
        chain.append(_workload(options, transport))
    kwargs: dict[str, Any] = {"authority": options.authority_host or None}
    if options.client_id:
        kwargs["managed_identity_client_id"] = options.client_id
    chain.append(
        DefaultAzureCredential(
            exclude_environment_credential=options.has_service_principal,
            exclude_workload_identity_credential=options.has_workload_identity,
            exclude_shared_token_cache_credential=True,
            exclude_visual_studio_code_credential=True,
            exclude_powershell_credential=True,
            exclude_developer_cli_credential=True,
            exclude_interactive_browser_credential=True,
            transport=transport,
            **{k: v for k, v in kwargs.items() if v},
        )
    )
    return chain[0] if len(chain) == 1 else ChainedTokenCredential(*chain)


def _workload(options: AzureOptions, transport: DeadlineTransport) -> TokenCredential:
    return WorkloadIdentityCredential(
        tenant_id=options.tenant_id,
        client_id=options.client_id,
        token_file_path=options.federated_token_file,
        transport=transport,
        **_authority(options),
    )


def _managed(options: AzureOptions, transport: DeadlineTransport) -> TokenCredential:
    return ManagedIdentityCredential(client_id=options.client_id or None, transport=transport)


def _service_principal(options: AzureOptions, transport: DeadlineTransport) -> TokenCredential:
    if options.client_secret:
        return ClientSecretCredential(
            options.tenant_id,
            options.client_id,
            options.client_secret,
            transport=transport,
            **_authority(options),
        )
    try:
        return CertificateCredential(
            options.tenant_id,
            options.client_id,
            certificate_path=options.certificate_path,
            password=options.certificate_password or None,
            transport=transport,
            **_authority(options),
        )
    except (OSError, TypeError, ValueError) as exc:
        raise ValueError(_unusable_certificate(exc, options)) from exc


def _unusable_certificate(exc: Exception, options: AzureOptions) -> str:
    """Why the client certificate cannot be loaded, naming the settings to fix."""
    path = f"AZURE_CLIENT_CERTIFICATE_PATH={options.certificate_path}"
    password = bool(options.certificate_password)
    if isinstance(exc, TypeError):
        # cryptography's answer to a password that does not fit the key: none given for an
        # encrypted key, or one given for a key that is not encrypted.
        if password:
            return (
                f"{path} holds a private key that is not encrypted, but"
                " AZURE_CLIENT_CERTIFICATE_PASSWORD is set: unset it"
            )
        return (
            f"{path} holds an encrypted private key and AZURE_CLIENT_CERTIFICATE_PASSWORD is"
            " not set: set it to the key's password"
        )
    if isinstance(exc, OSError):
        return f"{path} cannot be read: {exc.strerror or type(exc).__name__}"
    reason = message_lines(exc)[0]
    if password:
        # Not only when cryptography says "password": a wrong password sometimes decrypts
        # into garbage that passes the padding check (about 1 in 256), and cryptography then
        # reports key data it cannot deserialize. The hint goes first: long reasons are cut.
        return f"{path} cannot be loaded (check AZURE_CLIENT_CERTIFICATE_PASSWORD): {reason}"
    return f"{path}: {reason}"


def _authority(options: AzureOptions) -> dict[str, str]:
    return {"authority": options.authority_host} if options.authority_host else {}
