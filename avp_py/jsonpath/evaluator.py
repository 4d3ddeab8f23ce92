"""Evaluation and printing of parsed client-go JSONPath templates (client-go v0.29).

Values are the Go values of ``json.Unmarshal`` into ``interface{}``, written in Python:
``dict`` (map[string]interface {}), ``list`` ([]interface {}), ``str``, ``float`` (float64),
``int`` (Go int: template integer literals), ``bool`` and ``None`` (a nil interface). Two more
exist only here: :data:`NO_VALUE`, Go's invalid ``reflect.Value`` (what a nil root becomes), and
:class:`GoUint8`, a byte of a string (``.*`` and ``..`` iterate strings byte by byte in Go).

The evaluator mirrors client-go's ``FindResults``: the same range/end counters, the same
"partial results on error" that an ``exists`` filter sees, the same messages. Where client-go
would panic (a nil root used as an array) a :class:`JsonPathError` carries Go's panic text.
Go visits map entries in random order; here they are visited in sorted key order.

Nothing recurses on the data (``..`` and JSON encoding use explicit stacks), ranges may nest
at most :data:`MAX_RANGE_DEPTH` deep, and one evaluation may spend at most
:data:`STEP_BUDGET` steps (values produced plus characters printed), so hostile templates or
values end in a :class:`JsonPathError` instead of a RecursionError or a hang.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from avp_py.jsonpath.parser import (
    Action,
    Array,
    BoolLit,
    Field,
    Filter,
    FloatLit,
    Identifier,
    IntLit,
    JsonPathError,
    Recursive,
    SliceParam,
    Text,
    TopNode,
    UnionOf,
    Wildcard,
)

__all__ = [
    "MAX_RANGE_DEPTH",
    "NO_VALUE",
    "STEP_BUDGET",
    "Evaluator",
    "GoUint8",
    "go_format_float",
    "go_json",
    "go_print",
]

STEP_BUDGET = 1_000_000
MAX_RANGE_DEPTH = 100
_PANIC_TYPE = "reflect: call of reflect.Value.Type on zero Value"
_PANIC_INTERFACE = "reflect: call of reflect.Value.Interface on zero Value"
_MAP_TYPE = "map[string]interface {}"


class _NoValue:
    """Go's invalid (zero) ``reflect.Value``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()


class GoUint8(int):
    """One byte of a string, as client-go's ``.*`` and ``..`` produce them."""

    __slots__ = ()


class _Fail(Exception):
    """A client-go ``error`` return, with the value slice Go returns alongside it."""

    def __init__(self, message: str, partial: list[object]) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial


class _CompareError(Exception):
    """An error of client-go's forked text/template comparison functions."""


_GO_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (dict, _MAP_TYPE),
    (list, "[]interface {}"),
    (str, "string"),
    (bool, "bool"),
    (GoUint8, "uint8"),
    (int, "int"),
    (float, "float64"),
)


def go_type(value: object) -> str:
    """The Go type name of a value (data never appears in error messages, types do)."""
    for cls, name in _GO_TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


def _filter_subject(value: object) -> str:
    """What stands for the value in "... cannot be filtered" (Go prints the value itself)."""
    if value is None:
        return "<nil>"
    if value is NO_VALUE:
        return "<invalid reflect.Value>"
    return go_type(value)


# ----------------------------------------------------------------------------- printing


def _float_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and decimal point: ``value == 0.DIGITS * 10**point``."""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    return significant.rstrip("0"), point


def _format_e(digits: str, point: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exponent = point - 1
    return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _format_f(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _special_float(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    return None


def go_format_float(value: float) -> str:
    """Go's ``%v`` for a float64 (strconv 'g', shortest): 2, 0.5, 1e+06, 1e-05."""
    special = _special_float(value)
    if special is not None:
        return special
    digits, point = _float_digits(value)
    sign = "-" if value < 0 else ""
    if point - 1 < -4 or point - 1 >= 6:
        return sign + _format_e(digits, point)
    return sign + _format_f(digits, point)


def _go_json_float(value: float) -> str:
    """encoding/json's float64 encoding: plain decimals, exponents below 1e-6 or from 1e21."""
    if math.isnan(value) or math.isinf(value):
        raise JsonPathError(f"json: unsupported value: {go_format_float(value)}")
    special = _special_float(value)
    if special is not None:
        return special
    digits, point = _float_digits(value)
    sign = "-" if value < 0 else ""
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = _format_e(digits, point)
        if text[-4:-2] == "e-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return sign + text
    return sign + _format_f(digits, point)


def _json_escapes() -> Mapping[int, str]:
    table: dict[int, str] = {code: f"\\u{code:04x}" for code in range(0x20)}
    table.update({ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"})
    table.update(dict.fromkeys(range(0xD800, 0xE000), "\\ufffd"))
    table.update({ord(c): "\\" + e for c, e in zip('"\\\n\r\t\b\f', '"\\nrtbf', strict=True)})
    return MappingProxyType(table)


_JSON_ESCAPES = _json_escapes()


def _json_string(text: str) -> str:
    """encoding/json string (Go 1.22): HTML-safe, ``\\b``/``\\f`` short escapes."""
    return '"' + text.translate(_JSON_ESCAPES) + '"'


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
        return _go_json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    raise JsonPathError(f"json: unsupported type: {go_type(value)}")


class _Raw(str):
    """Already-encoded JSON text on the encoder's stack."""

    __slots__ = ()


class _Leave:
    """Marks the end of a container on the encoder's stack (for cycle detection)."""

    __slots__ = ("ident",)

    def __init__(self, ident: int) -> None:
        self.ident = ident


def _sorted_keys(mapping: Mapping[Any, object]) -> list[Any]:
    return sorted(mapping, key=lambda key: key if isinstance(key, str) else str(key))


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
    keys = _sorted_keys(item)
    stack.append(_Raw("}"))
    for position in range(len(keys) - 1, -1, -1):
        stack.append(item[keys[position]])
        stack.append(_Raw(("," if position else "") + _json_string(keys[position]) + ":"))
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
    """Go's ``fmt.Fprint`` of a non-container result (client-go's evalToText)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        return go_format_float(value)
    if value is None:
        return "<nil>"
    if value is NO_VALUE:
        return "<no value>"
    return str(value)


# -------------------------------------------------------------------------- comparisons

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


# ---------------------------------------------------------------------------- evaluation


def _children(value: object) -> list[object]:
    """What ``.*`` yields: map values, list elements, string bytes; nothing for scalars."""
    if isinstance(value, dict):
        return [value[key] for key in _sorted_keys(value)]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return [GoUint8(byte) for byte in value.encode("utf-8", "surrogatepass")]
    return []


def _interface(value: object) -> object:
    """``reflect.Value.Interface()`` then ``reflect.ValueOf``: a nil becomes NO_VALUE."""
    if value is NO_VALUE:
        raise JsonPathError(_PANIC_INTERFACE)
    return NO_VALUE if value is None else value


def _resolve_bounds(params: tuple[SliceParam, ...], length: int) -> tuple[int, int]:
    start = params[0].value if params[0].known else 0
    if start < 0:
        start += length
    stop = params[1].value if params[1].known else length
    if stop < 0 or (stop == 0 and params[1].derived):
        stop += length
    return start, stop


def _check_bounds(start: int, stop: int, length: int, step: SliceParam) -> int:
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


class Evaluator:
    """One execution of a parsed template (client-go's JSONPath with AllowMissingKeys(false))."""

    def __init__(self, root: list[TopNode]) -> None:
        self._root = root
        self._begin_range = 0
        self._in_range = 0
        self._end_range = 0
        self._last_end = -1
        self._budget = STEP_BUDGET
        self._handlers: dict[type, Callable[[list[object], Any], list[object]]] = {
            Text: self._eval_text,
            Action: self._eval_action,
            Field: self._eval_field,
            Array: self._eval_array,
            Filter: self._eval_filter,
            IntLit: self._eval_literal,
            FloatLit: self._eval_literal,
            BoolLit: self._eval_literal,
            Wildcard: self._eval_wildcard,
            Recursive: self._eval_recursive,
            UnionOf: self._eval_union,
            Identifier: self._eval_identifier,
        }

    def execute(self, data: object) -> str:
        """client-go's Execute: find every result, then print them."""
        try:
            found = self._find_results(NO_VALUE if data is None else data, 0)
        except _Fail as failure:
            raise JsonPathError(failure.message) from None
        out: list[str] = []
        for results in found:
            for position, value in enumerate(results):
                if position:
                    out.append(" ")
                if isinstance(value, (dict, list)):
                    text = go_json(value, self._spend)
                else:
                    text = go_print(value)
                self._spend(len(text))
                out.append(text)
        return "".join(out)

    def _spend(self, steps: int) -> None:
        self._budget -= steps
        if self._budget < 0:
            raise JsonPathError(f"jsonpath evaluation too large (over {STEP_BUDGET} steps)")

    def _find_results(self, data: object, start: int) -> list[list[object]]:
        current = [data]
        full: list[list[object]] = []
        index = start
        while index < len(self._root):
            results = self._walk(current, self._root[index])
            if 0 < self._end_range <= self._in_range:
                self._end_range -= 1
                self._last_end = index
                break
            if self._begin_range > 0:
                index = self._run_range(results, index, full)
            else:
                full.append(results)
            index += 1
        return full

    def _run_range(self, results: list[object], index: int, full: list[list[object]]) -> int:
        """Run the nodes after a ``range`` once per result; return the index of its ``end``."""
        self._begin_range -= 1
        self._in_range += 1
        if self._in_range > MAX_RANGE_DEPTH:
            raise JsonPathError(f"range nesting deeper than {MAX_RANGE_DEPTH}")
        if results:
            for value in results:
                full.extend(self._find_results(_interface(value), index + 1))
        else:
            self._find_results(NO_VALUE, index + 1)
        self._in_range -= 1
        if index < self._last_end < len(self._root):
            return self._last_end
        return index

    def _walk(self, values: list[object], node: object) -> list[object]:
        result = self._handlers[type(node)](values, node)
        self._spend(len(result) + 1)
        return result

    def _eval_text(self, values: list[object], node: Text) -> list[object]:
        return [node.text]

    def _eval_action(self, values: list[object], node: Action) -> list[object]:
        for child in node.nodes:
            values = self._walk(values, child)
        return values

    def _eval_literal(
        self, values: list[object], node: IntLit | FloatLit | BoolLit
    ) -> list[object]:
        return [node.value] * len(values)

    def _eval_identifier(self, values: list[object], node: Identifier) -> list[object]:
        if node.name == "range":
            self._begin_range += 1
            return values
        if node.name != "end":
            raise _Fail(f"unrecognized identifier {node.name}", values)
        if self._in_range <= 0:
            raise _Fail("not in range, nothing to end", [])
        self._end_range += 1
        return []

    def _eval_field(self, values: list[object], node: Field) -> list[object]:
        if not values:
            return []
        name = node.name
        found = [value[name] for value in values if isinstance(value, dict) and name in value]
        if not found:
            raise _Fail(f"{name} is not found", [])
        return found

    def _eval_array(self, values: list[object], node: Array) -> list[object]:
        out: list[object] = []
        for value in values:
            if value is None:
                continue
            if value is NO_VALUE:
                raise JsonPathError(_PANIC_TYPE)
            if not isinstance(value, list):
                raise _Fail(f"{go_type(value)} is not array or slice", values)
            start, stop = _resolve_bounds(node.params, len(value))
            if start == stop:
                return out  # client-go stops at the first empty selection
            try:
                step = _check_bounds(start, stop, len(value), node.params[2])
            except JsonPathError as error:
                raise _Fail(error.message, values) from None
            self._spend((stop - start) // step)
            out.extend(value[start:stop:step])
        return out

    def _eval_union(self, values: list[object], node: UnionOf) -> list[object]:
        out: list[object] = []
        for branch in node.branches:
            try:
                out.extend(self._eval_action(values, branch))
            except _Fail as failure:
                raise _Fail(failure.message, values) from None
        return out

    def _eval_wildcard(self, values: list[object], node: Wildcard) -> list[object]:
        out: list[object] = []
        for value in values:
            children = _children(value)
            self._spend(len(children))
            out.extend(children)
        return out

    def _eval_recursive(self, values: list[object], node: Recursive) -> list[object]:
        """Pre-order: every value that has children, then its descendants."""
        out: list[object] = []
        stack = values[::-1]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                if value:  # a non-empty string has byte children, which have none
                    out.append(value)
                continue
            children = _children(value)
            if children:
                self._spend(len(children))
                out.append(value)
                stack.extend(reversed(children))
        return out

    def _eval_filter(self, values: list[object], node: Filter) -> list[object]:
        out: list[object] = []
        for value in values:
            if not isinstance(value, list):
                subject = _filter_subject(value)
                raise _Fail(f"{subject} is not array or slice and cannot be filtered", values)
            self._spend(len(value))
            for item in value:
                if self._filter_keeps(item, node, values, out):
                    out.append(item)
        return out

    def _filter_keeps(
        self, item: object, node: Filter, values: list[object], out: list[object]
    ) -> bool:
        if node.op == "exists":
            try:
                return bool(self._eval_action([item], node.left))
            except _Fail as failure:  # client-go ignores the error, keeps what came back
                return bool(failure.partial)
        left = self._operand(item, node.left, values)
        right = self._operand(item, node.right, values) if left else []
        if not right:
            return False
        compare = _OPERATORS.get(node.op)
        if compare is None:
            raise _Fail(f"unrecognized filter operator {node.op}", out)
        try:
            return compare(left[0], right[0])
        except _CompareError as error:
            raise _Fail(str(error), out) from None

    def _operand(self, item: object, expression: Action, values: list[object]) -> list[object]:
        try:
            found = self._eval_action([item], expression)
        except _Fail as failure:
            raise _Fail(failure.message, values) from None
        if len(found) > 1:
            raise _Fail("can only compare one element at a time", values)
        return found
