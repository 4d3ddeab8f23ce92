"""Printing results as client-go does: Go's ``%v`` for scalars, ``encoding/json`` for the rest.

JSON encoding walks an explicit stack instead of recursing, so deep or cyclic values end in a
:class:`JsonPathError` rather than a RecursionError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from avp_py import gocompat
from avp_py.jsonpath.nodes import JsonPathError
from avp_py.jsonpath.values import NO_VALUE, go_type, sorted_keys


def _json_float(value: float) -> str:
    try:
        return gocompat.json_float(value)
    except ValueError as exc:  # NaN and infinities: Go's "json: unsupported value: NaN"
        raise JsonPathError(str(exc)) from None


def _int_text(value: int) -> str:
    try:
        return str(int(value))
    except ValueError:  # beyond Python's int-to-text limit; no Go value is that large
        raise JsonPathError("integer too large to print") from None


def _json_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return gocompat.json_string(value)
    raise JsonPathError(f"json: unsupported type: {go_type(value)}")


class _Raw(str):
    """Already-encoded JSON text on the encoder's stack."""

    __slots__ = ()


class _Leave:
    """Marks the end of a container on the encoder's stack (for cycle detection)."""

    __slots__ = ("ident",)

    def __init__(self, ident: int) -> None:
        self.ident = ident


def _push_container(item: dict[Any, object] | list[object], stack: list[object]) -> None:
    if isinstance(item, list):
        stack.append(_Raw("]"))
        for position in range(len(item) - 1, -1, -1):
            stack.append(item[position])
            if position:
                stack.append(_Raw(","))
        stack.append(_Raw("["))
        return
    if not all(isinstance(key, str) for key in item):
        raise JsonPathError("json: unsupported type: map with non-string keys")
    keys = sorted_keys(item)
    stack.append(_Raw("}"))
    for position in range(len(keys) - 1, -1, -1):
        stack.append(item[keys[position]])
        stack.append(_Raw(("," if position else "") + gocompat.json_string(keys[position]) + ":"))
    stack.append(_Raw("{"))


def go_json(value: object, spend: Callable[[int], None]) -> str:
    """encoding/json.Marshal (compact, sorted keys, HTML-safe), without recursion."""
    out: list[str] = []
    active: set[int] = set()
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        spend(1)
        if isinstance(item, _Raw):
            out.append(item)
        elif isinstance(item, _Leave):
            active.discard(item.ident)
        elif isinstance(item, (dict, list)):
            if id(item) in active:
                cycle = f"encountered a cycle via {go_type(item)}"
                raise JsonPathError(f"json: unsupported value: {cycle}")
            active.add(id(item))
            stack.append(_Leave(id(item)))
            _push_container(item, stack)
        else:
            out.append(_json_scalar(item))
    return "".join(out)


def go_print(value: object) -> str:
    """client-go's evalToText of a non-container result: Go's ``fmt.Fprint``, except that a
    null prints ``null``; a value that is null as a whole (Go's invalid reflect.Value) prints
    ``<no value>``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        return gocompat.format_float(value)
    if value is None:
        # A null inside the value: client-go prints "null" since its "null jsonpath
        # serialization" fix (in the client-go AVP 1.18.1 uses; kubectl 1.32 agrees).
        return "null"
    if value is NO_VALUE:
        return "<no value>"
    return str(value)
