"""The resolver: one fetch per distinct reference, bounded concurrency, failures, deadline."""

from __future__ import annotations

import threading
import time

import pytest

from avp_py.errors import BackendAuthError, BackendUnavailableError
from avp_py.model import Deadline, Missing, MissingReason, SecretRef, SecretValue
from avp_py.resolver import Resolver
from avp_py.testing import MemoryBackend


def recording_backend(
    missing: set[str] = frozenset(), gate: threading.Event | None = None
) -> MemoryBackend:
    """``kv#s0`` … ``kv#s39`` and ``kv#denied`` (403); requests wait for ``gate`` when given."""

    def hold(operation: str, ref: SecretRef) -> None:
        if gate is not None:
            gate.wait(5)

    backend = MemoryBackend(on_request=hold)
    for ref in REFS:
        if ref.key not in missing:
            backend.set_secret(ref.path, ref.key, f"value-of-{ref.key}")
    backend.fail("kv", "denied", BackendAuthError("403 for kv#denied"))
    return backend


def _deadline(seconds: float = 30.0) -> Deadline:
    return Deadline(seconds, time.monotonic() + seconds)


REFS = [SecretRef("kv", f"s{i}") for i in range(40)]


def test_each_distinct_reference_is_fetched_once() -> None:
    backend = recording_backend()
    resolver = Resolver(backend, 8, _deadline())
    outcome = resolver.resolve(REFS + REFS[:10])
    assert sorted(backend.fetched()) == sorted(REFS)
    assert isinstance(outcome[REFS[3]], SecretValue)
    # A second round for the same run is served from the run's cache.
    resolver.resolve(REFS[:5])
    assert len(backend.fetched()) == len(REFS)


def test_concurrency_is_bounded_and_used() -> None:
    gate = threading.Event()
    backend = recording_backend(gate=gate)
    threading.Timer(0.3, gate.set).start()
    Resolver(backend, 4, _deadline()).resolve(REFS)
    assert backend.peak == 4


def test_missing_secrets_are_recorded_per_reference() -> None:
    backend = recording_backend(missing={"s1", "s2"})
    outcome = Resolver(backend, 3, _deadline()).resolve(REFS[:5])
    assert outcome[REFS[1]] == Missing(MissingReason.NOT_FOUND)
    assert isinstance(outcome[REFS[0]], SecretValue)


def test_a_backend_error_stops_the_run() -> None:
    backend = recording_backend()
    refs = [SecretRef("kv", "denied"), *REFS]
    with pytest.raises(BackendAuthError, match="403 for kv#denied"):
        Resolver(backend, 1, _deadline()).resolve(refs)
    assert len(backend.fetched()) < len(refs)


def test_deadline_fails_closed_with_the_pending_count() -> None:
    gate = threading.Event()
    backend = recording_backend(gate=gate)
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


def value_backend(values: dict[str, object]) -> MemoryBackend:
    """Serves the values it was given (a backend's decoded JSON, say), with a version."""
    backend = MemoryBackend()
    for key, value in values.items():
        backend.set_secret("kv", key, value, version="v7", content_type="text/plain")
    return backend


def test_lone_surrogates_in_a_value_become_u_fffd_as_in_go() -> None:
    # JSON's "\ud800" and "\udc80" decode to lone surrogates in Python, to U+FFFD in Go.
    backend = value_backend({"odd": "a\ud800b\udc80", "pair": "\U0001f600", "bytes": b"\xff"})
    refs = [SecretRef("kv", key) for key in ("odd", "pair", "bytes")]
    outcome = Resolver(backend, 2, _deadline()).resolve(refs)
    odd, pair, raw = (outcome[ref] for ref in refs)
    assert isinstance(odd, SecretValue) and odd.reveal() == "a\ufffdb\ufffd"
    assert (odd.version, odd.content_type) == ("v7", "text/plain")
    assert isinstance(pair, SecretValue) and pair.reveal() == "\U0001f600"  # a valid pair stays
    assert isinstance(raw, SecretValue) and raw.reveal() == b"\xff"  # not text: untouched
