"""Generic traversal of a parsed object: string leaves with their path, and copy-on-write edits.

AVP replaces placeholders in every string value of the object, in mappings and lists, and never
in keys (§3.3). AVP skips lists nested directly in lists; avp-py walks them too, so that no
placeholder is ever left behind unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from avp_py.model import YamlNode

FieldPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Delete:
    """Marker: remove this mapping key (``remove-missing``)."""


DELETE: Final = Delete()


@dataclass(frozen=True, slots=True)
class Leaf:
    """A string value and where it lives. ``in_mapping`` is False for list elements."""

    path: FieldPath
    value: str
    in_mapping: bool


def iter_strings(node: YamlNode, prefix: FieldPath = ()) -> Iterator[Leaf]:
    """Every string value under ``node``, depth first, in document order (iteratively)."""
    stack: list[tuple[FieldPath, YamlNode, bool]] = [(prefix, node, True)]
    while stack:
        path, current, in_mapping = stack.pop()
        if isinstance(current, str):
            yield Leaf(path, current, in_mapping)
        elif isinstance(current, dict):
            items = [((*path, key), value, True) for key, value in current.items()]
            stack.extend(reversed(items))
        elif isinstance(current, list):
            elements = [((*path, index), value, False) for index, value in enumerate(current)]
            stack.extend(reversed(elements))


def iter_keys(node: YamlNode, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    """Every mapping key under ``node`` with the path of its mapping."""
    stack: list[tuple[FieldPath, YamlNode]] = [(prefix, node)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                yield path, key
                stack.append(((*path, key), value))
        elif isinstance(current, list):
            stack.extend(((*path, index), value) for index, value in enumerate(current))


def apply_edits(node: YamlNode, edits: Mapping[FieldPath, YamlNode | Delete]) -> YamlNode:
    """A copy of ``node`` with each path replaced (or deleted); untouched subtrees are shared."""
    if not edits:
        return node
    if () in edits:
        replacement = edits[()]
        return None if isinstance(replacement, Delete) else replacement
    grouped: dict[str | int, dict[FieldPath, YamlNode | Delete]] = {}
    for path, value in edits.items():
        grouped.setdefault(path[0], {})[path[1:]] = value
    if isinstance(node, dict):
        return _edit_mapping(node, grouped)
    if isinstance(node, list):
        return [apply_edits(item, grouped.get(index, {})) for index, item in enumerate(node)]
    return node


def _edit_mapping(
    node: dict[str, YamlNode], grouped: Mapping[str | int, Mapping[FieldPath, YamlNode | Delete]]
) -> YamlNode:
    result: dict[str, YamlNode] = {}
    for key, value in node.items():
        sub = grouped.get(key)
        if sub is None:
            result[key] = value
        elif not (() in sub and isinstance(sub[()], Delete)):
            result[key] = apply_edits(value, sub)
    return result


def render_path(path: FieldPath) -> str:
    """``spec.containers[0].env[1].value``; odd keys as ``["a.b/c"]``."""
    parts: list[str] = []
    for element in path:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        elif _PLAIN_KEY.fullmatch(element):
            parts.append(f".{element}" if parts else element)
        else:
            parts.append('["' + element.replace("\\", "\\\\").replace('"', '\\"') + '"]')
    return "".join(parts) or "(document)"
