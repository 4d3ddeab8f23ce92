"""Fixtures for the tests that run the real Azure SDK against ``tests.kvserver.KeyVaultServer``.

Three ways in, each a fixture: the SDK itself (``kv_env``, ``make_client``: the test server's
own behaviour), avp-py's Azure backend (``make_backend``) and the installed console script
(``avp``: ``generate`` as Argo CD runs it, TLS verification on and a real credential).

Only what a pod's environment really provides goes into ``os.environ`` (the proxy, the CA
bundle and the App Service managed identity endpoint, which azure-identity reads itself);
every ``AZURE_*`` setting of the backend travels in its options mapping, as avp-py passes values
that came from a config file or Secret.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import (
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.keyvault.secrets import SecretClient

from avp_py.backends.azurekeyvault import AzureKeyVaultBackend, create
from avp_py.backends.base import BackendContext, BackendStats
from avp_py.model import Deadline
from tests.isolation import clean_environment, is_inherited_setting
from tests.kvserver import KeyVaultServer
from tests.kvserver.server import Credential


def drop_inherited_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop inherited identity, proxy and CA variables from the process environment."""
    for name in list(os.environ):
        if is_inherited_setting(name):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    drop_inherited_settings(monkeypatch)


@pytest.fixture(autouse=True)
def _fresh_challenges(fresh_challenge_cache: None) -> None:
    """Every test here runs the SDK in this process (tests.kvserver.fixtures)."""


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait azure-core's transports make before a retry, in seconds, in order (the SDK's
    own and avp-py's DeadlineTransport, which calls it after its deadline check). They still
    sleep: tests prove Retry-After, backoff and deadlines by what was waited, not by a clock."""
    waits: list[float] = []
    original = RequestsTransport.sleep

    def recorded(self: RequestsTransport, duration: float) -> None:
        waits.append(duration)
        original(self, duration)

    monkeypatch.setattr(RequestsTransport, "sleep", recorded)
    return waits


# -- the SDK against the test server ----------------------------------------------------------

EnvSetter = Callable[..., dict[str, str]]
ClientFactory = Callable[..., SecretClient]


@pytest.fixture
def kv_env(kv: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> EnvSetter:
    """``kv_env("managed" | "workload" | "secret" | "none", client_id=None)`` → applied env."""

    def apply(credential: Credential = "managed", **kwargs: Any) -> dict[str, str]:
        drop_inherited_settings(monkeypatch)
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


# -- the Azure backend ------------------------------------------------------------------------

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


# -- the console script -----------------------------------------------------------------------


def console_script(name: str = "avp-py") -> str:
    """The console script installed next to the interpreter running the tests."""
    found = shutil.which(name, path=os.path.dirname(sys.executable))
    if found is None:
        pytest.fail(f"console script {name} is not installed next to {sys.executable}")
    return found


@dataclass(frozen=True)
class Run:
    """One finished ``generate`` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """The indented lines under ``Error:`` (one per failure)."""
        return [line.strip() for line in self.stderr.splitlines()[1:] if line.startswith("  ")]


Runner = Callable[..., Run]


def base_environment() -> dict[str, str]:
    """The test process's environment without identity, proxy, CA or avp-py settings."""
    return clean_environment(extra_prefixes=("PYTEST_",))


@pytest.fixture
def avp(kv: KeyVaultServer, tmp_path: Path) -> Runner:
    """``avp(stdin_text=None, *, args=("generate", "-"), credential="managed", env=None,
    script="avp-py", timeout=30)`` → :class:`Run`.

    The child gets ``AVP_TYPE=azurekeyvault``, the server's client environment for
    ``credential`` and ``env`` on top (a value of None removes a variable). It runs in
    ``tmp_path``.
    """

    def run(
        stdin_text: str | None = None,
        *,
        args: Sequence[str] = ("generate", "-"),
        credential: Credential = "managed",
        env: Mapping[str, str | None] | None = None,
        script: str = "avp-py",
        timeout: float = 30.0,
    ) -> Run:
        child = base_environment()
        child.update(kv.client_env(credential))
        child["AVP_TYPE"] = "azurekeyvault"
        for name, value in (env or {}).items():
            if value is None:
                child.pop(name, None)
            else:
                child[name] = value
        done = subprocess.run(
            [console_script(script), *args],
            input=(stdin_text or "").encode(),
            capture_output=True,
            env=child,
            cwd=tmp_path,
            timeout=timeout,
            check=False,
        )
        return Run(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run
