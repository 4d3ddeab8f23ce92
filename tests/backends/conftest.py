"""Fixtures for the Azure backend: the real SDK and real credentials against ``KeyVaultServer``.

Only what a pod's environment really provides goes into ``os.environ`` (the proxy, the CA
bundle and the App Service managed identity endpoint, which azure-identity reads itself);
every ``AZURE_*`` setting travels in the backend's options mapping, as avp-py passes values
that came from a config file or Secret.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any, Literal

import pytest

from avp_py.backends.azurekeyvault import AzureKeyVaultBackend, create
from avp_py.backends.base import BackendContext, BackendStats
from avp_py.model import Deadline
from tests.isolation import is_inherited_setting
from tests.kvserver import KeyVaultServer

# What a process environment provides; everything else goes into the options mapping.
PROCESS_KEYS = (
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
)

Kind = Literal["managed", "workload", "environment", "default-workload", "default-managed"]
# AVP_AZURE_CREDENTIAL and the kvserver identity behind each kind.
KINDS: dict[str, tuple[str, Literal["managed", "workload", "secret"]]] = {
    "managed": ("managed", "managed"),
    "workload": ("workload", "workload"),
    "environment": ("environment", "secret"),
    "default-workload": ("default", "workload"),
    "default-managed": ("default", "managed"),
}
TOKEN_KIND = {"managed": "managed", "workload": "workload", "secret": "client_secret"}

BackendFactory = Callable[..., AzureKeyVaultBackend]


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop inherited identity, proxy and CA variables."""
    for name in list(os.environ):
        if is_inherited_setting(name):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
def make_backend(kv: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackendFactory]:
    """``make_backend(kind="managed", *, timeout=10.0, concurrency=16, client_id=None,
    **options)`` → a backend from ``create(BackendContext(...))``, closed at teardown.

    The server's proxy, CA and identity endpoint go into the process environment; ``AZURE_*``
    and ``AVP_AZURE_*`` only into the options mapping (extra keyword arguments are added to it).
    """
    with ExitStack() as stack:

        def factory(
            kind: Kind = "managed",
            *,
            timeout: float = 10.0,
            concurrency: int = 16,
            client_id: str | None = None,
            **extra: str,
        ) -> AzureKeyVaultBackend:
            choice, identity = KINDS[kind]
            env = kv.client_env(identity, client_id=client_id)
            for name in PROCESS_KEYS:
                if name in env:
                    monkeypatch.setenv(name, env[name])
            options = {k: v for k, v in env.items() if k not in PROCESS_KEYS}
            options["AVP_AZURE_CREDENTIAL"] = choice
            options.update(extra)
            backend = build(options, timeout=timeout, concurrency=concurrency)
            stack.callback(backend.close)
            return backend

        yield factory
    # Nothing the test did may have leaked credentials into the process environment.
    assert not [name for name in os.environ if name.startswith("AZURE_")]


def build(
    options: Mapping[str, str], *, timeout: float = 10.0, concurrency: int = 16
) -> AzureKeyVaultBackend:
    """``create()`` with a fresh deadline of ``timeout`` seconds."""
    deadline = Deadline(timeout, time.monotonic() + timeout)
    return create(BackendContext(dict(options), deadline, concurrency, BackendStats()))


def secret_free(text: str, kv: KeyVaultServer, *values: str) -> bool:
    """True if ``text`` holds no issued token, no client secret and none of ``values``."""
    forbidden = [t.token for t in kv.tokens()] + [kv.client_secret, *values]
    return not any(item and item in text for item in forbidden)


def error_text(exc: BaseException) -> str:
    """Message and detail lines of an avp-py error, as the CLI would print them."""
    details: Any = getattr(exc, "details", lambda: ())()
    return "\n".join([str(exc), *details])
