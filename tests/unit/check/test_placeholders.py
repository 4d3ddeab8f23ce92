"""The placeholder part of ``avp-py check``: exposure lint, policy, references. No backend."""

from __future__ import annotations

import re

import pytest

from avp_py import documents, yamlcodec
from avp_py.check.findings import Code, Finding, Scan, Severity
from avp_py.check.placeholders import scan
from avp_py.settings.policy import ReferenceRules, TenantPolicy
from avp_py.sources import Source

OPEN = ReferenceRules(None, TenantPolicy())
APP_PREFIX = ReferenceRules(None, TenantPolicy((), re.compile(r"^orders-api-"), "^{app}-"))


def _scan(text: str, rules: ReferenceRules = OPEN) -> Scan:
    docs = documents.load([Source("in.yaml", text)], yamlcodec.Limits(), False, load_all=True)
    usages, findings = [], []
    for doc in docs:
        if doc.body is not None:
            found = scan(doc, rules)
            usages.extend(found.usages)
            findings.extend(found.findings)
    return Scan(tuple(usages), tuple(findings))


def _codes(findings: tuple[Finding, ...]) -> list[tuple[str, str, str, str]]:
    return [(f.severity.value, f.code.value, f.site.field, f.site.object) for f in findings]


SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: s
  annotations: {note: "<path:kv#in-annotation>"}
stringData:
  A: <path:kv#a>
data:
  B: <path:kv#b | base64encode>
"""


def test_secret_data_is_masked_but_its_annotations_are_not() -> None:
    found = _scan(SECRET)
    assert _codes(found.findings) == [
        ("warning", "exposed-placeholder", "metadata.annotations.note", "path:kv#in-annotation")
    ]
    assert sorted(u.ref.describe() for u in found.usages) == ["kv#a", "kv#b", "kv#in-annotation"]
    usage = next(u for u in found.usages if u.ref.key == "a")
    assert (usage.site.file, usage.site.document, usage.site.line) == ("in.yaml", 1, 1)
    assert (usage.site.kind, usage.site.name, usage.site.field) == ("Secret", "s", "stringData.A")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: '<path:kv#x>'}\n",
            "data.k",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
            "    spec:\n      containers:\n        - env: [{name: X, value: '<path:kv#x>'}]\n",
            "spec.template.spec.containers[0].env[0].value",
        ),
        (
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
            "spec: {token: '<path:kv#x>'}\n",
            "spec.token",
        ),
        (
            "apiVersion: example.com/v1\nkind: Secret\nmetadata: {name: w}\n"
            "data: {k: '<path:kv#x>'}\n",
            "data.k",
        ),
    ],
    ids=["configmap", "env-value", "crd", "secret-of-another-group"],
)
def test_placeholders_outside_a_v1_secret_are_flagged(text: str, field: str) -> None:
    found = _scan(text)
    assert _codes(found.findings) == [("warning", "exposed-placeholder", field, "path:kv#x")]
    assert "shown in clear in the Argo CD UI" in found.findings[0].message


def test_a_sha256sum_checksum_is_not_flagged() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    metadata:\n      annotations:\n        checksum/x: '<path:kv#x | sha256sum>'\n"
        "        other: '<path:kv#y | sha256sum | base64encode>'\n"
    )
    found = _scan(text)
    assert _codes(found.findings) == [
        ("warning", "exposed-placeholder", "spec.template.metadata.annotations.other", "path:kv#y")
    ]


def test_policy_is_reported_per_placeholder_and_not_looked_up() -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n"
        "  A: <path:kv#shared-db>\n  B: <path:kv#orders-api-db>\n"
    )
    found = _scan(text, APP_PREFIX)
    assert _codes(found.findings) == [("error", "policy", "stringData.A", "kv#shared-db")]
    assert "does not match AVP_SECRET_NAME_PATTERN ^{app}-" in found.findings[0].message
    assert [u.ref.key for u in found.usages] == ["orders-api-db"]


def test_generic_placeholders_remove_missing_and_empty_path() -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n"
        "    avp.kubernetes.io/path: kv\n    avp.kubernetes.io/secret-version: '3'\n"
        "    avp.kubernetes.io/remove-missing: 'true'\nstringData:\n  A: <a>\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\n  annotations:\n"
        "    avp.kubernetes.io/path: ''\nstringData:\n  A: <a>\n"
    )
    found = _scan(text)
    (usage,) = found.usages
    assert (usage.ref.describe(), usage.missing_ok) == ("kv#a#3", True)
    (finding,) = found.findings
    assert (finding.code, finding.site.document, finding.site.object) == (Code.PLACEHOLDER, 2, "a")


def test_invalid_annotations_modifiers_and_ignored_documents() -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n"
        "  annotations: {avp.kubernetes.io/ignore: 'yes'}\n"
        "stringData: {A: '<path:kv#a>'}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: b}\n"
        "stringData: {A: '<path:kv#a | nosuch>'}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: c\n"
        "  annotations: {avp.kubernetes.io/ignore: 'true'}\n"
        "stringData: {A: '<path:kv#a>'}\n"
    )
    found = _scan(text)
    by_doc = {f.site.document: f for f in found.findings}
    assert sorted(by_doc) == [1, 2]
    assert by_doc[1].code is Code.ANNOTATION and by_doc[1].severity is Severity.ERROR
    assert by_doc[2].code is Code.PLACEHOLDER
    assert by_doc[2].message.startswith("stringData.A: ")
    assert "nosuch" in by_doc[2].message
    assert [u.site.name for u in found.usages] == ["b"]


def test_rollout_on_change_on_a_kind_that_cannot_roll() -> None:
    text = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  annotations:\n"
        "    avp.kubernetes.io/rollout-on-change: 'true'\nspec: {}\n"
    )
    (finding,) = _scan(text).findings
    assert (finding.code, finding.site.kind) == (Code.ANNOTATION, "CronJob")
    assert "can only be used on Deployment, StatefulSet or DaemonSet" in finding.message
