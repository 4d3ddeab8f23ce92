"""Request handling: the Key Vault secrets REST API and the identity endpoints.

Transport-free: :class:`App` turns a parsed :class:`Request` into a :class:`Response`; the
listeners in :mod:`tests.kvserver.proxy` do the sockets, TLS and HTTP framing.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote

from . import grants
from .faults import Action, Faults, VaultFaults
from .stats import Counters, Spans
from .store import SECRET_NAME_RE, NotFound, SecretVersion, Store
from .tokens import DEFAULT_TTL, IssuedToken, TokenIssuer, normalize_resource

JSON = dict[str, object]

LOGIN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login.microsoftonline.de",
    }
)
# What Key Vault names as the authority in its challenge, by DNS suffix (public cloud vaults
# really send login.windows.net); anything else gets the public-cloud value.
CHALLENGE_AUTHORITY = {
    "vault.azure.net": "login.windows.net",
    "vault.azure.cn": "login.chinacloudapi.cn",
    "vault.usgovcloudapi.net": "login.microsoftonline.us",
    "vault.microsoftazure.de": "login.microsoftonline.de",
}
# The resource Key Vault names in its challenge when it is not the host's own suffix: a vault
# addressed by its Private Link name answers for the public cloud's domain, as real Key Vault
# does (the SDK then refuses to send a token, because the resource does not cover the host).
CHALLENGE_RESOURCE = {"privatelink.vaultcore.azure.net": "vault.azure.net"}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PAGE_MAX = 25
PERMISSION = {"get": "get", "list": "list", "list_versions": "list", "set": "set", "update": "set"}
RBAC_ACTIONS = {
    "get": "Microsoft.KeyVault/vaults/secrets/getSecret/action",
    "list": "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    "set": "Microsoft.KeyVault/vaults/secrets/setSecret/action",
}


@dataclass
class Request:
    method: str
    host: str  # lowercase, without port
    authority: str  # host[:port] as the client addressed it
    path: str
    query: dict[str, str]  # first value of each parameter, names lowercased
    headers: dict[str, str]  # names lowercased
    body: bytes
    listener: str  # "proxy" (tunnelled TLS), "https" or "identity"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: Literal["close", "reset"] | None = None


def json_response(
    status: int, body: object, headers: list[tuple[str, str]] | None = None
) -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    hdrs = [("Content-Type", "application/json; charset=utf-8"), *(headers or [])]
    return Response(status, data, hdrs)


def kv_error(
    status: int,
    code: str,
    message: str,
    inner: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    error: JSON = {"code": code, "message": message}
    if inner is not None:
        error["innererror"] = {"code": inner}
    return json_response(status, {"error": error}, headers)


@dataclass
class State:
    """Everything the handlers share; owned by :class:`tests.kvserver.KeyVaultServer`."""

    store: Store
    faults: Faults
    issuer: TokenIssuer
    counters: Counters
    spans: Spans
    identity_header: str
    managed_client_id: str
    direct_vault: str
    strict_vaults: bool = True
    # client ids the managed identity endpoint holds (None: any client id, the default)
    managed_identities: set[str] | None = None
    errors: list[str] = field(default_factory=list)
    closing: threading.Event = field(default_factory=threading.Event)
    _vault_faults: dict[str, VaultFaults] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def vault_faults(self, vault: str) -> VaultFaults:
        with self._lock:
            return self._vault_faults.setdefault(vault.lower(), VaultFaults())

    def all_vault_faults(self) -> list[VaultFaults]:
        with self._lock:
            return list(self._vault_faults.values())

    def vault_for(self, host: str) -> tuple[str, str] | None:
        """``(vault name, DNS suffix)`` for a vault host name, else None."""
        if host in LOCAL_HOSTS:
            return self.direct_vault, "vault.azure.net"
        name, _, suffix = host.partition(".")
        if not name or "." not in suffix or host in LOGIN_HOSTS:
            return None
        return name, suffix

    def serves_host(self, host: str) -> bool:
        """Whether a CONNECT to ``host`` is answered (unknown vaults look like DNS failures)."""
        if host in LOGIN_HOSTS:
            return True
        vault = self.vault_for(host)
        if vault is None:
            return False
        return not self.strict_vaults or self.store.has_vault(vault[0])

    def record_error(self) -> None:
        with self._lock:
            self.errors.append(traceback.format_exc())


class App:
    def __init__(self, state: State) -> None:
        self.state = state
        self.vaults = VaultApi(state)
        self.identity = IdentityApi(state)

    def handle(self, req: Request) -> Response:
        try:
            return self._route(req)
        except Exception:  # noqa: BLE001 - reported through State.errors and a 500
            self.state.record_error()
            return kv_error(500, "InternalError", "kvserver bug; see KeyVaultServer.errors")

    def _route(self, req: Request) -> Response:
        if req.listener == "identity":
            return self.identity.managed(req)
        if req.host in LOGIN_HOSTS:
            return self.identity.login(req)
        vault = self.state.vault_for(req.host)
        if vault is None:
            return kv_error(404, "NotFound", f"kvserver does not serve host {req.host}")
        return self.vaults.handle(req, *vault)


# --------------------------------------------------------------------------------------------
# Key Vault secrets REST API
# --------------------------------------------------------------------------------------------

Route = Callable[[Request, "Ctx"], Response]


@dataclass(frozen=True)
class Ctx:
    vault: str
    base: str  # https://host[:port] used in ids
    name: str = ""
    version: str = ""


def _attributes(v: SecretVersion) -> JSON:
    attrs: JSON = {"enabled": v.enabled}
    if v.not_before is not None:
        attrs["nbf"] = v.not_before
    if v.expires is not None:
        attrs["exp"] = v.expires
    attrs.update(
        created=v.created,
        updated=v.updated,
        recoveryLevel="Recoverable+Purgeable",
        recoverableDays=90,
    )
    return attrs


def _item(base: str, v: SecretVersion, *, versioned: bool, value: bool = False) -> JSON:
    body: JSON = {"value": v.value} if value else {}
    body["id"] = f"{base}/secrets/{v.name}/{v.version}" if versioned else f"{base}/secrets/{v.name}"
    if v.content_type is not None:
        body["contentType"] = v.content_type
    body["attributes"] = _attributes(v)
    if v.tags is not None:
        body["tags"] = v.tags
    if v.managed:
        body["managed"] = True
        if value:
            body["kid"] = f"{base}/keys/{v.name}/{v.version}"
    return body


def _not_found(name: str) -> Response:
    return kv_error(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name} was not found in this key vault. If you recently deleted"
        " this secret you may be able to recover it using the correct recovery command. For help"
        " resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )


def _bad(message: str) -> Response:
    return kv_error(400, "BadParameter", message)


def _disabled(operation: str) -> Response:
    message = f"Operation {operation} is not allowed on a disabled secret."
    return kv_error(403, "Forbidden", message, inner="SecretDisabled")


def _decode_json(body: bytes) -> JSON | None:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _changes(body: JSON) -> dict[str, object]:
    """Store keyword arguments from a SecretSetParameters / SecretUpdateParameters body."""
    changes: dict[str, object] = {}
    attrs = body.get("attributes")
    if isinstance(attrs, dict):
        if isinstance(attrs.get("enabled"), bool):
            changes["enabled"] = attrs["enabled"]
        for wire, key in (("nbf", "not_before"), ("exp", "expires")):
            if wire in attrs:
                changes[key] = _int_or_none(attrs[wire])
    if "contentType" in body:
        changes["content_type"] = body["contentType"]
    tags = body.get("tags")
    if isinstance(tags, dict):
        changes["tags"] = {str(k): str(v) for k, v in tags.items()}
    return changes


class VaultApi:
    def __init__(self, state: State) -> None:
        self.state = state

    def handle(self, req: Request, vault: str, suffix: str) -> Response:
        op, route, ctx = self._resolve(req, vault)
        counters = self.state.counters
        authenticated = "authorization" in req.headers
        counters.incr("vault", vault, op if authenticated else "challenge")
        span = self.state.spans.begin(vault, op if authenticated else "challenge")
        try:
            response = self._faulted(vault) or self._serve(req, suffix, op, route, ctx)
        finally:
            self.state.spans.end(span)
        if response.drop is None:
            counters.incr("vault", vault, "status", str(response.status))
            counters.incr("status", str(response.status))
        return response

    def _serve(self, req: Request, suffix: str, op: str, route: Route, ctx: Ctx) -> Response:
        if not self.state.store.has_vault(ctx.vault):
            return kv_error(404, "VaultNotFound", f"Vault {ctx.vault} does not exist.")
        if "api-version" not in req.query:
            return _bad(
                "The api-version query parameter (?api-version=) is required for all requests."
            )
        return self._authorize(req, ctx.vault, suffix, op) or route(req, ctx)

    def _resolve(self, req: Request, vault: str) -> tuple[str, Route, Ctx]:
        authority = req.authority.removesuffix(":443")
        base = Ctx(vault, f"https://{authority}")
        parts = [unquote(p) for p in req.path.split("/")[1:]]
        if parts[-2:] == ["secrets", ""] and len(parts) == 2:
            parts = ["secrets"]
        if not parts or parts[0].lower() != "secrets":
            return "other", self._unsupported, base
        name, version = (parts[1:] + ["", ""])[:2]
        ctx = Ctx(vault, base.base, name, version)
        return self._pick(req.method, len(parts), version) + (ctx,)

    def _pick(self, method: str, n_parts: int, version: str) -> tuple[str, Route]:
        if n_parts == 1:
            return ("list", self._list) if method == "GET" else ("other", self._unsupported)
        if method == "GET" and version.lower() == "versions" and n_parts == 3:
            return "list_versions", self._list_versions
        table: dict[str, tuple[str, Route]] = {
            "GET": ("get", self._get),
            "PUT": ("set", self._set),
            "PATCH": ("update", self._update),
        }
        if n_parts > 3 or method not in table or (method == "PUT" and version):
            return "other", self._unsupported
        return table[method]

    def _faulted(self, vault: str) -> Response | None:
        faults = (self.state.faults, self.state.vault_faults(vault))
        delay = sum(f.latency for f in faults)
        if delay > 0:
            self.state.closing.wait(delay)  # cut short when the server closes
        for f in faults:
            f.wait_released()
        for f in faults:
            action = f.decide()
            if action is not None:
                return self._fault_response(action)
        return None

    @staticmethod
    def _fault_response(action: Action) -> Response:
        if action.kind in ("drop", "reset"):
            return Response(0, drop="reset" if action.kind == "reset" else "close")
        if action.kind == "raw":
            return Response(action.status, action.body, [("Content-Type", action.content_type)])
        if action.kind == "error":
            code = "ServiceUnavailable" if action.status == 503 else "InternalServerError"
            return kv_error(action.status, code, "Injected failure (kvserver fault).")
        headers: list[tuple[str, str]] = []
        if action.retry_after is not None:
            seconds = action.retry_after
            headers.append(("Retry-After", f"{seconds:g}"))
        message = (
            "Request was not processed because too many requests were received. Reason: A"
            " (VaultOps) transaction limit was exceeded."
        )
        return kv_error(429, "Throttled", message, headers=headers)

    # -- authentication and authorization -----------------------------------------------------
    def _challenge(self, suffix: str, message: str, error: str | None = None) -> Response:
        authority = CHALLENGE_AUTHORITY.get(suffix, "login.windows.net")
        header = (
            f'Bearer authorization="https://{authority}/{self.state.issuer.tenant_id}",'
            f' resource="https://{_resource(suffix)}"'
        )
        if error:
            header += f', error="{error}"'
        return kv_error(401, "Unauthorized", message, headers=[("WWW-Authenticate", header)])

    def _authorize(self, req: Request, vault: str, suffix: str, op: str) -> Response | None:
        header = req.headers.get("authorization")
        if header is None:
            return self._challenge(suffix, "Request is missing a Bearer or PoP token.")
        scheme, _, token = header.partition(" ")
        issued = self.state.issuer.lookup(token.strip()) if scheme.lower() == "bearer" else None
        problem = self._token_problem(issued, suffix)
        if problem is not None:
            return self._challenge(suffix, problem, error="invalid_token")
        assert issued is not None
        if op in PERMISSION and not self.state.store.has_role(vault, issued.client_id):
            return self._forbidden_by_rbac(vault, issued, req.path, PERMISSION[op])
        if op in PERMISSION and self.state.store.is_denied(vault, issued.client_id, PERMISSION[op]):
            return self._access_denied(vault, issued, PERMISSION[op])
        return None

    def _token_problem(self, issued: IssuedToken | None, suffix: str) -> str | None:
        if issued is None:
            return "AKV10032: Invalid issuer. The token was not issued by kvserver."
        expected = f"https://{_resource(suffix)}"
        if normalize_resource(issued.resource) != expected.lower():
            return f"AKV10022: Invalid audience. Expected {expected}, found: {issued.resource}."
        if self.state.faults.reject_tokens_as_expired or issued.expires_on <= time.time():
            return "AKV10000: Request is missing a valid token: the token is expired."
        return None

    def _access_denied(self, vault: str, issued: IssuedToken, permission: str) -> Response:
        principal = (
            f"appid={issued.client_id};oid={issued.object_id};"
            f"iss=https://sts.windows.net/{issued.tenant_id}/"
        )
        message = (
            f"The user, group or application '{principal}' does not have secrets {permission}"
            f" permission on key vault '{vault};location=westus'. For help resolving this issue,"
            " please see https://go.microsoft.com/fwlink/?linkid=2125287"
        )
        return kv_error(403, "Forbidden", message, inner="AccessDenied")

    def _forbidden_by_rbac(
        self, vault: str, issued: IssuedToken, path: str, permission: str
    ) -> Response:
        """Key Vault's answer to an identity without a role on an RBAC vault."""
        caller = (
            f"appid={issued.client_id};oid={issued.object_id};"
            f"iss=https://sts.windows.net/{issued.tenant_id}/"
        )
        resource = (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/kvserver"
            f"/providers/microsoft.keyvault/vaults/{vault}{path.rstrip('/').lower()}"
        )
        message = (
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny"
            " assignments or role definitions were changed recently, please observe propagation"
            f" time.\r\nCaller: {caller}\r\nAction: '{RBAC_ACTIONS[permission]}'\r\n"
            f"Resource: '{resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null"
            f"\r\nDecisionReason: null \r\nVault: {vault};location=westus\r\n"
        )
        return kv_error(403, "Forbidden", message, inner="ForbiddenByRbac")

    # -- operations -------------------------------------------------------------------------------
    @staticmethod
    def _unsupported(req: Request, ctx: Ctx) -> Response:
        return kv_error(
            405, "MethodNotAllowed", f"kvserver does not implement {req.method} {req.path}"
        )

    def _get(self, req: Request, ctx: Ctx) -> Response:
        if not SECRET_NAME_RE.match(ctx.name):
            return _bad(f"The request URI contains an invalid name: {ctx.name}")
        try:
            v = self.state.store.get(ctx.vault, ctx.name, ctx.version or None)
        except NotFound:
            return _not_found(f"{ctx.name}/{ctx.version}" if ctx.version else ctx.name)
        if not v.enabled:
            return _disabled("get")
        return json_response(200, _item(ctx.base, v, versioned=True, value=True))

    def _set(self, req: Request, ctx: Ctx) -> Response:
        if not SECRET_NAME_RE.match(ctx.name):
            return _bad(f"The request URI contains an invalid name: {ctx.name}")
        body = _decode_json(req.body)
        if body is None or not isinstance(body.get("value"), str):
            return _bad("The parameter value is required and must be a string.")
        changes = _changes(body)
        value = str(body["value"])
        v = self.state.store.set_secret(ctx.vault, ctx.name, value, **changes)  # type: ignore[arg-type]
        return json_response(200, _item(ctx.base, v, versioned=True, value=True))

    def _update(self, req: Request, ctx: Ctx) -> Response:
        body = _decode_json(req.body)
        if body is None:
            return _bad("The request body is not valid JSON.")
        try:
            v = self.state.store.update(ctx.vault, ctx.name, ctx.version or None, _changes(body))
        except NotFound:
            return _not_found(f"{ctx.name}/{ctx.version}" if ctx.version else ctx.name)
        return json_response(200, _item(ctx.base, v, versioned=True))

    def _list(self, req: Request, ctx: Ctx) -> Response:
        items = [
            _item(ctx.base, v, versioned=False) for v in self.state.store.latest_versions(ctx.vault)
        ]
        return self._page(req, items)

    def _list_versions(self, req: Request, ctx: Ctx) -> Response:
        versions = self.state.store.versions(ctx.vault, ctx.name)
        return self._page(req, [_item(ctx.base, v, versioned=True) for v in versions])

    def _page(self, req: Request, items: list[JSON]) -> Response:
        size, start = _page_args(req.query)
        if size is None or start is None:
            return _bad("Invalid maxresults or $skiptoken: maxresults must be between 1 and 25.")
        page = items[start : start + size]
        next_link = None
        if start + size < len(items):
            next_link = _next_link(req, start + size)
        return json_response(200, {"value": page, "nextLink": next_link})


def _page_args(query: Mapping[str, str]) -> tuple[int | None, int | None]:
    try:
        size = int(query.get("maxresults", PAGE_MAX))
    except ValueError:
        return None, None
    if not 1 <= size <= PAGE_MAX:
        return None, None
    token = query.get("$skiptoken")
    if token is None:
        return size, 0
    try:
        marker = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return size, int(marker["NextMarker"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return size, None


def _resource(suffix: str) -> str:
    """The domain a vault under ``suffix`` names as its resource (challenge, token audience)."""
    return CHALLENGE_RESOURCE.get(suffix, suffix)


def _next_link(req: Request, start: int) -> str:
    authority = req.authority if ":" in req.authority else req.authority + ":443"
    marker = json.dumps({"NextMarker": start, "TargetLocation": 0}).encode()
    token = base64.urlsafe_b64encode(marker).rstrip(b"=").decode()
    link = (
        f"https://{authority}{req.path}?api-version={req.query['api-version']}&$skiptoken={token}"
    )
    if "maxresults" in req.query:
        link += f"&maxresults={req.query['maxresults']}"
    return link


# --------------------------------------------------------------------------------------------
# Identity endpoints: App Service managed identity, Microsoft Entra ID (login hosts)
# --------------------------------------------------------------------------------------------


def _aad_error(
    status: int,
    error: str,
    description: str,
    code: int,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "error_uri": "https://login.microsoftonline.com/error?code=" + str(code),
    }
    return json_response(status, body, headers)


class IdentityApi:
    def __init__(self, state: State) -> None:
        self.state = state

    def _ttl(self) -> float:
        ttl = self.state.faults.token_ttl
        return DEFAULT_TTL if ttl is None else ttl

    def _retry_after(self) -> list[tuple[str, str]]:
        seconds = self.state.faults.token_retry_after
        return [] if seconds is None else [("Retry-After", f"{seconds:g}")]

    def _pause(self) -> None:
        if self.state.faults.token_latency > 0:
            time.sleep(self.state.faults.token_latency)

    # -- App Service style managed identity (plain HTTP on 127.0.0.1) --------------------------
    def managed(self, req: Request) -> Response:
        if req.path != "/msi/token":
            return json_response(404, {"statusCode": 404, "message": "Not found"})
        self.state.counters.incr("token", "managed")
        self._pause()
        if self.state.faults.token_endpoint_down:
            body = {"statusCode": 503, "message": "Service unavailable"}
            return json_response(503, body, self._retry_after())
        problem = self._managed_problem(req)
        if problem is not None:
            return json_response(problem[0], {"statusCode": problem[0], "message": problem[1]})
        client_id = self._managed_client(req.query)
        assigned = self.state.managed_identities
        if assigned is not None and client_id not in assigned:
            # App Service's answer for a client id no identity of the resource has (no AADSTS:
            # the endpoint never asks Entra ID about an identity it does not hold).
            message = (
                "No User Assigned or Delegated Managed Identity found for specified"
                " ClientId/ResourceId/PrincipalId."
            )
            return json_response(400, {"statusCode": 400, "message": message})
        resource = req.query["resource"]
        issued = self.state.issuer.issue("managed", client_id, resource, self._ttl())
        body = {
            "access_token": issued.token,
            "expires_on": str(issued.expires_on),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id,
        }
        return json_response(200, body)

    def _managed_problem(self, req: Request) -> tuple[int, str] | None:
        if req.method != "GET":
            return 405, "Only GET is supported"
        if req.headers.get("x-identity-header") != self.state.identity_header:
            return 401, "X-IDENTITY-HEADER is missing or does not match IDENTITY_HEADER"
        if req.query.get("api-version") != "2019-08-01":
            return 400, "api-version must be 2019-08-01"
        if not req.query.get("resource"):
            return 400, "resource is required"
        return None

    def _managed_client(self, query: Mapping[str, str]) -> str:
        if query.get("client_id"):
            return query["client_id"]
        for key in ("mi_res_id", "object_id", "principal_id"):
            if query.get(key):
                return str(uuid.uuid5(uuid.NAMESPACE_URL, "kvserver-mi:" + query[key]))
        return self.state.managed_client_id

    # -- Microsoft Entra ID (login.microsoftonline.com and sovereign hosts, via the proxy) ----
    def login(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        tenant, rest = parts[0], "/".join(parts[1:])
        if req.method == "GET" and tenant == "common" and rest == "discovery/instance":
            self.state.counters.incr("aad", "instance_discovery")
            return json_response(200, _instance_discovery(req.host))
        if req.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            self.state.counters.incr("aad", "openid_configuration")
            return self._openid_configuration(req.host, tenant)
        if req.method == "POST" and rest == "oauth2/v2.0/token":
            return self._token(req, tenant)
        return _aad_error(
            404, "invalid_request", "AADSTS900561: kvserver: unknown endpoint.", 900561
        )

    def _tenant_ok(self, tenant: str) -> bool:
        return tenant == self.state.issuer.tenant_id

    def _openid_configuration(self, host: str, tenant: str) -> Response:
        if not self._tenant_ok(tenant) and tenant not in ("common", "organizations"):
            return _unknown_tenant(tenant)
        base = f"https://{host}/{tenant}"
        return json_response(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "jwks_uri": f"https://{host}/{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"https://{host}/{self.state.issuer.tenant_id}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "tenant_region_scope": "WW",
                "cloud_instance_name": "microsoftonline.com",
            },
        )

    def _token(self, req: Request, tenant: str) -> Response:
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        kind = _grant_kind(form)
        self.state.counters.incr("token", kind)
        self._pause()
        if self.state.faults.token_endpoint_down:
            return _aad_error(
                503,
                "temporarily_unavailable",
                "AADSTS90033: kvserver fault.",
                90033,
                self._retry_after(),
            )
        if not self._tenant_ok(tenant):
            return _unknown_tenant(tenant)
        problem = _form_problem(form) or self._client_problem(form, kind)
        if problem is not None:
            return problem
        resource = form["scope"].split()[0].removesuffix("/.default")
        issued = self.state.issuer.issue(kind, form["client_id"], resource, self._ttl())
        ttl = issued.expires_on - int(time.time())
        body = {
            "token_type": "Bearer",
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": issued.token,
        }
        return json_response(200, body)

    def _client_problem(self, form: Mapping[str, str], kind: str) -> Response | None:
        client_id = form.get("client_id", "")
        if kind != "client_secret" and form.get("client_assertion_type") != JWT_BEARER:
            return _aad_error(
                400, "invalid_request", "AADSTS50027: bad client_assertion_type.", 50027
            )
        # Entra ID looks the application up first, whatever the grant proves it with.
        if not self.state.issuer.is_known(client_id):
            return _unknown_client(client_id, self.state.issuer.tenant_id)
        if kind == "certificate":
            certificates = self.state.issuer.certificates_of(client_id)
            if not grants.signed_by(form["client_assertion"], certificates):
                message = (
                    "AADSTS700027: The certificate with identifier used to sign the client"
                    f" assertion is not registered on application. Client id {client_id}."
                )
                return _aad_error(401, "invalid_client", message, 700027)
            return None
        if kind == "workload":
            if not self.state.issuer.trusts(form["client_assertion"], client_id):
                message = (
                    "AADSTS700213: No matching federated identity record found for presented"
                    f" assertion. Client id {client_id}."
                )
                return _aad_error(401, "invalid_client", message, 700213)
            return None
        if not self.state.issuer.check_client_secret(client_id, form.get("client_secret", "")):
            message = f"AADSTS7000215: Invalid client secret provided for app '{client_id}'."
            return _aad_error(401, "invalid_client", message, 7000215)
        return None


def _grant_kind(form: Mapping[str, str]) -> str:
    """``workload`` (a federated token), ``certificate`` (the client's own signed JWT) or
    ``client_secret``."""
    assertion = form.get("client_assertion")
    if assertion is None:
        return "client_secret"
    certificate = grants.is_certificate_assertion(assertion, form.get("client_id", ""))
    return "certificate" if certificate else "workload"


def _form_problem(form: Mapping[str, str]) -> Response | None:
    if form.get("grant_type") != "client_credentials":
        return _aad_error(
            400, "unsupported_grant_type", "AADSTS70003: kvserver: client_credentials only.", 70003
        )
    if not form.get("client_id"):
        return _aad_error(400, "invalid_request", "AADSTS900144: client_id is required.", 900144)
    scope = form.get("scope", "").split()
    if not scope or not scope[0].endswith("/.default"):
        return _aad_error(
            400, "invalid_scope", "AADSTS1002012: scope must end with /.default.", 1002012
        )
    return None


def _unknown_client(client_id: str, tenant: str) -> Response:
    message = (
        f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory"
        f" '{tenant}'. This can happen if the application has not been installed by the"
        " administrator of the tenant or consented to by any user in the tenant. You may have"
        " sent your authentication request to the wrong tenant."
    )
    return _aad_error(400, "unauthorized_client", message, 700016)


def _unknown_tenant(tenant: str) -> Response:
    message = f"AADSTS90002: Tenant '{tenant}' not found."
    return _aad_error(400, "invalid_request", message, 90002)


def _instance_discovery(host: str) -> JSON:
    return {
        "tenant_discovery_endpoint": f"https://{host}/common/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [
            {
                "preferred_network": "login.microsoftonline.com",
                "preferred_cache": "login.windows.net",
                "aliases": [
                    "login.microsoftonline.com",
                    "login.windows.net",
                    "login.microsoft.com",
                    "sts.windows.net",
                ],
            },
            {
                "preferred_network": "login.partner.microsoftonline.cn",
                "preferred_cache": "login.partner.microsoftonline.cn",
                "aliases": ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
            },
            {
                "preferred_network": "login.microsoftonline.us",
                "preferred_cache": "login.microsoftonline.us",
                "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
            },
        ],
    }
