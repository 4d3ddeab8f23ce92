"""The HTTP pipeline under the Azure SDK: deadline-bound transport, retry policy and client.

The run's deadline (D9) bounds every HTTP exchange, Key Vault's and the credential's: the
retry policy and the transport refuse a ``Retry-After`` or backoff that would end after it
(decided early, so the error says why), and the transport caps connect and read timeouts to the
time left plus ``DEADLINE_GRACE``. The grace exists because the deadline itself is the
resolver's to report ("N secrets still pending"): a timeout ending exactly at the deadline
would race that report. Refusals raise :class:`DeadlineExceeded`, which is not an
``AzureError``, so azure-core's retry loop lets it through instead of trying again.
"""

from __future__ import annotations

import os
import random
import re
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import requests
from azure.core.credentials import TokenCredential
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.secrets import SecretClient
from urllib3.util.retry import Retry

from avp_py.backends.azurekeyvault.causes import find_cause
from avp_py.backends.base import BackendStats
from avp_py.model import Deadline

# Retries are bounded by the run's deadline, not by a count: when 20 renders hit a throttled
# vault at once, giving up after a few 429s while time is left fails a render for nothing.
# azure-core's 120 s maximum backoff would outlast Argo CD's 60 s; 8 s keeps retrying.
RETRY_TOTAL = 100
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 8
# Up to this fraction is added to every wait, so that workers and renders throttled together
# do not all come back in the same instant (never less than Retry-After asks).
JITTER = 0.25
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEADLINE_GRACE = 0.5
TOKEN_REQUEST = "token request"
KEY_VAULT_REQUEST = "Key Vault request"

CHALLENGE_OBSERVER: Callable[[str, str], None] | None = None
"""Told (URL, WWW-Authenticate) of every 401 answer: set only in a render server's child, which
keeps vaults' challenges for later renders (``warm``, issue 13)."""


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


class ChallengeMismatch(Exception):  # noqa: N818 - reads better at the raise sites
    """Key Vault's challenge names a resource whose domain does not cover the vault's host.

    azure-keyvault-secrets refuses to send a token then (a ValueError from deep inside its
    policy); the transport sees the challenge first and raises this instead, naming both
    domains. Not an ``AzureError``, so no retry policy tries again.
    """

    def __init__(self, host: str, resource: str) -> None:
        self.host = host
        self.resource = resource
        super().__init__(f"{host} answered a challenge for resource {resource!r}")


_CHALLENGE_TARGET = re.compile(r'\b(resource|scope)\s*=\s*"([^"]*)"', re.IGNORECASE)


def check_challenge(url: str, header: str) -> None:
    """ChallengeMismatch unless the challenge's scope (else resource) covers ``url``'s host,
    by the rule the SDK applies (the host ends with ``.`` + the resource's host)."""
    found = {name.lower(): value for name, value in _CHALLENGE_TARGET.findall(header)}
    target = found.get("scope") or found.get("resource")
    if target is None:
        return  # not a Key Vault challenge: the SDK reports the 401 itself
    host = _authority(url)
    domain = _authority(target)
    if not domain or not host.endswith("." + domain):
        raise ChallengeMismatch(host, target)


def _authority(url: str) -> str:
    """``host[:port]`` in lower case, without the default port."""
    return urllib.parse.urlsplit(url).netloc.lower().removesuffix(":443")


class DeadlineTransport(RequestsTransport):  # type: ignore[misc]  # send() is overloaded
    """azure-core's requests transport, bounded by the run's deadline.

    Owns its session; its pool holds ``pool_size`` connections per host so the worker threads
    sharing one client do not queue for one connection.
    """

    def __init__(
        self,
        deadline: Deadline,
        during: str,
        pool_size: int = 1,
        stats: BackendStats | None = None,
    ) -> None:
        session = requests.Session()
        # requests reads the proxy and CA variables from os.environ on every request when
        # trust_env is on (twice per Key Vault GET: 0.1-0.6 s of a 120-secret render). The same
        # variables are read once here, with the same meaning.
        session.trust_env = False
        self._environ_proxies = urllib.request.getproxies_environment()
        self._proxies: dict[str, dict[str, str]] = {}
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
            connection_verify=_ca_bundle(),
        )
        self._deadline = deadline
        self._during = during
        self._stats = stats or BackendStats()  # counts for --verbose (never values)
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
        kwargs.setdefault("proxies", self._proxies_for(request.url))
        self._last.status = None
        if self._during == TOKEN_REQUEST:
            self._stats.add("token_requests")
        response = super().send(request, **kwargs)
        self._last.status = getattr(response, "status_code", None)
        if self._last.status == 429:
            self._stats.add("throttled")
        if self._last.status == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            if self._during == KEY_VAULT_REQUEST:
                check_challenge(request.url, challenge)
            if CHALLENGE_OBSERVER is not None:
                CHALLENGE_OBSERVER(request.url, challenge)
        return response

    def _proxies_for(self, url: str) -> dict[str, str]:
        """HTTPS_PROXY/HTTP_PROXY unless NO_PROXY exempts the host (urllib's rules)."""
        host = urllib.parse.urlsplit(url).hostname or ""
        proxies = self._proxies.get(host)
        if proxies is None:
            # Public in urllib.request, missing from typeshed's stubs.
            bypass = urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
                host, self._environ_proxies
            )
            wanted = {} if bypass else self._environ_proxies
            proxies = {k: v for k, v in wanted.items() if k in ("http", "https")}
            self._proxies[host] = proxies
        return proxies

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

    def __init__(self, deadline: Deadline, stats: BackendStats, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deadline = deadline
        self._stats = stats

    def sleep(self, settings: Any, transport: Any, response: Any = None) -> None:
        """Wait for Retry-After (else the backoff) plus jitter, unless the retry could not
        start before the deadline."""
        retry_after = self.get_retry_after(response) if response else None
        wanted = retry_after or self.get_backoff_time(settings)
        left = self._deadline.remaining(time.monotonic())
        if wanted >= left:
            status = response.http_response.status_code if response else None
            raise DeadlineExceeded(wanted, left, KEY_VAULT_REQUEST, status)
        self._stats.add("retries")
        transport.sleep(min(wanted * (1 + random.random() * JITTER), left))

    def increment(self, settings: Any, response: Any = None, error: Any = None) -> bool:
        """Count one more attempt; False (give up) for certificate failures."""
        if error is not None and find_cause(error, ssl.SSLCertVerificationError) is not None:
            return False
        return bool(super().increment(settings, response=response, error=error))


def _ca_bundle() -> str | bool:
    """The CA bundle requests would take from the environment, or its default (True)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def build_client(
    vault_url: str,
    credential: TokenCredential,
    deadline: Deadline,
    pool_size: int,
    stats: BackendStats | None = None,
) -> SecretClient:
    """One client per vault, shared by the worker threads, with a pool as big as the workers;
    its retries and 429s are counted in ``stats``."""
    stats = stats or BackendStats()
    return SecretClient(
        vault_url,
        credential,
        transport=DeadlineTransport(deadline, KEY_VAULT_REQUEST, pool_size, stats),
        retry_policy=DeadlineRetryPolicy(
            deadline,
            stats,
            retry_total=RETRY_TOTAL,
            retry_status=RETRY_TOTAL,  # azure-core's 3 is few for a 429 storm
            retry_backoff_factor=BACKOFF_FACTOR,
            retry_backoff_max=BACKOFF_MAX,
        ),
    )
