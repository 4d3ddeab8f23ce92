"""Looking references up for ``avp-py check``: states when possible, never keep a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from avp_py.backends.base import BackendContext, MetadataBackend, SecretState
from avp_py.backends.file import FileBackend, create
from avp_py.check.findings import Code, Severity, Site, Usage
from avp_py.check.states import ValueFreeBackend, classify, lookup
from avp_py.errors import BackendAuthError, SecretNotFoundError
from avp_py.model import Deadline, MissingReason, SecretRef
from avp_py.render import start_deadline
from avp_py.testing import FetchOnlyBackend, MemoryBackend

SITE = Site("in.yaml", 2, 7, "Secret", "s", "stringData.A")


def _describing() -> MemoryBackend:
    """``kv#ok`` and a disabled ``kv#off``; names starting with ``_`` are invalid."""
    backend = MemoryBackend(invalid=lambda ref: "bad name" if ref.key.startswith("_") else None)
    backend.set_secret("kv", "ok", "SENTINEL-value", version="v1")
    backend.set_secret("kv", "off", "SENTINEL-value", version="v2", enabled=False)
    return backend


def _fetching() -> FetchOnlyBackend:
    """A backend without ``fetch_state``: ``kv#ok``, a disabled ``kv#gone``, ``kv#denied``."""
    backend = MemoryBackend()
    backend.set_secret("kv", "ok", "SENTINEL-value", version="v9")
    backend.set_secret("kv", "gone", "SENTINEL-value", enabled=False)
    backend.fail("kv", "denied", BackendAuthError("access denied to secret denied"))
    return FetchOnlyBackend(backend)


def _deadline() -> Deadline:
    return start_deadline(10)


def test_fetch_state_is_used_and_each_reference_once() -> None:
    backend = _describing()
    assert isinstance(backend, MetadataBackend)
    usages = [
        Usage(SecretRef("kv", "ok"), SITE),
        Usage(SecretRef("kv", "ok"), SITE.at("stringData.B")),
        Usage(SecretRef("kv", "off"), SITE),
        Usage(SecretRef("kv", "nope", "3"), SITE, missing_ok=True),
        Usage(SecretRef("kv", "_bad"), SITE),
    ]
    findings = lookup(usages, backend, 4, _deadline())
    assert sorted(backend.requests) == [
        ("fetch_state", SecretRef("kv", "nope", "3")),
        ("fetch_state", SecretRef("kv", "off")),
        ("fetch_state", SecretRef("kv", "ok")),
    ]  # each once, and never a fetch
    found = [(f.severity, f.code, f.message) for f in findings]
    assert found == [
        (Severity.ERROR, Code.DISABLED, "secret off is disabled in kv (the latest version)"),
        (
            Severity.WARNING,
            Code.NOT_FOUND,
            "secret nope does not exist in kv (avp.kubernetes.io/remove-missing will drop the key)",
        ),
        (Severity.ERROR, Code.INVALID_REFERENCE, "bad name"),
    ]


def test_fetch_fallback_drops_the_value() -> None:
    view = ValueFreeBackend(_fetching())
    value = view.fetch(SecretRef("kv", "ok"))
    assert value.reveal() is None and value.version == "v9"
    findings = lookup([Usage(SecretRef("kv", "gone"), SITE)], _fetching(), 2, _deadline())
    assert [(f.code, f.message) for f in findings] == [
        (Code.DISABLED, "secret gone is disabled in kv (the latest version)")
    ]
    assert "SENTINEL" not in repr(findings)


def test_backend_failures_end_the_check() -> None:
    with pytest.raises(BackendAuthError):
        lookup([Usage(SecretRef("kv", "denied"), SITE)], _fetching(), 2, _deadline())


def test_classify() -> None:
    reason = MissingReason
    assert classify(SecretRef("kv", "a"), reason.DISABLED) is Code.DISABLED
    assert classify(SecretRef("kv", "a", "7"), reason.VERSION_NOT_FOUND) is Code.VERSION_NOT_FOUND
    assert classify(SecretRef("kv", "a", "7"), reason.NOT_FOUND) is Code.NOT_FOUND
    assert classify(SecretRef("kv", "a"), reason.PATH_NOT_FOUND) is Code.NOT_FOUND
    assert classify(SecretRef("kv", "a"), reason.NO_VALUE) is Code.NOT_FOUND


def test_file_backend_state_agrees_with_fetch(tmp_path: Path) -> None:
    data = tmp_path / "secrets.yaml"
    data.write_text('kv:\n  a: SENTINEL\n  n: null\n"kv#7":\n  a: old\n  b: only-old\n')
    backend = create(BackendContext({"AVP_FILE_PATH": str(data)}, _deadline(), 1))
    assert isinstance(backend, FileBackend) and isinstance(backend, MetadataBackend)
    cases = {
        SecretRef("kv", "a"): SecretState(True),
        SecretRef("kv", "a", "7"): SecretState(True, version="7"),
        SecretRef("kv", "b", "7"): SecretState(True, version="7"),
        SecretRef("kv", "a", "8"): SecretState(False, reason=MissingReason.VERSION_NOT_FOUND),
        SecretRef("kv", "n"): SecretState(False, reason=MissingReason.NOT_FOUND),
        SecretRef("kv", "z"): SecretState(False, reason=MissingReason.NOT_FOUND),
        SecretRef("other", "a"): SecretState(False, reason=MissingReason.NOT_FOUND),
    }
    for ref, expected in cases.items():
        state = backend.fetch_state(ref)
        assert state == expected, ref
        try:
            backend.fetch(ref)
            fetched = True
        except SecretNotFoundError:
            fetched = False
        assert fetched == state.usable, ref


NOW = 1_800_000_000.0
DAY = 86_400.0


def _listing(names: list[str]) -> MemoryBackend:
    """Secrets of these names in ``kv`` (NameListingBackend lists them)."""
    backend = MemoryBackend()
    for name in names:
        backend.set_secret("kv", name, "SENTINEL-value")
    return backend


def _listed(backend: MemoryBackend) -> list[str]:
    return [ref.path for operation, ref in backend.requests if operation == "list_names"]


def test_validity_window_and_certificates() -> None:
    backend = MemoryBackend()
    backend.set_secret("kv", "old", "SENTINEL-value", version="v1", expires=NOW - DAY)
    # exp is exclusive: expired now
    backend.set_secret("kv", "edge", "SENTINEL-value", version="v2", expires=NOW)
    backend.set_secret("kv", "next", "SENTINEL-value", versioned=False, not_before=NOW + DAY)
    backend.set_secret(
        "kv", "fine", "SENTINEL-value", version="v3", not_before=NOW - DAY, expires=NOW + DAY
    )
    backend.set_secret("kv", "plain", "SENTINEL-value", version="v4")
    backend.set_secret("kv", "cert", "SENTINEL-value", version="v5", managed=True)
    usages = [Usage(SecretRef("kv", key), SITE) for key in ("old", "edge", "next", "fine")]
    usages += [
        Usage(SecretRef("kv", "plain"), SITE, object_type="cert"),
        Usage(SecretRef("kv", "cert"), SITE, object_type="cert"),
        Usage(SecretRef("kv", "plain"), SITE.at("stringData.B")),  # a secret may be plain
    ]
    findings = lookup(usages, backend, 4, _deadline(), now=NOW)
    assert [(f.code, f.message) for f in findings] == [
        (Code.EXPIRED, "secret old in kv expired at 2027-01-14T08:00:00Z (version v1)"),
        (Code.EXPIRED, "secret edge in kv expired at 2027-01-15T08:00:00Z (version v2)"),
        (
            Code.NOT_YET_VALID,
            "secret next in kv is not valid before 2027-01-16T08:00:00Z (the latest version)",
        ),
        (
            Code.SPC_OBJECT_TYPE,
            "object plain has objectType cert, but plain in kv is a secret, not a certificate:"
            " the provider would not find it (use objectType: secret)",
        ),
    ]
    assert all(f.severity is Severity.ERROR for f in findings)


def test_did_you_mean_among_allowed_names_one_listing_per_vault() -> None:
    backend = _listing(["app-dbPassword", "app-dbPasswords", "other-dbPassword", "app-unrelated"])
    usages = [
        Usage(SecretRef("kv", "app-dbPasword"), SITE),
        Usage(SecretRef("kv", "app-dbPassw0rd"), SITE.at("stringData.B")),
        Usage(SecretRef("kv", "app-zzzzzzzzzzzzzz"), SITE.at("stringData.C")),
    ]
    findings = lookup(
        usages, backend, 2, _deadline(), allowed=lambda ref: ref.key.startswith("app-")
    )
    messages = [f.message for f in findings]
    assert messages == [
        "secret app-dbPasword does not exist in kv"
        " (did you mean app-dbPassword or app-dbPasswords?)",
        "secret app-dbPassw0rd does not exist in kv"
        " (did you mean app-dbPassword or app-dbPasswords?)",
        "secret app-zzzzzzzzzzzzzz does not exist in kv",
    ]
    assert "other-dbPassword" not in " ".join(messages)  # refused by the rule: never named
    assert _listed(backend) == ["kv"]
    # Without the rules (a caller that gives none), nothing is listed or suggested.
    quiet = _listing(["app-dbPassword"])
    assert "did you mean" not in lookup(usages[:1], quiet, 2, _deadline())[0].message
    assert _listed(quiet) == []


def test_no_listing_when_nothing_is_missing() -> None:
    backend = _listing(["ok"])
    assert lookup([Usage(SecretRef("kv", "ok"), SITE)], backend, 2, _deadline(), allowed=bool) == []
    assert _listed(backend) == []
