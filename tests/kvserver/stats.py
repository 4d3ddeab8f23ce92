"""Thread-safe counters keyed by tuples of strings.

Keys in use (``stats()`` joins them with ``/``):

* ``vault/NAME/OP`` — Key Vault requests by operation: ``challenge`` (no bearer token),
  ``get``, ``list``, ``list_versions``, ``set``, ``update``, ``other``; counted when the request
  arrives, before faults, so a throttled retry counts twice.
* ``vault/NAME/status/CODE`` and ``status/CODE`` — responses sent by the Key Vault API.
* ``token/KIND`` — token requests: ``managed``, ``workload``, ``client_secret``;
  ``aad/instance_discovery``, ``aad/openid_configuration`` — MSAL metadata requests.
* ``connections/LISTENER`` — accepted TCP connections: ``proxy``, ``https``, ``identity``;
  ``tunnel/HOST`` — CONNECT tunnels; ``tls_failed`` — failed TLS handshakes;
  ``dropped`` — connections closed on purpose by a fault.

:class:`Spans` records when each Key Vault request began and ended at the server, so tests
prove overlap (parallel requests) or a client that gave up (a request still in flight) by the
order of events, never by a client's wall time.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[tuple[str, ...]] = collections.Counter()

    def incr(self, *key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def get(self, *key: str) -> int:
        with self._lock:
            return self._counts[key]

    def total(self, *prefix: str) -> int:
        """Sum of every counter whose key starts with ``prefix``."""
        n = len(prefix)
        with self._lock:
            return sum(v for k, v in self._counts.items() if k[:n] == prefix)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"/".join(k): v for k, v in sorted(self._counts.items())}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class Span:
    """One Key Vault request at the server: ``ended`` is None while it is being handled."""

    vault: str
    op: str
    began: float
    ended: float | None = None


class Spans:
    """Thread-safe record of Key Vault request spans (monotonic clock of the server)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[Span] = []

    def begin(self, vault: str, op: str) -> Span:
        span = Span(vault, op, time.monotonic())
        with self._lock:
            self._spans.append(span)
        return span

    def end(self, span: Span) -> None:
        with self._lock:
            span.ended = time.monotonic()

    def matching(self, vault: str | None = None, op: str | None = None) -> list[Span]:
        with self._lock:
            return [
                Span(s.vault, s.op, s.began, s.ended)
                for s in self._spans
                if vault in (None, s.vault) and op in (None, s.op)
            ]

    def reset(self) -> None:
        with self._lock:
            self._spans.clear()


def peak_overlap(spans: list[Span]) -> int:
    """The most spans in flight at one instant (an unfinished span never ends)."""
    events = [(s.began, 1) for s in spans]
    events += [(s.ended, -1) for s in spans if s.ended is not None]
    peak = current = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a begin at a tie
        current += step
        peak = max(peak, current)
    return peak


def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll for server-side bookkeeping (counters) that may land just after a client returned."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
