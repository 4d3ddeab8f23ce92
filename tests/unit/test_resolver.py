"""The resolver: one fetch per distinct reference, bounded concurrency, failures, deadline."""

from __future__ import annotations

import threading
import time

import pytest

from avp_py.errors import BackendAuthError, BackendUnavailableError, SecretNotFoundError
from avp_py.model import Deadline, Missing, MissingReason, SecretRef, SecretValue
from avp_py.resolver import Resolver


class RecordingBackend:
    """A backend whose fetches are counted; optionally blocks to observe concurrency."""

    def __init__(self, missing: set[str] = frozenset(), gate: threading.Event | None = None):
        self.calls: list[SecretRef] = []
        self.active = 0
        self.peak = 0
        self._missing = missing
        self._gate = gate
        self._lock = threading.Lock()

    def fetch(self, ref: SecretRef) -> SecretValue:
        with self._lock:
            self.calls.append(ref)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if self._gate is not None:
                self._gate.wait(5)
            if ref.key in self._missing:
                raise SecretNotFoundError(ref)
            if ref.key == "denied":
                raise BackendAuthError("403 for " + ref.describe())
            return SecretValue(f"value-of-{ref.key}", "v1")
        finally:
            with self._lock:
                self.active -= 1

    def validate(self, ref: SecretRef) -> str | None:
        return None

    def close(self) -> None:
        pass


def _deadline(seconds: float = 30.0) -> Deadline:
    return Deadline(seconds, time.monotonic() + seconds)


REFS = [SecretRef("kv", f"s{i}") for i in range(40)]


def test_each_distinct_reference_is_fetched_once() -> None:
    backend = RecordingBackend()
    resolver = Resolver(backend, 8, _deadline())
    outcome = resolver.resolve(REFS + REFS[:10])
    assert sorted(backend.calls) == sorted(REFS)
    assert isinstance(outcome[REFS[3]], SecretValue)
    # A second round for the same run is served from the run's cache.
    resolver.resolve(REFS[:5])
    assert len(backend.calls) == len(REFS)


def test_concurrency_is_bounded_and_used() -> None:
    gate = threading.Event()
    backend = RecordingBackend(gate=gate)
    threading.Timer(0.3, gate.set).start()
    Resolver(backend, 4, _deadline()).resolve(REFS)
    assert backend.peak == 4


def test_missing_secrets_are_recorded_per_reference() -> None:
    backend = RecordingBackend(missing={"s1", "s2"})
    outcome = Resolver(backend, 3, _deadline()).resolve(REFS[:5])
    assert outcome[REFS[1]] == Missing(MissingReason.NOT_FOUND)
    assert isinstance(outcome[REFS[0]], SecretValue)


def test_a_backend_error_stops_the_run() -> None:
    backend = RecordingBackend()
    refs = [SecretRef("kv", "denied"), *REFS]
    with pytest.raises(BackendAuthError, match="403 for kv#denied"):
        Resolver(backend, 1, _deadline()).resolve(refs)
    assert len(backend.calls) < len(refs)


def test_deadline_fails_closed_with_the_pending_count() -> None:
    gate = threading.Event()
    backend = RecordingBackend(gate=gate)
    try:
        with pytest.raises(
            BackendUnavailableError, match=r"reached with 10 of 10 secret\(s\) still pending"
        ):
            Resolver(backend, 2, _deadline(0.2)).resolve(REFS[:10])
    finally:
        gate.set()


def test_values_are_redacted_in_repr() -> None:
    value = SecretValue("top-secret", "v7")
    assert "top-secret" not in repr(value) and "top-secret" not in str(value)
    assert value.reveal() == "top-secret"


class ValueBackend(RecordingBackend):
    """Serves the values it was given (a backend's decoded JSON, say), with a version."""

    def __init__(self, values: dict[str, object]) -> None:
        super().__init__()
        self._values = values

    def fetch(self, ref: SecretRef) -> SecretValue:
        return SecretValue(self._values[ref.key], "v7", "text/plain")


def test_lone_surrogates_in_a_value_become_u_fffd_as_in_go() -> None:
    # JSON's "\ud800" and "\udc80" decode to lone surrogates in Python, to U+FFFD in Go.
    backend = ValueBackend({"odd": "a\ud800b\udc80", "pair": "\U0001f600", "bytes": b"\xff"})
    refs = [SecretRef("kv", key) for key in ("odd", "pair", "bytes")]
    outcome = Resolver(backend, 2, _deadline()).resolve(refs)
    odd, pair, raw = (outcome[ref] for ref in refs)
    assert isinstance(odd, SecretValue) and odd.reveal() == "a\ufffdb\ufffd"
    assert (odd.version, odd.content_type) == ("v7", "text/plain")
    assert isinstance(pair, SecretValue) and pair.reveal() == "\U0001f600"  # a valid pair stays
    assert isinstance(raw, SecretValue) and raw.reveal() == b"\xff"  # not text: untouched
