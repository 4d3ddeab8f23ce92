"""Turn decoded sources into documents: parse the ones that need it, check them, skip blanks.

Rules (avp-behaviour.md §1.4, decisions D3 and D4): empty, comment-only and ``null``
documents are skipped; every document must be a mapping with a string ``kind``; in directory
mode, files that hold no Kubernetes object at all (``Chart.yaml``, ``values.yaml``, a
``kustomization.yaml``) are skipped instead of failing the run. Every problem of every file is
reported in one error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from avp_py import stream, yamlcodec
from avp_py.errors import ManifestParseError
from avp_py.model import YamlNode
from avp_py.sources import Source

log = logging.getLogger(__name__)

_KUSTOMIZE_API = "kustomize.config.k8s.io/"


@dataclass(frozen=True, slots=True)
class Document:
    """One manifest: its text, and its parsed body unless it is passed through untouched."""

    chunk: stream.Chunk
    body: dict[str, YamlNode] | None

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
        """``file (document n, line l) Kind/name`` for messages."""
        return f"{self.chunk.describe()} {self.kind or '?'}/{self.name or '?'}"


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
    for source in sources:
        try:
            found = _load_source(source, limits, problems, load_all)
        except ManifestParseError as exc:
            problems.append(str(exc))
            continue
        if directory_mode and found and all(_not_a_resource(doc) for doc in found):
            log.info("skipping %s: it holds no Kubernetes resource", source.name)
            continue
        problems.extend(_kind_problems(found))
        documents.extend(found)
    if problems:
        raise _combined(problems)
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
        f"{doc.chunk.describe()}: Object 'Kind' is missing"
        for doc in documents
        if doc.body is not None and not doc.kind
    ]


def _combined(problems: Sequence[str]) -> ManifestParseError:
    if len(problems) == 1:
        return ManifestParseError(problems[0])
    return ManifestParseError(f"{len(problems)} problems in the input", problems)
