"""Fixtures for running the real Azure SDK against :class:`tests.kvserver.KeyVaultServer`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from azure.identity import (
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.keyvault.secrets import SecretClient

from tests.isolation import is_inherited_setting
from tests.kvserver import KeyVaultServer
from tests.kvserver.server import Credential

EnvSetter = Callable[..., dict[str, str]]
ClientFactory = Callable[..., SecretClient]


@pytest.fixture
def kv_env(kv: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> EnvSetter:
    """``kv_env("managed" | "workload" | "secret" | "none", client_id=None)`` → applied env."""

    def apply(credential: Credential = "managed", **kwargs: Any) -> dict[str, str]:
        for name in list(os.environ):
            if is_inherited_setting(name):
                monkeypatch.delenv(name)
        env = kv.client_env(credential, **kwargs)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return env

    return apply


AnyCredential = ManagedIdentityCredential | WorkloadIdentityCredential | ClientSecretCredential


def make_credential(kind: Credential, env: dict[str, str]) -> AnyCredential:
    if kind == "workload":
        return WorkloadIdentityCredential()
    if kind == "secret":
        return ClientSecretCredential(
            env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"]
        )
    return ManagedIdentityCredential(client_id=env.get("AZURE_CLIENT_ID"))


@pytest.fixture
def make_client(kv: KeyVaultServer, kv_env: EnvSetter) -> Iterator[ClientFactory]:
    """``make_client(vault="myvault", credential="managed", *, url=None, client_id=None,
    **client_kwargs)``.

    Applies the matching environment, builds the real credential and ``SecretClient`` (small,
    fast retry settings unless overridden) and closes both at teardown.
    """
    with ExitStack() as stack:

        def factory(
            vault: str = "myvault",
            credential: Credential = "managed",
            *,
            url: str | None = None,
            client_id: str | None = None,
            **kwargs: Any,
        ) -> SecretClient:
            env = kv_env(credential, client_id=client_id)
            cred = make_credential(credential, env)
            stack.enter_context(cred)
            kwargs.setdefault("retry_total", 2)
            kwargs.setdefault("retry_backoff_factor", 0.01)
            client = SecretClient(url or kv.vault_url(vault), cred, **kwargs)
            return stack.enter_context(client)

        yield factory
