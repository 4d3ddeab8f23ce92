"""The rollout checksum: which secrets it covers, what it hashes (versions, never values)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import pytest

from avp_py import yamlcodec
from avp_py.backends.base import BackendContext, SecretBackend
from avp_py.errors import PlaceholderError
from avp_py.model import Missing, MissingReason, SecretRef, SecretValue
from avp_py.render import render, start_deadline
from avp_py.rollout import ANNOTATION, checksum, referenced_names
from avp_py.settings import Settings, load_settings
from avp_py.sources import Source
from avp_py.testing import MemoryBackend

# (path, key) → (value, version): the latest version of each secret
Store = Mapping[tuple[str, str], tuple[str, str]]


def _backend(store: Store) -> MemoryBackend:
    backend = MemoryBackend()
    for (path, key), (value, version) in store.items():
        backend.set_secret(path, key, value, version=version)
    return backend


def _settings() -> Settings:
    return load_settings({"AVP_TYPE": "file"})


def _render(text: str, store: Store) -> list[dict[str, object]]:
    def build(settings: Settings, context: BackendContext) -> SecretBackend:
        return _backend(store)

    result = render([Source("in.yaml", text)], _settings(), start_deadline(10), build_backend=build)
    return [
        doc for doc in (yamlcodec.load_yaml(part) for part in result.text.split("---\n")) if doc
    ]  # type: ignore[misc]


def _annotation(docs: list[dict[str, object]], kind: str) -> str | None:
    body = next(doc for doc in docs if doc["kind"] == kind)
    template = body["spec"]["template"]  # type: ignore[index]
    annotations = (template.get("metadata") or {}).get("annotations") or {}  # type: ignore[union-attr]
    value = annotations.get(ANNOTATION)
    return value if isinstance(value, str) else None


MANIFESTS = """\
apiVersion: v1
kind: Secret
metadata: {name: app-secrets}
stringData:
  DB: <path:kv#db>
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  url: <path:kv#url>
---
apiVersion: v1
kind: Secret
metadata: {name: other}
stringData:
  X: <path:kv#other>
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  annotations: {avp.kubernetes.io/rollout-on-change: "true"}
spec:
  template:
    metadata:
      annotations: {keep: me}
    spec:
      containers:
        - name: app
          envFrom: [{secretRef: {name: app-secrets}}]
          env:
            - {name: URL, valueFrom: {configMapKeyRef: {name: app-config, key: url}}}
"""

STORE: dict[tuple[str, str], tuple[str, str]] = {
    ("kv", "db"): ("SENTINEL-db-1", "v1"),
    ("kv", "url"): ("https://example", "u1"),
    ("kv", "other"): ("x", "o1"),
}


def _expected(entries: list[list[str | None]]) -> str:
    canonical = json.dumps(sorted(entries, key=json.dumps), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def test_annotation_covers_the_workload_and_the_objects_it_uses() -> None:
    docs = _render(MANIFESTS, STORE)
    expected = _expected([["kv", "db", "", "v1"], ["kv", "url", "", "u1"]])
    assert _annotation(docs, "Deployment") == expected
    deployment = next(doc for doc in docs if doc["kind"] == "Deployment")
    assert deployment["spec"]["template"]["metadata"]["annotations"]["keep"] == "me"  # type: ignore[index]


def test_a_new_version_changes_the_annotation_and_a_new_value_alone_does_not() -> None:
    before = _annotation(_render(MANIFESTS, STORE), "Deployment")
    rotated = {**STORE, ("kv", "db"): ("SENTINEL-db-2", "v2")}
    same_version = {**STORE, ("kv", "db"): ("SENTINEL-db-2", "v1")}
    unrelated = {**STORE, ("kv", "other"): ("y", "o2")}
    assert _annotation(_render(MANIFESTS, rotated), "Deployment") != before
    assert _annotation(_render(MANIFESTS, same_version), "Deployment") == before
    assert _annotation(_render(MANIFESTS, unrelated), "Deployment") == before


def test_no_annotation_without_the_opt_in() -> None:
    text = MANIFESTS.replace('"true"', '"false"')
    assert _annotation(_render(text, STORE), "Deployment") is None


def test_other_namespace_is_not_covered() -> None:
    text = MANIFESTS.replace(
        "metadata: {name: app-secrets}", "metadata: {name: app-secrets, namespace: a}"
    )
    text = text.replace("  name: app\n", "  name: app\n  namespace: b\n")
    assert _annotation(_render(text, STORE), "Deployment") == _expected([["kv", "url", "", "u1"]])


def test_wrong_kind_and_bad_template_are_errors() -> None:
    job = MANIFESTS.replace("kind: Deployment", "kind: Job")
    with pytest.raises(PlaceholderError) as caught:
        _render(job, STORE)
    assert "Job/app: avp.kubernetes.io/rollout-on-change annotation" in caught.value.details()[0]
    bad = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  annotations:\n"
        '    avp.kubernetes.io/rollout-on-change: "true"\nspec: {template: []}\n'
    )
    with pytest.raises(PlaceholderError):
        _render(bad, STORE)


def test_checksum_is_order_independent_and_distinguishes_unknown_from_missing() -> None:
    a, b = SecretRef("kv", "a"), SecretRef("kv", "b", "7")
    outcomes = {a: SecretValue("SENTINEL", None), b: SecretValue("SENTINEL", "7")}
    assert checksum([a, b], outcomes) == checksum([b, a], outcomes)
    assert checksum([a], outcomes) != checksum([a], {a: Missing(MissingReason.NOT_FOUND)})
    assert checksum([a], outcomes) == _expected([["kv", "a", "", ""]])
    assert checksum([], {}) == _expected([])


def test_checksum_never_depends_on_values() -> None:
    ref = SecretRef("kv", "a")
    first = checksum([ref], {ref: SecretValue("SENTINEL-one", "v1")})
    assert first == checksum([ref], {ref: SecretValue("SENTINEL-two", "v1")})


def test_referenced_names() -> None:
    pod_spec = yamlcodec.load_yaml(
        """
volumes:
  - {name: a, secret: {secretName: s-volume}}
  - {name: b, configMap: {name: c-volume}}
  - name: c
    projected:
      sources: [{secret: {name: s-projected}}, {configMap: {name: c-projected}}]
  - {name: d, csi: {driver: x}}
initContainers:
  - envFrom: [{secretRef: {name: s-init}}]
containers:
  - envFrom: [{configMapRef: {name: c-envfrom}}]
    env:
      - {name: A, valueFrom: {secretKeyRef: {name: s-env, key: k}}}
      - {name: B, valueFrom: {configMapKeyRef: {name: c-env, key: k}}}
      - {name: C, value: plain}
ephemeralContainers:
  - envFrom: [{secretRef: {name: s-ephemeral}}]
"""
    )
    secrets, config_maps = referenced_names(pod_spec)
    assert secrets == {"s-volume", "s-projected", "s-init", "s-env", "s-ephemeral"}
    assert config_maps == {"c-volume", "c-projected", "c-envfrom", "c-env"}
    assert referenced_names(None) == (frozenset(), frozenset())
    assert referenced_names({"volumes": "junk", "containers": [1, None]}) == (
        frozenset(),
        frozenset(),
    )
