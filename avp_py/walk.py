"""Generic traversal of a parsed object: string leaves with their path, and copy-on-write edits.

AVP replaces placeholders in every string value of the object, in mappings and lists, and never
in keys (§3.3). AVP skips lists nested directly in lists; avp-py walks them too, so that no
placeholder is ever left behind unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
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


def iter_strings(
    node: YamlNode, prefix: FieldPath = (), wanted: Callable[[str], bool] | None = None
) -> Iterator[Leaf]:
    """Every string value under ``node`` (only those ``wanted`` says yes to, if given), depth
    first, in document order, iteratively.

    A leaf's path is built only for the strings yielded: most strings of a manifest hold no
    placeholder, and building a tuple per string was most of the planner's time.
    """
    if isinstance(node, str):
        if wanted is None or wanted(node):
            yield Leaf(prefix, node, True)
        return
    stack = [_children(prefix, node)]
    while stack:
        path, children, in_mapping = stack[-1]
        for key, value in children:
            if isinstance(value, str):
                if wanted is None or wanted(value):
                    yield Leaf((*path, key), value, in_mapping)
            elif isinstance(value, (dict, list)):
                stack.append(_children((*path, key), value))
                break
        else:
            stack.pop()


def _children(
    path: FieldPath, node: YamlNode
) -> tuple[FieldPath, Iterator[tuple[str | int, YamlNode]], bool]:
    """A collection's (key or index, value) pairs, and whether they are a mapping's."""
    if isinstance(node, dict):
        return path, iter(node.items()), True
    if isinstance(node, list):
        return path, enumerate(node), False
    return path, iter(()), True  # a scalar other than a string has no strings


def iter_keys(
    node: YamlNode, prefix: FieldPath = (), wanted: Callable[[str], bool] | None = None
) -> Iterator[tuple[FieldPath, str]]:
    """Every mapping key under ``node`` (only those ``wanted`` says yes to, if given) with the
    path of its mapping; paths are built for collections only, never for scalar values."""
    stack: list[tuple[FieldPath, YamlNode]] = [(prefix, node)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if wanted is None or wanted(key):
                    yield path, key
                if isinstance(value, (dict, list)):
                    stack.append(((*path, key), value))
        elif isinstance(current, list):
            stack.extend(
                ((*path, index), value)
                for index, value in enumerate(current)
                if isinstance(value, (dict, list))
            )


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
        # Only the edited items are walked; the others are shared as they are.
        edited = list(node)
        for index, sub in grouped.items():
            if isinstance(index, int) and 0 <= index < len(node):
                edited[index] = apply_edits(node[index], sub)
        return edited
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
