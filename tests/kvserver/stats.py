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
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable


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


def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll for server-side bookkeeping (counters) that may land just after a client returned."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
