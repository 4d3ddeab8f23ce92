"""Printing results as client-go does: Go's ``%v`` for scalars, ``encoding/json`` for the rest.

JSON encoding walks an explicit stack instead of recursing, so deep or cyclic values end in a
:class:`JsonPathError` rather than a RecursionError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from avp_py.jsonpath.nodes import JsonPathError
from avp_py.jsonpath.values import NO_VALUE, go_type, sorted_keys


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
