"""Rollout checksum: roll a workload's pods when a secret it uses gets a new version. Pure.

A Deployment, StatefulSet or DaemonSet annotated ``avp.kubernetes.io/rollout-on-change:
"true"`` gets the pod-template annotation :data:`ANNOTATION`, a SHA-256 over the sorted
(reference, concrete version) pairs of every secret referenced by the workload itself and by
the Secrets and ConfigMaps of the same render that its pods use by name (volumes, projected
sources, ``envFrom``, ``env[].valueFrom``). A rotation in Key Vault changes a version, hence the
pod template, hence a rollout, on the next render (a hard refresh, or a new commit). The hash
never covers a value; a backend that does not know a concrete version (the ``file`` backend
for a "latest" reference) contributes an empty version, so its rotations do not roll pods.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence

from avp_py.documents import Document
from avp_py.errors import PlaceholderError
from avp_py.model import Outcome, SecretRef, SecretValue, YamlNode
from avp_py.planner import DocumentPlan

log = logging.getLogger(__name__)

ANNOTATION = "avp.kubernetes.io/secret-versions"
# The kinds whose pod template can carry the checksum (this module owns the rule: generate
# applies it before fetching, check when it scans).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
KIND_PROBLEM = (
    "avp.kubernetes.io/rollout-on-change annotation can only be used on Deployment,"
    " StatefulSet or DaemonSet resources"
)
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

Names = tuple[frozenset[str], frozenset[str]]  # (Secret names, ConfigMap names)


def annotate(
    docs: Sequence[Document],
    plans: Mapping[int, DocumentPlan],
    outcomes: Mapping[SecretRef, Outcome],
    replaced: Mapping[int, YamlNode],
    requesting: Iterable[int],
) -> dict[int, YamlNode]:
    """``replaced`` plus the checksum annotation on the workloads at ``requesting``.

    ``requesting``: the positions of the documents annotated ``rollout-on-change`` and not
    ignored, as planning found them.
    """
    result = dict(replaced)
    problems: list[str] = []
    for position in requesting:
        document = docs[position]
        body = replaced.get(position, document.body)
        problem = template_problem(document, body)
        if problem:
            problems.append(f"{document.describe()}: {problem}")
            continue
        if not isinstance(body, dict):
            continue  # not a workload: reported by template_problem
        refs = workload_refs(position, body, docs, plans)
        value = checksum(refs, outcomes)
        log.info("%s: %s over %d secret(s)", document.describe(), ANNOTATION, len(refs))
        result[position] = with_annotation(body, value)
    if problems:
        raise PlaceholderError(f"{len(problems)} rollout-on-change problem(s)", problems)
    return result


def kind_problem(document: Document) -> str | None:
    """Why this kind of object cannot carry the checksum annotation, or None."""
    return None if document.kind in WORKLOAD_KINDS else KIND_PROBLEM


def template_problem(document: Document, body: YamlNode) -> str | None:
    """Why this object cannot carry the checksum annotation, or None."""
    problem = kind_problem(document)
    if problem:
        return problem
    template = _get(body, "spec", "template")
    if not isinstance(template, dict):
        return "avp.kubernetes.io/rollout-on-change needs spec.template, a mapping"
    metadata = template.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "spec.template.metadata must be a mapping"
    annotations = _get(template, "metadata", "annotations")
    if annotations is not None and not isinstance(annotations, dict):
        return "spec.template.metadata.annotations must be a mapping"
    return None


def workload_refs(
    position: int,
    body: dict[str, YamlNode],
    docs: Sequence[Document],
    plans: Mapping[int, DocumentPlan],
) -> set[SecretRef]:
    """The secrets of the workload and of the Secrets/ConfigMaps its pods use by name."""
    refs = set(plans[position].refs()) if position in plans else set()
    names = referenced_names(_get(body, "spec", "template", "spec"))
    namespace = _namespace(body)
    for other, plan in plans.items():
        if _is_referenced(docs[other], names, namespace):
            refs |= plan.refs()
    return refs


def _is_referenced(document: Document, names: Names, namespace: str) -> bool:
    secrets, config_maps = names
    if document.kind == "Secret":
        wanted = secrets
    elif document.kind == "ConfigMap":
        wanted = config_maps
    else:
        return False
    return document.name in wanted and _same_namespace(namespace, _namespace(document.body))


def referenced_names(pod_spec: YamlNode) -> Names:
    """Names of the Secrets and ConfigMaps a pod spec mounts or reads."""
    secrets: set[str] = set()
    config_maps: set[str] = set()
    for volume in _items(_get(pod_spec, "volumes")):
        _add(secrets, _get(volume, "secret", "secretName"))
        _add(config_maps, _get(volume, "configMap", "name"))
        for source in _items(_get(volume, "projected", "sources")):
            _add(secrets, _get(source, "secret", "name"))
            _add(config_maps, _get(source, "configMap", "name"))
    for container in _containers(pod_spec):
        for source in _items(_get(container, "envFrom")):
            _add(secrets, _get(source, "secretRef", "name"))
            _add(config_maps, _get(source, "configMapRef", "name"))
        for variable in _items(_get(container, "env")):
            _add(secrets, _get(variable, "valueFrom", "secretKeyRef", "name"))
            _add(config_maps, _get(variable, "valueFrom", "configMapKeyRef", "name"))
    return frozenset(secrets), frozenset(config_maps)


def checksum(refs: Iterable[SecretRef], outcomes: Mapping[SecretRef, Outcome]) -> str:
    """``sha256:HEX`` over the sorted (path, key, requested version, served version) tuples.

    The served version is the backend's concrete version, ``""`` when it does not know one,
    and ``null`` when the secret is missing (``remove-missing``): never anything derived
    from a value.
    """
    entries = [[ref.path, ref.key, ref.version, _served(outcomes.get(ref))] for ref in refs]
    canonical = json.dumps(sorted(entries, key=json.dumps), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _served(outcome: Outcome | None) -> str | None:
    if isinstance(outcome, SecretValue):
        return outcome.version or ""
    return None


def with_annotation(body: dict[str, YamlNode], value: str) -> dict[str, YamlNode]:
    """A copy of ``body`` with the pod-template annotation set (key order kept)."""
    spec = _get(body, "spec")
    template = _get(spec, "template")
    if not isinstance(spec, dict) or not isinstance(template, dict):
        raise PlaceholderError("avp.kubernetes.io/rollout-on-change needs spec.template, a mapping")
    metadata = template.get("metadata")
    annotations = _get(metadata, "annotations")
    new_annotations = {**(annotations if isinstance(annotations, dict) else {}), ANNOTATION: value}
    new_metadata = {
        **(metadata if isinstance(metadata, dict) else {}),
        "annotations": new_annotations,
    }
    rest = {key: item for key, item in template.items() if key != "metadata"}
    new_template = (
        {**template, "metadata": new_metadata} if metadata else {"metadata": new_metadata, **rest}
    )
    return {**body, "spec": {**spec, "template": new_template}}


def _get(node: YamlNode, *keys: str) -> YamlNode:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _items(node: YamlNode) -> list[dict[str, YamlNode]]:
    return [item for item in node if isinstance(item, dict)] if isinstance(node, list) else []


def _containers(pod_spec: YamlNode) -> Iterator[dict[str, YamlNode]]:
    for key in _CONTAINER_LISTS:
        yield from _items(_get(pod_spec, key))


def _add(names: set[str], name: YamlNode) -> None:
    if isinstance(name, str) and name:
        names.add(name)


def _namespace(body: YamlNode) -> str:
    namespace = _get(body, "metadata", "namespace")
    return namespace if isinstance(namespace, str) else ""


def _same_namespace(workload: str, other: str) -> bool:
    """Same namespace; a missing one is the Application's destination, so it matches any."""
    return not workload or not other or workload == other
