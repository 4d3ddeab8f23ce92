"""Fault injection, switchable at runtime from tests.

``VaultFaults`` applies to Key Vault REST requests: the server keeps one global instance (every
vault, like a subscription-wide cap) and one per vault. ``Faults`` is the global instance; it adds
switches for the identity endpoints and TLS. All methods are thread-safe.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from dataclasses import dataclass
from typing import Literal

ActionKind = Literal["drop", "reset", "error", "throttle", "raw"]


@dataclass(frozen=True)
class Action:
    """What to do to one request instead of answering it normally."""

    kind: ActionKind
    status: int = 0
    retry_after: float | None = None
    body: bytes = b""  # for "raw": sent as it is
    content_type: str = ""  # for "raw"


class VaultFaults:
    """Faults for Key Vault REST requests (one vault, or all of them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency: float = 0.0
        """Seconds to sleep before answering each request (requests are served concurrently)."""
        self._released = threading.Event()  # cleared by hold(): requests wait for it
        self._released.set()
        self._clear_locked()

    def _clear_locked(self) -> None:
        self._drops: list[bool] = []  # one entry per connection to drop; True means reset
        self._errors: list[int] = []
        self._raw: list[tuple[int, bytes, str]] = []
        self._throttle_pass = 0
        self._throttle_left: int | None = 0
        self._throttle_retry_after: float | None = None
        self._rate: tuple[int, float] | None = None
        self._window: collections.deque[float] = collections.deque()

    def clear(self) -> None:
        """Remove every fault, including latency."""
        with self._lock:
            self.latency = 0.0
            self._clear_locked()
        self._released.set()

    def hold(self) -> None:
        """Keep every request waiting, unanswered, until :meth:`release` (or :meth:`clear`, or
        the server's close): a vault slower than any deadline, without a clock."""
        self._released.clear()

    def release(self) -> None:
        """Let held requests (and later ones) be answered."""
        self._released.set()

    def wait_released(self, timeout: float = 120.0) -> None:
        """Block a request while held (``timeout``: a safety net for a test that forgot)."""
        self._released.wait(timeout)

    def drop_next(self, n: int = 1, *, reset: bool = False) -> None:
        """Close the connection without answering the next ``n`` requests (RST if ``reset``)."""
        with self._lock:
            self._drops.extend([reset] * n)

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next ``n`` requests with a 5xx error."""
        if not 500 <= status <= 599:
            raise ValueError("status must be 5xx")
        with self._lock:
            self._errors.extend([status] * n)

    def answer_next(
        self, status: int, body: bytes, n: int = 1, content_type: str = "application/json"
    ) -> None:
        """Answer the next ``n`` requests with ``status`` and ``body`` as they are: what a
        proxy or a hostile server could send instead of Key Vault's answer."""
        with self._lock:
            self._raw.extend([(status, body, content_type)] * n)

    def throttle_after(
        self, n: int, *, count: int | None = 1, retry_after: float | None = 1.0
    ) -> None:
        """Let ``n`` requests through, then answer 429 to the next ``count`` (None: all).

        ``retry_after`` is sent as the ``Retry-After`` header (None: no header).
        """
        with self._lock:
            self._throttle_pass = n
            self._throttle_left = count
            self._throttle_retry_after = retry_after

    def rate_limit(self, requests: int | None, window: float = 10.0) -> None:
        """Allow ``requests`` per sliding ``window`` seconds, then 429 + Retry-After.

        Like Key Vault's 4,000 per 10 s, scaled down; throttled requests do not count.
        ``None`` removes the limit.
        """
        with self._lock:
            self._rate = (requests, window) if requests is not None else None
            self._window.clear()

    def decide(self) -> Action | None:
        """Consume the fault for one incoming request; None means serve it normally."""
        with self._lock:
            if self._drops:
                return Action("reset" if self._drops.pop(0) else "drop")
            if self._errors:
                return Action("error", status=self._errors.pop(0))
            if self._raw:
                status, body, content_type = self._raw.pop(0)
                return Action("raw", status=status, body=body, content_type=content_type)
            return self._throttle_locked() or self._rate_locked()

    def _throttle_locked(self) -> Action | None:
        if self._throttle_pass > 0:
            self._throttle_pass -= 1
            return None
        if self._throttle_left is not None:
            if self._throttle_left <= 0:
                return None
            self._throttle_left -= 1
        return Action("throttle", 429, self._throttle_retry_after)

    def _rate_locked(self) -> Action | None:
        if self._rate is None:
            return None
        limit, window = self._rate
        now = time.monotonic()
        while self._window and self._window[0] <= now - window:
            self._window.popleft()
        if len(self._window) < limit:
            self._window.append(now)
            return None
        wait = self._window[0] + window - now if self._window else window
        return Action("throttle", 429, float(max(1, math.ceil(wait))))


class Faults(VaultFaults):
    """Global faults: everything in :class:`VaultFaults` plus identity and TLS switches."""

    def __init__(self) -> None:
        self.token_endpoint_down: bool = False
        """Token endpoints (managed identity and login hosts) answer 503."""
        self.token_retry_after: float | None = None
        """With ``token_endpoint_down``: the 503 asks to retry after this many seconds."""
        self.token_latency: float = 0.0
        """Seconds to sleep before answering a token request."""
        self.token_ttl: float | None = None
        """Lifetime of issued tokens in seconds (default 3600); negative: already expired."""
        self.reject_tokens_as_expired: bool = False
        """Vaults answer 401 "token expired" to every bearer token."""
        self._wrong_certs: dict[str, str] = {}
        super().__init__()

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self.token_endpoint_down = False
            self.token_retry_after = None
            self.token_latency = 0.0
            self.token_ttl = None
            self.reject_tokens_as_expired = False
            self._wrong_certs.clear()

    def wrong_certificate(self, host: str, served_for: str | None = "wrong-host.invalid") -> None:
        """Serve a certificate for ``served_for`` when a client asks for ``host`` (None: undo)."""
        with self._lock:
            if served_for is None:
                self._wrong_certs.pop(host.lower(), None)
            else:
                self._wrong_certs[host.lower()] = served_for

    def certificate_host(self, host: str) -> str:
        """The host name to put in the certificate served for ``host``."""
        with self._lock:
            return self._wrong_certs.get(host.lower(), host)
