"""The record a render leaves for ``avp-py watch``, and the refresh note: formats (pure)."""

from __future__ import annotations

import json

import pytest

from avp_py.model import LatestVersion, SecretRef
from avp_py.watch import records, refreshes
from avp_py.watch.records import AppRecord, AppSource, Identity, RecordError
from avp_py.watch.refreshes import Requested

V1 = "0123456789abcdef0123456789abcdef"


def _record(**changes: object) -> AppRecord:
    fields: dict[str, object] = {
        "application": "team-a_orders",
        "project": "team-a",
        "source": AppSource("https://git.example/repo.git", "apps/orders", "main"),
        "identity": Identity("azurekeyvault", (("AVP_AZURE_CREDENTIAL", "workload"),)),
        "rendered_at": 1_700_000_000.5,
        "latest": (
            LatestVersion(SecretRef("kv", "db-password"), V1),
            LatestVersion(SecretRef("kv", "optional"), None),
        ),
    }
    fields.update(changes)
    return AppRecord(**fields)  # type: ignore[arg-type]


def test_a_record_survives_its_file_format() -> None:
    record = _record()
    assert records.from_json(records.to_json(record)) == record


def test_the_key_depends_on_application_and_source_only() -> None:
    record = _record()
    assert record.key == _record(rendered_at=1.0, latest=()).key
    assert record.key != _record(application="orders").key
    other_source = AppSource("https://git.example/repo.git", "apps/orders-2", "main")
    assert record.key != _record(source=other_source).key  # two sources of one Application
    assert len(record.key) == 40 and record.key.isalnum()


def test_the_identity_keeps_backend_settings_but_never_a_secret() -> None:
    options = {
        "AVP_AZURE_CREDENTIAL": "environment",
        "AZURE_CLIENT_ID": "client-1",
        "AZURE_TENANT_ID": "tenant-1",
        "AZURE_CLIENT_SECRET": "sentinel-client-secret",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "sentinel-password",
        "AVP_CACHE_KEY": "sentinel-cache-key-0123456789abcdef0123",
        "AVP_TIMEOUT_SECONDS": "45",
    }
    identity = records.identity_of("azurekeyvault", options)
    assert identity == Identity(
        "azurekeyvault",
        (
            ("AVP_AZURE_CREDENTIAL", "environment"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_TENANT_ID", "tenant-1"),
        ),
    )
    assert "sentinel" not in records.to_json(_record(identity=identity))


def test_a_relative_file_path_is_made_absolute(tmp_path: object) -> None:
    identity = records.identity_of("file", {"AVP_FILE_PATH": "secrets.yaml"})
    ((name, value),) = identity.options
    assert name == "AVP_FILE_PATH" and value.startswith("/") and value.endswith("/secrets.yaml")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(schema="other"), "not an avp-py/watch-record/v1 document"),
        (lambda d: d.update(application=""), "application must be a non-empty string"),
        (lambda d: d.update(renderedAt="yesterday"), "renderedAt must be a number"),
        (lambda d: d.update(renderedAt=True), "renderedAt must be a number"),
        (lambda d: d.update(renderedAt=10**400), "renderedAt must be a finite number"),
        (lambda d: d.update(renderedAt=float("nan")), "renderedAt must be a finite number"),
        (lambda d: d.update(renderedAt=float("inf")), "renderedAt must be a finite number"),
        (lambda d: d.update(latest={}), "latest must be a list"),
        (lambda d: d["latest"].append("kv#x"), "latest must hold objects"),
        (lambda d: d["latest"].append({"path": "kv", "key": "x", "version": ""}), "version"),
        (lambda d: d["latest"].append({"path": "kv", "version": None}), "key must be"),
        (lambda d: d.update(source=[]), "source must be an object"),
        (lambda d: d["identity"].update(options=[["only-one"]]), "pairs"),
    ],
)
def test_anything_else_is_refused_with_a_reason(change: object, reason: str) -> None:
    document = json.loads(records.to_json(_record()))
    change(document)  # type: ignore[operator]
    with pytest.raises(RecordError, match=reason):
        records.from_json(json.dumps(document))


def test_text_that_is_not_json_is_refused_without_quoting_it() -> None:
    with pytest.raises(RecordError) as caught:
        records.from_json("sentinel-value {")
    assert "sentinel" not in str(caught.value)


def test_json_nested_too_deeply_is_refused() -> None:
    with pytest.raises(RecordError, match="nested too deeply"):
        records.from_json("[" * 200_000)


def test_a_refresh_note_survives_its_file_format() -> None:
    note = Requested(
        "orders",
        1_700_000_100.0,
        {
            SecretRef("kv", "db-password"): frozenset({V1, "f" * 32}),
            SecretRef("kv", "x"): frozenset(),
        },
    )
    assert refreshes.from_json(refreshes.to_json(note)) == note


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"schema": "avp-py/watch-refresh/v1", "application": "", "requestedAt": 1, "targets": []}',
        '{"schema": "avp-py/watch-refresh/v1", "application": "a", "requestedAt": 1,'
        ' "targets": [1]}',
        '{"schema": "avp-py/watch-refresh/v1", "application": "a", "requestedAt": null,'
        ' "targets": []}',
        '{"schema": "avp-py/watch-refresh/v1", "application": "a", "requestedAt": 1'
        + "0" * 400
        + ', "targets": []}',
        "[" * 200_000,
    ],
)
def test_a_damaged_refresh_note_is_refused(text: str) -> None:
    with pytest.raises(RecordError):
        refreshes.from_json(text)
