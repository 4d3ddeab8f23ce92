"""Path steps: what ``.name``, ``[i:j:k]``, ``[a,b]``, ``.*`` and ``..`` select from values."""

from __future__ import annotations

from typing import Protocol

from avp_py.jsonpath.nodes import (
    Action,
    Array,
    Field,
    JsonPathError,
    Recursive,
    SliceParam,
    UnionOf,
    Wildcard,
)
from avp_py.jsonpath.values import NO_VALUE, child_values, go_type

_PANIC_TYPE = "reflect: call of reflect.Value.Type on zero Value"


class Walker(Protocol):
    """What a step needs from the evaluator: its step budget, and nested actions."""

    def spend(self, steps: int) -> None:
        """Charge ``steps`` to the evaluation's budget."""

    def eval_action(self, values: list[object], node: Action) -> list[object]:
        """The results of the nodes of ``node``, applied to ``values`` in turn."""


class Fail(Exception):
    """A client-go ``error`` return, with the value slice Go returns alongside it."""

    def __init__(self, message: str, partial: list[object]) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial


def resolve_bounds(params: tuple[SliceParam, ...], length: int) -> tuple[int, int]:
    """Start and stop of a slice of ``length`` items (negative indices count from the end)."""
    start = params[0].value if params[0].known else 0
    if start < 0:
        start += length
    stop = params[1].value if params[1].known else length
    if stop < 0 or (stop == 0 and params[1].derived):
        stop += length
    return start, stop


def check_bounds(start: int, stop: int, length: int, step: SliceParam) -> int:
    """client-go's bounds checks for a non-empty slice; returns the step."""
    if start >= length or start < 0:
        raise JsonPathError(f"array index out of bounds: index {start}, length {length}")
    if stop > length or stop < 0:
        raise JsonPathError(f"array index out of bounds: index {stop - 1}, length {length}")
    if start > stop:
        raise JsonPathError(f"starting index {start} is greater than ending index {stop}")
    if step.known and step.value <= 0:
        raise JsonPathError("step must be > 0")
    return step.value if step.known else 1


def field_step(walker: Walker, values: list[object], node: Field) -> list[object]:
    """``.name``: the values under that key; "not found" if no map has it."""
    if not values:
        return []
    name = node.name
    found = [value[name] for value in values if isinstance(value, dict) and name in value]
    if not found:
        raise Fail(f"{name} is not found", [])
    return found


def array_step(walker: Walker, values: list[object], node: Array) -> list[object]:
    """``[i]``, ``[start:end:step]``, ``[*]``: the selected elements of each list."""
    out: list[object] = []
    for value in values:
        if value is None:
            continue
        if value is NO_VALUE:
            raise JsonPathError(_PANIC_TYPE)
        if not isinstance(value, list):
            raise Fail(f"{go_type(value)} is not array or slice", values)
        start, stop = resolve_bounds(node.params, len(value))
        if start == stop:
            return out  # client-go stops at the first empty selection
        try:
            step = check_bounds(start, stop, len(value), node.params[2])
        except JsonPathError as error:
            raise Fail(error.message, values) from None
        walker.spend((stop - start) // step)
        out.extend(value[start:stop:step])
    return out


def union_step(walker: Walker, values: list[object], node: UnionOf) -> list[object]:
    """``[a,b,...]``: the results of every branch, in order."""
    out: list[object] = []
    for branch in node.branches:
        try:
            out.extend(walker.eval_action(values, branch))
        except Fail as failure:
            raise Fail(failure.message, values) from None
    return out


def wildcard_step(walker: Walker, values: list[object], node: Wildcard) -> list[object]:
    """``.*``: the children of each value (see ``child_values``)."""
    out: list[object] = []
    for value in values:
        children = child_values(value)
        walker.spend(len(children))
        out.extend(children)
    return out


def recursive_step(walker: Walker, values: list[object], node: Recursive) -> list[object]:
    """Pre-order: every value that has children, then its descendants."""
    out: list[object] = []
    stack = values[::-1]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if value:  # a non-empty string has byte children, which have none
                out.append(value)
            continue
        children = child_values(value)
        if children:
            walker.spend(len(children))
            out.append(value)
            stack.extend(reversed(children))
    return out
