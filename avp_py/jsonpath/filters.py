"""Filters ``[?(...)]``: the ``exists`` test and Go's template comparison rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from avp_py.jsonpath.nodes import Action, Filter
from avp_py.jsonpath.steps import Fail, Walker
from avp_py.jsonpath.values import NO_VALUE, GoUint8, go_type


class _CompareError(Exception):
    """An error of client-go's forked text/template comparison functions."""


def _filter_subject(value: object) -> str:
    """What stands for the value in "... cannot be filtered" (Go prints the value itself)."""
    if value is None:
        return "<nil>"
    if value is NO_VALUE:
        return "<invalid reflect.Value>"
    return go_type(value)


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (GoUint8, "uint"),
    (int, "int"),
    (float, "float"),
    (str, "string"),
)


def _kind(value: object) -> str:
    for cls, kind in _KINDS:
        if isinstance(value, cls):
            return kind
    raise _CompareError("invalid type for comparison")


def _same_kind(left: object, right: object) -> str:
    """The common kind; Go compares signed with unsigned integers, nothing else mixed."""
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind == right_kind:
        return left_kind
    if {left_kind, right_kind} == {"int", "uint"}:
        return "int"
    raise _CompareError("incompatible types for comparison")


def _go_equal(left: object, right: object) -> bool:
    _same_kind(left, right)
    return left == right


def _go_less(left: object, right: object) -> bool:
    if _same_kind(left, right) == "bool":
        raise _CompareError("invalid type for comparison")
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left < right
    return False  # pragma: no cover - _same_kind admits nothing else


def _go_less_equal(left: object, right: object) -> bool:
    return _go_less(left, right) or _go_equal(left, right)


_OPERATORS: Mapping[str, Callable[[object, object], bool]] = MappingProxyType(
    {
        "==": _go_equal,
        "!=": lambda left, right: not _go_equal(left, right),
        "<": _go_less,
        ">": lambda left, right: not _go_less_equal(left, right),
        "<=": _go_less_equal,
        ">=": lambda left, right: not _go_less(left, right),
    }
)


def filter_step(walker: Walker, values: list[object], node: Filter) -> list[object]:
    """``[?(...)]``: the items of each list that the filter keeps."""
    out: list[object] = []
    for value in values:
        if not isinstance(value, list):
            subject = _filter_subject(value)
            raise Fail(f"{subject} is not array or slice and cannot be filtered", values)
        walker.spend(len(value))
        for item in value:
            if _keeps(walker, item, node, values, out):
                out.append(item)
    return out


def _keeps(
    walker: Walker, item: object, node: Filter, values: list[object], out: list[object]
) -> bool:
    """Whether ``item`` passes the filter; ``values`` and ``out`` are Go's partial results."""
    if node.op == "exists":
        try:
            return bool(walker.eval_action([item], node.left))
        except Fail as failure:  # client-go ignores the error, keeps what came back
            return bool(failure.partial)
    left = _operand(walker, item, node.left, values)
    right = _operand(walker, item, node.right, values) if left else []
    if not right:
        return False
    compare = _OPERATORS.get(node.op)
    if compare is None:
        raise Fail(f"unrecognized filter operator {node.op}", out)
    try:
        return compare(left[0], right[0])
    except _CompareError as error:
        raise Fail(str(error), out) from None


def _operand(
    walker: Walker, item: object, expression: Action, values: list[object]
) -> list[object]:
    """One side of a comparison, evaluated on ``item``: at most one value."""
    try:
        found = walker.eval_action([item], expression)
    except Fail as failure:
        raise Fail(failure.message, values) from None
    if len(found) > 1:
        raise Fail("can only compare one element at a time", values)
    return found
