"""The Go values a template walks over, as ``json.Unmarshal`` into ``interface{}`` makes them.

Written in Python: ``dict`` (map[string]interface {}), ``list`` ([]interface {}), ``str``,
``float`` (float64), ``int`` (Go int: template integer literals), ``bool`` and ``None`` (a nil
interface). Two more exist only here: :data:`NO_VALUE`, Go's invalid ``reflect.Value`` (what a
nil root becomes), and :class:`GoUint8`, a byte of a string (``.*`` and ``..`` iterate strings
byte by byte in Go). Go visits map entries in random order; here they are visited in sorted key
order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avp_py import gocompat


class _NoValue:
    """Go's invalid (zero) ``reflect.Value``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()


class GoUint8(int):
    """One byte of a string, as client-go's ``.*`` and ``..`` produce them."""

    __slots__ = ()


def go_type(value: object) -> str:
    """The Go type name of a value (data never appears in error messages, types do)."""
    return "uint8" if isinstance(value, GoUint8) else gocompat.type_name(value)


def sorted_keys(mapping: Mapping[Any, object]) -> list[Any]:
    """The keys in the order they are visited and encoded (Go's would be random)."""
    return sorted(mapping, key=lambda key: key if isinstance(key, str) else str(key))


def child_values(value: object) -> list[object]:
    """What ``.*`` yields: map values, list elements, string bytes; nothing for scalars."""
    if isinstance(value, dict):
        return [value[key] for key in sorted_keys(value)]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return [GoUint8(byte) for byte in value.encode("utf-8", "surrogatepass")]
    return []
