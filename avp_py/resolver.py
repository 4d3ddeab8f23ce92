"""Fetch every distinct secret reference once, concurrently, within the run's deadline.

The only pipeline stage that talks to a backend. The outcome is keyed by reference, so it does
not depend on which fetch finished first. A missing secret is recorded per reference (the
aggregated report and ``remove-missing`` need it); any other backend error stops the run,
because 200 more calls with a bad credential help nobody.

Workers are daemon threads rather than a ``ThreadPoolExecutor``: when the deadline passes, the
CLI must be able to exit at once, and executor threads are joined at interpreter exit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping

from avp_py import gocompat
from avp_py.backends.base import SecretBackend
from avp_py.errors import AvpError, BackendUnavailableError, SecretNotFoundError
from avp_py.model import Deadline, Missing, Outcome, SecretRef, SecretValue

log = logging.getLogger(__name__)


class Resolver:
    """Resolves references through one backend; caches outcomes for the lifetime of the run."""

    def __init__(
        self,
        backend: SecretBackend,
        max_workers: int,
        deadline: Deadline,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._max_workers = max(1, max_workers)
        self._deadline = deadline
        self._clock = clock
        self._cache: dict[SecretRef, Outcome] = {}

    def resolve(self, refs: Collection[SecretRef]) -> Mapping[SecretRef, Outcome]:
        """The outcome of every reference; raises BackendError if the backend fails."""
        todo = sorted(set(refs) - self._cache.keys())
        if todo:
            workers = min(self._max_workers, len(todo))
            log.info("fetching %d distinct secret(s) with %d worker(s)", len(todo), workers)
            self._cache.update(self._fetch_all(todo))
        return {ref: self._cache[ref] for ref in refs}

    def _fetch_all(self, todo: list[SecretRef]) -> dict[SecretRef, Outcome]:
        batch = _Batch(self._backend, todo)
        for _ in range(min(self._max_workers, len(todo))):
            threading.Thread(target=batch.work, name="avp-fetch", daemon=True).start()
        return batch.wait(self._deadline, self._clock)


class _Batch:
    """One round of fetches shared by the worker threads."""

    def __init__(self, backend: SecretBackend, todo: list[SecretRef]) -> None:
        self._backend = backend
        self._queue = deque(todo)
        self._total = len(todo)
        self._results: dict[SecretRef, Outcome] = {}
        self._failure: BaseException | None = None
        self._done = threading.Condition()

    def work(self) -> None:
        """Worker loop: take references until none are left or the batch failed."""
        while True:
            with self._done:
                if self._failure is not None or not self._queue:
                    return
                ref = self._queue.popleft()
            self._record(ref)

    def _record(self, ref: SecretRef) -> None:
        outcome: Outcome | None = None
        failure: BaseException | None = None
        try:
            outcome = _go_text(self._backend.fetch(ref))
        except SecretNotFoundError as exc:
            outcome = Missing(exc.reason)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread by wait()
            failure = exc
        with self._done:
            if outcome is not None:
                self._results[ref] = outcome
            elif self._failure is None:
                self._failure = failure
            self._done.notify_all()

    def wait(self, deadline: Deadline, clock: Callable[[], float]) -> dict[SecretRef, Outcome]:
        """Block until every fetch ended, one failed, or the deadline passed."""
        with self._done:
            while len(self._results) < self._total and self._failure is None:
                left = deadline.remaining(clock())
                if left <= 0:
                    raise self._deadline_error(deadline)
                self._done.wait(left)
            if self._failure is not None:
                self._queue.clear()
                if deadline.remaining(clock()) <= 0:
                    # A backend call cut short by the deadline: the pending count says more.
                    raise self._deadline_error(deadline)
                raise self._failure
            return dict(self._results)

    def _deadline_error(self, deadline: Deadline) -> AvpError:
        self._queue.clear()
        pending = self._total - len(self._results)
        return BackendUnavailableError(
            f"deadline of {deadline.seconds:g} s (AVP_TIMEOUT_SECONDS) reached with {pending}"
            f" of {self._total} secret(s) still pending"
        )


def _go_text(value: SecretValue) -> SecretValue:
    """The value as AVP (Go) holds it: a lone surrogate becomes U+FFFD.

    Key Vault's JSON may hold a lone UTF-16 surrogate escape (``"\\ud800"``): Python's JSON
    decoder keeps it as a surrogate code point, which no UTF-8 encoder accepts (so
    ``base64encode`` or the output would fail); Go's encoding/json decodes it to U+FFFD, the
    rule of issue 10 item 8. Done here, so that it holds for every backend and the cache.
    """
    text = value.reveal()
    if isinstance(text, str) and gocompat.has_surrogates(text):
        return SecretValue(gocompat.json_text(text), value.version, value.content_type)
    return value
