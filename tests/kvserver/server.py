"""``KeyVaultServer``: the object tests use (see the package docstring for a tour)."""

from __future__ import annotations

import secrets
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal

from cryptography import x509

from .ca import CertificateAuthority
from .faults import Faults, VaultFaults
from .handlers import App, State
from .proxy import Listener
from .stats import Counters, Span, Spans, peak_overlap
from .store import SecretVersion, Store
from .tokens import IssuedToken, TokenIssuer

Credential = Literal["managed", "workload", "secret", "none"]
AUTHORITY_HOST = "https://login.microsoftonline.com"
NO_PROXY = "127.0.0.1,localhost,::1"


class KeyVaultServer:
    """A Key Vault-compatible HTTPS server, CONNECT proxy and token issuer on 127.0.0.1.

    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(
        self,
        *,
        tenant_id: str | None = None,
        direct_vault: str = "direct",
        strict_vaults: bool = True,
    ) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.managed_client_id = str(uuid.uuid4())
        self.workload_client_id = str(uuid.uuid4())
        self.secret_client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(24)
        self.identity_header = secrets.token_hex(16)
        self.faults = Faults()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._listeners: dict[str, Listener] = {}
        issuer = TokenIssuer(self.tenant_id)
        issuer.add_client_secret(self.secret_client_id, self.client_secret)
        issuer.register(self.workload_client_id)
        self._state = State(
            store=Store(),
            faults=self.faults,
            issuer=issuer,
            counters=Counters(),
            spans=Spans(),
            identity_header=self.identity_header,
            managed_client_id=self.managed_client_id,
            direct_vault=direct_vault,
            strict_vaults=strict_vaults,
        )
        self._state.store.add_vault(direct_vault)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> KeyVaultServer:
        if self._tmp is not None:
            raise RuntimeError("already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="kvserver-")
        try:
            self._ca = CertificateAuthority(Path(self._tmp.name))
            app = App(self._state)
            for kind in ("proxy", "https", "identity"):
                self._listeners[kind] = listener = Listener(kind, app, self._ca)
                listener.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every listener, cut open connections, join all threads, delete temp files."""
        self._state.closing.set()  # a request sleeping out its latency answers now
        for faults in (self.faults, *self._state.all_vault_faults()):
            faults.release()  # a held request would keep its thread from being joined
        for listener in self._listeners.values():
            listener.stop()
        self._listeners.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> KeyVaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- addresses ---------------------------------------------------------------------------------
    def _port(self, kind: str) -> int:
        if kind not in self._listeners:
            raise RuntimeError("server not started")
        return self._listeners[kind].port

    @property
    def proxy_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``HTTPS_PROXY``."""
        return f"http://127.0.0.1:{self._port('proxy')}"

    @property
    def https_url(self) -> str:
        """``https://127.0.0.1:PORT``: direct TLS, serving the vault named ``direct_vault``."""
        return f"https://127.0.0.1:{self._port('https')}"

    @property
    def identity_endpoint(self) -> str:
        """App Service style managed identity endpoint (plain HTTP), for ``IDENTITY_ENDPOINT``."""
        return f"http://127.0.0.1:{self._port('identity')}/msi/token"

    @property
    def ca_file(self) -> str:
        """PEM file of the throw-away CA, for ``REQUESTS_CA_BUNDLE`` / ``connection_verify``."""
        if self._tmp is None:
            raise RuntimeError("server not started")
        return str(self._ca.ca_file)

    @staticmethod
    def vault_url(vault: str, suffix: str = "vault.azure.net") -> str:
        return f"https://{vault}.{suffix}"

    # -- credentials ---------------------------------------------------------------------------
    def federated_token_file(self, client_id: str | None = None) -> str:
        """Write a service-account token the login endpoint accepts for ``client_id``."""
        if self._tmp is None:
            raise RuntimeError("server not started")
        client_id = client_id or self.workload_client_id
        path = Path(self._tmp.name) / f"federated-{client_id}.jwt"
        path.write_text(self._state.issuer.federated_token(client_id))
        return str(path)

    def trust_federated(self, token_file: str, client_id: str) -> None:
        """Give ``client_id`` a federated credential trusting the service account token in
        ``token_file`` (one token, several identities: AKS workload identity per team)."""
        self._state.issuer.trust(Path(token_file).read_text(), client_id)

    def register_client(self, client_id: str) -> None:
        """An identity that exists in the tenant (without any federated credential)."""
        self._state.issuer.register(client_id)

    def add_client_certificate(self, client_id: str, certificate: x509.Certificate) -> None:
        """A certificate credential of ``client_id`` (an app registration's uploaded public
        certificate): ``CertificateCredential`` with its key gets tokens."""
        self._state.issuer.add_client_certificate(client_id, certificate)

    def hold_managed_identities(self, client_ids: Iterable[str]) -> None:
        """The managed identity endpoint holds only these user-assigned identities (and the
        system-assigned one); another client id gets App Service's 400."""
        self._state.managed_identities = {self.managed_client_id, *client_ids}

    def add_client_secret(self, client_id: str, secret: str) -> None:
        """Register another app registration for ``ClientSecretCredential``."""
        self._state.issuer.add_client_secret(client_id, secret)

    def client_env(
        self, credential: Credential = "managed", *, client_id: str | None = None
    ) -> dict[str, str]:
        """Environment for a client (subprocess or monkeypatched) to reach this server.

        Always: HTTPS_PROXY/https_proxy, NO_PROXY/no_proxy, REQUESTS_CA_BUNDLE, SSL_CERT_FILE.
        ``managed``: IDENTITY_ENDPOINT, IDENTITY_HEADER (+ AZURE_CLIENT_ID if ``client_id``).
        ``workload``: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE,
        AZURE_AUTHORITY_HOST. ``secret``: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
        AZURE_AUTHORITY_HOST. Callers should drop other AZURE_*/IDENTITY_* variables they inherit.
        """
        env = {
            "HTTPS_PROXY": self.proxy_url,
            "https_proxy": self.proxy_url,
            "NO_PROXY": NO_PROXY,
            "no_proxy": NO_PROXY,
            "REQUESTS_CA_BUNDLE": self.ca_file,
            "SSL_CERT_FILE": self.ca_file,
        }
        if credential == "managed":
            env.update(
                IDENTITY_ENDPOINT=self.identity_endpoint, IDENTITY_HEADER=self.identity_header
            )
            if client_id:
                env["AZURE_CLIENT_ID"] = client_id
        elif credential == "workload":
            cid = client_id or self.workload_client_id
            env.update(
                AZURE_TENANT_ID=self.tenant_id,
                AZURE_CLIENT_ID=cid,
                AZURE_FEDERATED_TOKEN_FILE=self.federated_token_file(cid),
                AZURE_AUTHORITY_HOST=AUTHORITY_HOST,
            )
        elif credential == "secret":
            env.update(
                AZURE_TENANT_ID=self.tenant_id,
                AZURE_CLIENT_ID=client_id or self.secret_client_id,
                AZURE_CLIENT_SECRET=self.client_secret,
                AZURE_AUTHORITY_HOST=AUTHORITY_HOST,
            )
        return env

    # -- data ----------------------------------------------------------------------------------
    def add_vault(self, vault: str) -> None:
        self._state.store.add_vault(vault)

    def set_secret(
        self,
        vault: str,
        name: str,
        value: str,
        *,
        enabled: bool = True,
        content_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        managed: bool = False,
    ) -> str:
        """Add a version (it becomes the latest), creating the vault; returns the version id."""
        version = self._state.store.set_secret(
            vault,
            name,
            value,
            enabled=enabled,
            content_type=content_type,
            tags=tags,
            managed=managed,
        )
        return version.version

    def import_certificate(
        self, vault: str, name: str, value: str, content_type: str, *, enabled: bool = True
    ) -> str:
        """A certificate's secret, as Key Vault keeps one: ``managed``, with its content type
        (``application/x-pkcs12``: base64 PFX; ``application/x-pem-file``: the PEM bundle).
        Returns the version id (see tests/kvserver/certificates.py for test chains)."""
        return self.set_secret(
            vault, name, value, enabled=enabled, content_type=content_type, managed=True
        )

    def set_enabled(
        self, vault: str, name: str, enabled: bool, *, version: str | None = None
    ) -> None:
        """Enable or disable one version (default: the latest)."""
        self._state.store.update(vault, name, version, {"enabled": enabled})

    def set_validity(
        self,
        vault: str,
        name: str,
        *,
        not_before: int | None = None,
        expires: int | None = None,
        version: str | None = None,
    ) -> None:
        """Set one version's ``nbf`` and ``exp`` (seconds since the epoch; default: latest)."""
        changes = {"not_before": not_before, "expires": expires}
        self._state.store.update(vault, name, version, changes)

    def get_secret(self, vault: str, name: str, version: str | None = None) -> SecretVersion:
        """A copy of a stored version (default: the latest), for assertions."""
        return self._state.store.get(vault, name, version)

    def versions(self, vault: str, name: str) -> list[str]:
        """Version ids, oldest first."""
        return [v.version for v in self._state.store.versions(vault, name)]

    def delete_secret(self, vault: str, name: str) -> None:
        self._state.store.delete_secret(vault, name)

    def deny(
        self, vault: str, *, client_id: str | None = None, permissions: Iterable[str] | None = None
    ) -> None:
        """Answer 403 AccessDenied to ``client_id`` (None: everyone) for the given secret
        permissions (``get``, ``list``, ``set``; None: all)."""
        self._state.store.deny(vault, client_id, permissions)

    def restrict(self, vault: str, client_ids: Iterable[str]) -> None:
        """Azure RBAC on the vault: only ``client_ids`` may use it, the others get Key Vault's
        403 (ForbiddenByRbac-like AccessDenied). ``allow_all`` lifts it."""
        self._state.store.restrict(vault, client_ids)

    def allow_all(self, vault: str) -> None:
        self._state.store.allow_all(vault)

    # -- faults --------------------------------------------------------------------------------
    def vault_faults(self, vault: str) -> VaultFaults:
        """Faults applying to one vault only (``faults`` applies to all)."""
        return self._state.vault_faults(vault)

    def clear_faults(self) -> None:
        self.faults.clear()
        for faults in self._state.all_vault_faults():
            faults.clear()

    # -- observation ---------------------------------------------------------------------------
    def counts(self, vault: str, op: str) -> int:
        """Requests to ``vault`` by operation (``challenge``, ``get``, ``list``, ...)."""
        return self._state.counters.get("vault", vault.lower(), op)

    def status_count(self, status: int, vault: str | None = None) -> int:
        """Key Vault API responses sent with ``status`` (e.g. 429), for one vault or all."""
        if vault is None:
            return self._state.counters.get("status", str(status))
        return self._state.counters.get("vault", vault.lower(), "status", str(status))

    def token_requests(self, kind: str | None = None) -> int:
        """Token requests: ``managed``, ``workload``, ``client_secret`` (None: all)."""
        counters = self._state.counters
        return counters.total("token") if kind is None else counters.get("token", kind)

    def connections(self, listener: str | None = None) -> int:
        """Accepted TCP connections: ``proxy``, ``https``, ``identity`` (None: all)."""
        counters = self._state.counters
        return (
            counters.total("connections")
            if listener is None
            else counters.get("connections", listener)
        )

    def stats(self) -> dict[str, int]:
        """Every counter, keys joined with ``/`` (see :mod:`tests.kvserver.stats`)."""
        return self._state.counters.snapshot()

    def reset_counters(self) -> None:
        self._state.counters.reset()
        self._state.spans.reset()

    def spans(self, vault: str | None = None, op: str | None = None) -> list[Span]:
        """Key Vault requests as the server saw them begin and end (``op`` as in
        :meth:`counts`); copies, in arrival order."""
        return self._state.spans.matching(None if vault is None else vault.lower(), op)

    def in_flight(self, vault: str | None = None, op: str | None = None) -> int:
        """Key Vault requests begun and not yet answered (e.g. held by ``hold()``)."""
        return sum(1 for span in self.spans(vault, op) if span.ended is None)

    def peak_overlap(self, vault: str | None = None, op: str | None = None) -> int:
        """The most Key Vault requests the server handled at one instant."""
        return peak_overlap(self.spans(vault, op))

    def tokens(self) -> list[IssuedToken]:
        """Every token issued so far (kind, client id, resource, expiry)."""
        return self._state.issuer.issued()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected exceptions inside the server (should stay empty)."""
        return list(self._state.errors)
