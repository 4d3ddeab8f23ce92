"""AVP's Key Vault access pattern for an input, counted in round trips (avp-behaviour.md §4).

For every manifest whose ``avp.kubernetes.io/path`` annotation is non-empty, AVP builds a new
client (one unauthenticated request answered by the authentication challenge), lists the vault
(pages of 25) and GETs every enabled secret, sequentially (§4.2); it does so even when the
manifest is ignored. For every inline placeholder occurrence it builds a new client again: one
challenge and one GET (§4.3). Nothing is cached or run in parallel (§4.4).

The least possible time is ``round trips × latency + 20 ms`` for the Go binary's start. It
leaves out AVP's token request, TLS handshakes, its CPU time and its YAML work, so it is a lower
bound that favours AVP.

Placeholders are found as AVP finds them (§3.1-3.5): with the path annotation every ``<…>`` on
one line is a placeholder and the inline ones are those whose key part contains
``path:VAULT#KEY``; without it only ``<path:VAULT#KEY[#VERSION]>``; a ``Secret``'s base64
values are decoded first. Documents that cannot hold a placeholder (no ``<path:``, no path
annotation, not a Secret) are skipped before parsing, which does not change the count.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import yaml

LIST_PAGE_SIZE = 25
GO_START_SECONDS = 0.020
PATH_ANNOTATION = "avp.kubernetes.io/path"
VERSION_ANNOTATION = "avp.kubernetes.io/secret-version"
IGNORE_ANNOTATION = "avp.kubernetes.io/ignore"

_SEPARATOR = re.compile(r"^---[ \t]*(?:#[^\n]*)?(?:\n|\Z)", re.MULTILINE)
_GENERIC = re.compile(r"<(.*?)>")
_SPECIFIC = re.compile(r"<path:([^#]+?)#([^#]+?)(?:#([^#]+?))??>")
_INLINE = re.compile(r"path:(?P<path>[^#]+)#(?P<key>[^#]+)(?:#(?P<version>.+))?")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}

Ref = tuple[str, str, str]  # (vault, secret, version or "")


@dataclass
class AvpPattern:
    """Round trips AVP makes for one input."""

    annotated_manifests: int = 0
    list_pages: int = 0
    list_gets: int = 0
    inline_occurrences: int = 0
    generic_occurrences: int = 0
    """Generic ``<key>`` placeholders: served from the listed data, no request of their own."""
    refs: set[Ref] = field(default_factory=set, repr=False)
    """Distinct (vault, secret, version) the input references: what avp-py fetches."""

    @property
    def placeholders(self) -> int:
        return self.inline_occurrences + self.generic_occurrences

    @property
    def challenges(self) -> int:
        return self.annotated_manifests + self.inline_occurrences

    @property
    def gets(self) -> int:
        return self.list_gets + self.inline_occurrences

    @property
    def round_trips(self) -> int:
        return self.challenges + self.list_pages + self.gets

    def least_seconds(self, latency: float) -> float:
        """Round trips × latency + the Go binary's start (CPU time left out)."""
        return self.round_trips * latency + GO_START_SECONDS


def avp_pattern(text: str, enabled: Mapping[str, int]) -> AvpPattern:
    """Count AVP's round trips for ``text``; ``enabled`` maps vault → enabled secrets."""
    pattern = AvpPattern()
    for chunk in _SEPARATOR.split(text):
        if not _may_hold_placeholders(chunk):
            continue
        body = yaml.load(chunk, Loader=yaml.CSafeLoader)
        if isinstance(body, dict):
            _add_manifest(pattern, body, enabled)
    return pattern


def _may_hold_placeholders(chunk: str) -> bool:
    return "<path:" in chunk or PATH_ANNOTATION in chunk or "kind: Secret" in chunk


def _annotations(body: Mapping[object, object]) -> dict[str, str]:
    metadata = body.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return {}
    return {str(k): v for k, v in annotations.items() if isinstance(v, str)}


def _add_manifest(
    pattern: AvpPattern, body: Mapping[object, object], enabled: Mapping[str, int]
) -> None:
    annotations = _annotations(body)
    vault = annotations.get(PATH_ANNOTATION)
    if vault:
        secrets = enabled.get(vault, 0)
        pattern.annotated_manifests += 1
        pattern.list_pages += max(1, math.ceil(secrets / LIST_PAGE_SIZE))
        pattern.list_gets += secrets
    if annotations.get(IGNORE_ANNOTATION, "") in _TRUE:
        return
    annotated = PATH_ANNOTATION in annotations
    version = annotations.get(VERSION_ANNOTATION, "")
    for text in _strings(body, decode_base64=body.get("kind") == "Secret"):
        for ref, is_inline in _placeholders(text, annotated, vault or "", version):
            pattern.refs.add(ref)
            pattern.inline_occurrences += is_inline
            pattern.generic_occurrences += not is_inline


def _placeholders(
    text: str, annotated: bool, vault: str, version: str
) -> Iterator[tuple[Ref, bool]]:
    """(reference, is inline) for every placeholder AVP finds in one string value."""
    if not annotated:
        for match in _SPECIFIC.finditer(text):
            key = match.group(2).split("|")[0].strip()
            yield (match.group(1), key, match.group(3) or ""), True
        return
    for match in _GENERIC.finditer(text):
        spec = match.group(0).strip("<>").split("|")[0].strip(" ")
        found = _INLINE.search(spec)
        if found:
            ref = (found["path"], found["key"].strip(), found["version"] or "")
            yield ref, True
        elif vault:
            yield (vault, spec, version), False


def _strings(node: object, *, decode_base64: bool) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value, decode_base64=decode_base64)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, decode_base64=decode_base64)
    elif isinstance(node, str):
        yield _decoded(node) if decode_base64 else node


def _decoded(value: str) -> str:
    """A Secret value that is base64 of text holding ``<…>`` is searched decoded (§3.5)."""
    try:
        raw = base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return value
    return decoded if _GENERIC.search(decoded) else value
