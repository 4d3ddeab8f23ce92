"""Turn decoded sources into documents: parse the ones that need it, check them, skip blanks.

Rules (avp-behaviour.md §1.4, decisions D3 and D4): empty, comment-only and ``null``
documents are skipped; every document must be a mapping with a string ``kind``; in directory
mode, files that hold no Kubernetes object at all (``Chart.yaml``, ``values.yaml``, a
``kustomization.yaml``) are skipped instead of failing the run. Every problem of every file is
reported in one error.

A List (any object whose ``items`` is a list: unstructured's ``IsList``, which Argo CD's
repo-server uses to apply each item on its own) becomes one document per item, each planned
and filled like a top-level document (its own kind, annotations, Secret rules); the write
step puts the List back around them (D12).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from avp_py import directives, stream, yamlcodec
from avp_py.errors import ManifestParseError, PlaceholderError
from avp_py.model import YamlNode
from avp_py.sources import HELM_PLUGIN, Source

log = logging.getLogger(__name__)

_KUSTOMIZE_API = "kustomize.config.k8s.io/"


@dataclass(frozen=True, slots=True)
class ListItem:
    """Where a document sits when it is an item of a List: the List as read, and the index."""

    container: dict[str, YamlNode] = field(repr=False)
    index: int


@dataclass(frozen=True, slots=True)
class Document:
    """One manifest: its text, and its parsed body unless it is passed through untouched.

    The items of a List are documents of their own that share the List's chunk (``item``).
    """

    chunk: stream.Chunk
    body: dict[str, YamlNode] | None
    item: ListItem | None = None

    @property
    def kind(self) -> str:
        """The object's ``kind`` ("" when not parsed)."""
        kind = self.body.get("kind") if self.body else None
        return kind if isinstance(kind, str) else ""

    @property
    def name(self) -> str:
        """``metadata.name`` if it is a string, else ""."""
        metadata = self.body.get("metadata") if self.body else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        return name if isinstance(name, str) else ""

    def describe(self) -> str:
        """``file (document n, line l) Kind/name`` for messages, with ``items[i]`` before
        ``Kind/name`` for an item of a List."""
        return f"{self.where()} {self.kind or '?'}/{self.name or '?'}"

    def where(self) -> str:
        """``file (document n, line l)``, and ``items[i]`` for an item of a List."""
        item = f" items[{self.item.index}]" if self.item else ""
        return self.chunk.describe() + item


def load(
    sources: Iterable[Source],
    limits: yamlcodec.Limits,
    directory_mode: bool,
    load_all: bool = False,
) -> list[Document]:
    """Every document of every source, in order; one error listing every problem.

    Documents with nothing to replace are only syntax-checked unless ``load_all`` (the check
    command looks at every object, SecretProviderClasses included).
    """
    documents: list[Document] = []
    problems: list[str] = []
    templated: list[str] = []  # sources that failed and hold Helm template syntax
    for source in sources:
        before = len(problems)
        try:
            found = _load_source(source, limits, problems, load_all)
        except ManifestParseError as exc:
            problems.append(str(exc))
            found = []
        if len(problems) > before and "{{" in source.text:
            templated.append(source.name)
        if not found:
            continue
        if directory_mode and found and all(_not_a_resource(doc) for doc in found):
            log.info("skipping %s: it holds no Kubernetes resource", source.name)
            continue
        problems.extend(_kind_problems(found))
        for document in found:
            documents.extend(_list_items(document, problems) if is_list(document) else [document])
    if problems:
        raise _combined(problems, templated)
    return documents


def _load_source(
    source: Source, limits: yamlcodec.Limits, problems: list[str], load_all: bool
) -> list[Document]:
    documents = []
    for chunk in stream.split(source.name, source.text):
        if not load_all and not stream.needs_parsing(chunk):
            try:
                yamlcodec.check_syntax(chunk.text)  # passed through, but still valid YAML
            except ManifestParseError as exc:
                problems.append(_with_context(chunk, exc))
                continue
            documents.append(Document(chunk, None))
            continue
        try:
            body = _parse(chunk, limits)
        except ManifestParseError as exc:
            problems.append(_with_context(chunk, exc))
            continue
        if body is not None:
            documents.append(Document(chunk, body))
    return documents


def _parse(chunk: stream.Chunk, limits: yamlcodec.Limits) -> dict[str, YamlNode] | None:
    loader = yamlcodec.load_json if chunk.is_json else yamlcodec.load_yaml
    body = loader(chunk.text, limits)
    if body is None or isinstance(body, dict):
        return body
    kind = "list" if isinstance(body, list) else "scalar"
    raise ManifestParseError(f"a document must be a mapping (a Kubernetes object), not a {kind}")


def _with_context(chunk: stream.Chunk, exc: ManifestParseError) -> str:
    """``file (document n, line l): problem``; the problem's own line if the parser knows it."""
    line = getattr(exc, "line", None)
    absolute = chunk.line + line - 1 if isinstance(line, int) else chunk.line
    return f"{chunk.source} (document {chunk.number}, line {absolute}): {exc}"


def _not_a_resource(document: Document) -> bool:
    if document.body is None:
        return False
    api_version = document.body.get("apiVersion")
    kustomize = isinstance(api_version, str) and api_version.startswith(_KUSTOMIZE_API)
    return kustomize or not document.kind


def _kind_problems(documents: Sequence[Document]) -> list[str]:
    return [
        f"{doc.where()}: Object 'Kind' is missing"
        for doc in documents
        if doc.body is not None and not doc.kind
    ]


def is_list(document: Document) -> bool:
    """A List as Argo CD's repo-server sees one (unstructured ``IsList``): ``items`` is a list,
    whatever the kind (``List``, ``SecretList``, ...)."""
    return document.body is not None and isinstance(document.body.get("items"), list)


def _list_items(document: Document, problems: list[str]) -> list[Document]:
    """The items of a List as documents; an empty List stays one document (nothing in it to
    fill). As in Argo CD, every item must be an object with a kind."""
    body = document.body
    assert body is not None
    items = body["items"]
    assert isinstance(items, list)
    problems.extend(_list_annotations(document))
    if not items:
        return [document]
    found = []
    for index, value in enumerate(items):
        mapping = value if isinstance(value, dict) else None
        item = Document(document.chunk, mapping, ListItem(body, index))
        if mapping is None:
            shape = "list" if isinstance(value, list) else "scalar"
            problems.append(
                f"{item.where()}: a List item must be a mapping (an object), not a {shape}"
            )
        elif not item.kind:
            problems.append(f"{item.where()}: Object 'Kind' is missing")
        else:
            found.append(item)
    return found


def _list_annotations(document: Document) -> list[str]:
    """Argo CD applies a List's items, never the List: its avp.kubernetes.io annotations would
    act on nothing (AVP applied them to all the items), so they are refused, not ignored."""
    try:
        annotations = directives.annotations_of(document.body)
    except PlaceholderError as exc:
        return [f"{document.describe()}: {exc}"]
    found = sorted(key for key in annotations if key in directives.KNOWN)
    if not found:
        return []
    return [
        f"{document.describe()}: {', '.join(found)} on a List acts on nothing: Argo CD applies"
        " the List's items, each on its own; annotate the items instead"
    ]


def _combined(problems: Sequence[str], templated: Sequence[str]) -> ManifestParseError:
    hints = [
        f"{name} holds Helm template syntax ({{{{ ... }}}}) that was not rendered: render it"
        f" with helm template first; in Argo CD use the Helm plugin {HELM_PLUGIN}"
        for name in templated
    ]
    if len(problems) == 1 and not hints:
        return ManifestParseError(problems[0])
    if len(problems) == 1:
        return ManifestParseError(problems[0], hints)
    return ManifestParseError(f"{len(problems)} problems in the input", [*problems, *hints])
