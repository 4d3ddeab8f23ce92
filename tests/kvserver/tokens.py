"""Access tokens and the identities allowed to obtain them.

Tokens are JWT-shaped (``header.payload.signature``, HS256 with a per-server key) so code that
peeks at claims sees realistic ones, but a vault only accepts a token this server issued and
recorded: who obtained it, for which resource, until when.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

from cryptography import x509

FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_ISSUER = "https://oidc.kvserver.invalid/"
DEFAULT_TTL = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(header: dict[str, object], claims: dict[str, object], key: bytes) -> str:
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def normalize_resource(resource: str) -> str:
    """``https://vault.azure.net/.default`` and ``https://vault.azure.net/`` → no suffix."""
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    return resource.rstrip("/").lower()


def object_id_for(client_id: str) -> str:
    """A stable object id (principal id) for a client id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "kvserver-oid:" + client_id))


@dataclass(frozen=True)
class IssuedToken:
    """A token handed out by one of the token endpoints."""

    token: str
    kind: str  # "managed", "workload", "client_secret" or "certificate"
    client_id: str
    tenant_id: str
    resource: str
    expires_on: int

    @property
    def object_id(self) -> str:
        return object_id_for(self.client_id)


class TokenIssuer:
    """Issues and checks access tokens; knows the federated assertions and client secrets."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._tokens: dict[str, IssuedToken] = {}
        # federated token → the client ids with a federated credential trusting it (one
        # service account token can be exchanged for several user-assigned identities)
        self._assertions: dict[str, set[str]] = {}
        self._client_secrets: dict[str, str] = {}  # client id → secret
        self._certificates: dict[str, list[x509.Certificate]] = {}  # client id → certificates
        self._known: set[str] = set()  # app registrations of the tenant (client ids)

    def issue(self, kind: str, client_id: str, resource: str, ttl: float) -> IssuedToken:
        now = int(time.time())
        expires_on = now + int(ttl)
        claims: dict[str, object] = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": expires_on,
            "appid": client_id,
            "oid": object_id_for(client_id),
            "sub": object_id_for(client_id),
            "tid": self.tenant_id,
            "idtyp": "app",
            "uti": _b64(secrets.token_bytes(12)),
        }
        token = _jwt({"typ": "JWT", "alg": "HS256"}, claims, self._key)
        issued = IssuedToken(token, kind, client_id, self.tenant_id, resource, expires_on)
        with self._lock:
            self._tokens[token] = issued
        return issued

    def lookup(self, token: str) -> IssuedToken | None:
        with self._lock:
            return self._tokens.get(token)

    def issued(self) -> list[IssuedToken]:
        with self._lock:
            return list(self._tokens.values())

    def register(self, client_id: str) -> None:
        """An app registration (or user-assigned identity) exists with this client id."""
        with self._lock:
            self._known.add(client_id)

    def is_known(self, client_id: str) -> bool:
        with self._lock:
            return client_id in self._known

    def trust(self, assertion: str, client_id: str) -> None:
        """Add a federated credential of ``client_id`` trusting this service account token."""
        with self._lock:
            self._known.add(client_id)
            self._assertions.setdefault(assertion.strip(), set()).add(client_id)

    def federated_token(self, client_id: str) -> str:
        """A service-account JWT (as AKS projects it) that the login endpoint accepts."""
        now = int(time.time())
        claims: dict[str, object] = {
            "aud": [FEDERATED_AUDIENCE],
            "iss": FEDERATED_ISSUER,
            "sub": "system:serviceaccount:argocd:argocd-repo-server",
            "iat": now,
            "nbf": now,
            "exp": now + 86400,
        }
        token = _jwt({"alg": "HS256", "kid": "kvserver"}, claims, self._key)
        self.trust(token, client_id)
        return token

    def trusts(self, assertion: str, client_id: str) -> bool:
        """Whether ``client_id`` has a federated credential for this assertion."""
        with self._lock:
            return client_id in self._assertions.get(assertion.strip(), set())

    def add_client_secret(self, client_id: str, secret: str) -> None:
        with self._lock:
            self._known.add(client_id)
            self._client_secrets[client_id] = secret

    def add_client_certificate(self, client_id: str, certificate: x509.Certificate) -> None:
        """Register a certificate credential of ``client_id`` (its public part, as uploaded)."""
        with self._lock:
            self._known.add(client_id)
            self._certificates.setdefault(client_id, []).append(certificate)

    def certificates_of(self, client_id: str) -> list[x509.Certificate]:
        with self._lock:
            return list(self._certificates.get(client_id, []))

    def check_client_secret(self, client_id: str, secret: str) -> bool:
        with self._lock:
            expected = self._client_secrets.get(client_id)
        return expected is not None and hmac.compare_digest(expected, secret)
