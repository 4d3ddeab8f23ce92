"""Everything that touches the Azure SDK: credential, clients, retries, error translation.

Imported only when the first secret is fetched, so that a run with nothing to fetch (or a run
served wholly from the cache) never pays for importing azure-identity and azure-core.

The run's deadline (D9) bounds every HTTP exchange, Key Vault's and the credential's: the
retry policy and the transport refuse a ``Retry-After`` or backoff that would end after it
(decided early, so the error says why), and the transport caps connect and read timeouts to the
time left plus ``DEADLINE_GRACE``. The grace exists because the deadline itself is the
resolver's to report ("N secrets still pending"): a timeout ending exactly at the deadline
would race that report. Refusals raise :class:`DeadlineExceeded`, which is not an
``AzureError``, so azure-core's retry loop lets it through instead of trying again.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import requests
from azure.core.credentials import TokenCredential
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
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import (
    AzureCliCredential,
    CertificateCredential,
    ChainedTokenCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.keyvault.secrets import SecretClient
from urllib3.util.retry import Retry

from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    SecretNotFoundError,
)
from avp_py.model import Deadline, SecretRef, SecretValue

# azure-identity logs every failed token attempt at WARNING. With no handler configured,
# Python's last-resort handler would print them on stderr around the ``Error:`` line (and the
# Entra ID response bodies with them); the error raised carries everything that is needed.
logging.getLogger("azure").addHandler(logging.NullHandler())

# Tighter than azure-core's defaults (10 retries, up to 120 s apart), which can outlast Argo
# CD's 60 s; the run's deadline bounds them anyway (see DeadlineTransport).
RETRY_TOTAL = 6
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 8
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEADLINE_GRACE = 0.5
_MESSAGE_MAX = 300
TOKEN_REQUEST = "token request"
KEY_VAULT_REQUEST = "Key Vault request"


class DeadlineExceeded(Exception):  # noqa: N818 - reads better at the raise sites
    """Sending, or waiting to retry, would end after the run's deadline.

    ``wanted`` is the wait that was refused (None: no time was left to send at all),
    ``status`` the HTTP status that asked for the retry, ``during`` what was being done.
    """

    def __init__(
        self, wanted: float | None, left: float, during: str, status: int | None = None
    ) -> None:
        self.wanted = wanted
        self.left = left
        self.during = during
        self.status = status
        super().__init__(self.describe())

    def describe(self) -> str:
        """The reason, in words (no URL, no value, no token)."""
        if self.wanted is None or self.left <= 0:
            return f"the deadline (AVP_TIMEOUT_SECONDS) ran out before the {self.during} completed"
        answer = f"the {self.during} answered HTTP {self.status}; " if self.status else ""
        return (
            f"{answer}retrying the {self.during} would start in {self.wanted:g} s, but only"
            f" {self.left:.1f} s are left of the deadline (AVP_TIMEOUT_SECONDS)"
        )


class DeadlineTransport(RequestsTransport):  # type: ignore[misc]  # send() is overloaded
    """azure-core's requests transport, bounded by the run's deadline.

    Owns its session; its pool holds ``pool_size`` connections per host so the worker threads
    sharing one client do not queue for one connection.
    """

    def __init__(self, deadline: Deadline, during: str, pool_size: int = 1) -> None:
        session = requests.Session()
        # azure-core's own adapter settings: the pipeline retries, urllib3 must not.
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=1,
            pool_maxsize=max(1, pool_size),
            max_retries=Retry(total=False, redirect=False, raise_on_status=False),
        )
        session.mount("https://", adapter)
        super().__init__(
            session=session,
            session_owner=True,
            connection_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        self._deadline = deadline
        self._during = during
        self._last = threading.local()  # this thread's last HTTP status, for messages

    def _left(self) -> float:
        return self._deadline.expires_at - time.monotonic()

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Send with connect/read timeouts no longer than the time left (plus the grace)."""
        left = self._left() + DEADLINE_GRACE
        if left <= 0:
            raise DeadlineExceeded(None, 0.0, self._during)
        for key, default in (
            ("connection_timeout", CONNECT_TIMEOUT),
            ("read_timeout", READ_TIMEOUT),
        ):
            value = kwargs.get(key)
            wanted = value if isinstance(value, (int, float)) and value > 0 else default
            kwargs[key] = min(float(wanted), left)
        self._last.status = None
        response = super().send(request, **kwargs)
        self._last.status = getattr(response, "status_code", None)
        return response

    def sleep(self, duration: float) -> None:
        """Wait before a retry, unless the retry could not start before the deadline."""
        left = self._left()
        if duration >= left:
            status = getattr(self._last, "status", None)
            raise DeadlineExceeded(duration, left, self._during, status)
        super().sleep(duration)


class DeadlineRetryPolicy(RetryPolicy[Any, Any]):
    """azure-core's retry policy, honouring Retry-After, that never sleeps past the deadline
    and never retries what cannot heal (a certificate that does not verify)."""

    def __init__(self, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deadline = deadline

    def sleep(self, settings: Any, transport: Any, response: Any = None) -> None:
        """Sleep as azure-core would, unless the retry could not start before the deadline."""
        retry_after = self.get_retry_after(response) if response else None
        wanted = retry_after or self.get_backoff_time(settings)
        left = self._deadline.remaining(time.monotonic())
        if wanted >= left:
            status = response.http_response.status_code if response else None
            raise DeadlineExceeded(wanted, left, KEY_VAULT_REQUEST, status)
        super().sleep(settings, transport, response)

    def increment(self, settings: Any, response: Any = None, error: Any = None) -> bool:
        """Count one more attempt; False (give up) for certificate failures."""
        if error is not None and _find(error, ssl.SSLCertVerificationError) is not None:
            return False
        return bool(super().increment(settings, response=response, error=error))


def build_credential(options: AzureOptions, deadline: Deadline) -> TokenCredential:
    """The credential ``AVP_AZURE_CREDENTIAL`` asks for, from explicit settings (never env writes).

    Token requests use their own deadline-bound transport.
    """
    transport = DeadlineTransport(deadline, TOKEN_REQUEST)
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
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _lines(exc)[0]
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
    return CertificateCredential(
        options.tenant_id,
        options.client_id,
        certificate_path=options.certificate_path,
        password=options.certificate_password or None,
        transport=transport,
        **_authority(options),
    )


def _authority(options: AzureOptions) -> dict[str, str]:
    return {"authority": options.authority_host} if options.authority_host else {}


def build_client(
    vault_url: str, credential: TokenCredential, deadline: Deadline, pool_size: int
) -> SecretClient:
    """One client per vault, shared by the worker threads, with a pool as big as the workers."""
    return SecretClient(
        vault_url,
        credential,
        transport=DeadlineTransport(deadline, KEY_VAULT_REQUEST, pool_size),
        retry_policy=DeadlineRetryPolicy(
            deadline,
            retry_total=RETRY_TOTAL,
            retry_status=RETRY_TOTAL,  # azure-core's 3 is few for a 429 storm
            retry_backoff_factor=BACKOFF_FACTOR,
            retry_backoff_max=BACKOFF_MAX,
        ),
    )


def get_secret(
    client: SecretClient, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> SecretValue:
    """GET one secret (latest or a version); Azure errors become avp-py errors."""
    left = deadline.expires_at - time.monotonic() + DEADLINE_GRACE
    if left <= 0:
        raise BackendUnavailableError(
            f"the deadline (AVP_TIMEOUT_SECONDS) ran out before {ref.describe()} was fetched"
        )
    try:
        secret = client.get_secret(ref.key, ref.version or None, timeout=left)
    except (AzureError, DeadlineExceeded) as exc:
        translate(exc, ref, options)
    if secret.value is None:
        raise SecretNotFoundError(ref.describe(), "has no value")
    return SecretValue(secret.value, secret.properties.version)


def describe(ref: SecretRef) -> str:
    """``secret NAME in vault PATH [at version V]`` for messages."""
    version = f" at version {ref.version}" if ref.version else ""
    return f"secret {ref.key} in vault {ref.path}{version}"


def translate(exc: Exception, ref: SecretRef, options: AzureOptions) -> NoReturn:
    """Map an Azure exception to the avp-py error tree (the only place that does)."""
    where = describe(ref)
    deadline = _find(exc, DeadlineExceeded)
    if deadline is not None and deadline.during == TOKEN_REQUEST:
        raise BackendAuthError(
            f"could not get a token to read {where}: {_deadline_reason(deadline)}", [options.hint]
        ) from exc
    if deadline is not None:
        raise BackendUnavailableError(f"cannot read {where}: {_deadline_reason(deadline)}") from exc
    if isinstance(exc, ResourceNotFoundError):
        raise SecretNotFoundError(ref.describe(), "not found") from exc
    if isinstance(exc, ClientAuthenticationError) and not _from_key_vault(exc):
        # The credential failed (its own HTTP status is not Key Vault's).
        lines = _lines(exc)
        raise BackendAuthError(
            f"could not get a token to read {where}: {lines[0]}", [*lines[1:], options.hint]
        ) from exc
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        _translate_status(exc, where, ref, options)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        raise BackendUnavailableError(f"cannot reach {where}: {network_reason(exc)}") from exc
    raise BackendError(f"{where}: {_lines(exc)[0]}") from exc


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
        raise SecretNotFoundError(ref.describe(), "disabled") from exc
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
    except (ValueError, AzureError):  # not JSON, or a body that was never read
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


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (cause, context, azure-core and urllib3 fields)."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [
            current.__cause__,
            current.__context__,
            getattr(current, "inner_exception", None),
            getattr(current, "reason", None),
            *current.args,
        ]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def _find(exc: BaseException, kind: type[Any]) -> Any:
    return next((item for item in _chain(exc) if isinstance(item, kind)), None)


def network_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words (requests' own text is a paragraph)."""
    certificate = _find(exc, ssl.SSLCertVerificationError)
    if certificate is not None:
        detail = certificate.verify_message or "not trusted"
        return (
            f"TLS certificate verification failed ({detail}); check the vault host, HTTPS_PROXY"
            " and the CA bundle (REQUESTS_CA_BUNDLE)"
        )
    proxy = _find(exc, requests.exceptions.ProxyError) is not None
    via = " to the proxy (HTTPS_PROXY)" if proxy else ""
    if _find(exc, ConnectionRefusedError) is not None:
        return f"connection refused{via}"
    if isinstance(exc, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)):
        return "timed out"
    if _find(exc, ConnectionResetError) is not None:
        return "connection reset"
    if _find(exc, ssl.SSLError) is not None:
        return "TLS handshake failed"
    return _lines(exc)[0]


def _lines(exc: BaseException, limit: int = 6) -> list[str]:
    """The first lines of an SDK message: no values are in them, but keep them short.

    Response bodies (``Content: {...}``) are left out.
    """
    lines = [
        line.strip()[:_MESSAGE_MAX]
        for line in str(exc).strip().splitlines()
        if line.strip() and not line.strip().startswith("Content:")
    ]
    return lines[:limit] or [type(exc).__name__]
