"""Scalar rules of the Go stack AVP runs on: go-yaml v2 typing, the JSON number step, Go floats.

Sources: gopkg.in/yaml.v2 v2.4.0 ``resolve.go`` (plain-scalar typing, on top of Go's
``strconv`` rules in :mod:`avp_py.gocompat`) and ``time.Parse`` for the layouts of
``parseTimestamp``.
"""

from __future__ import annotations

import math
import re
from types import MappingProxyType
from typing import Literal

from avp_py import gocompat

Kind = Literal["str", "null", "bool", "int", "uint", "float"]
Scalar = str | int | float | bool | None


def _table() -> MappingProxyType[str, tuple[Kind, Scalar]]:
    entries: list[tuple[Kind, Scalar, str]] = [
        ("bool", True, "y Y yes Yes YES true True TRUE on On ON"),
        ("bool", False, "n N no No NO false False FALSE off Off OFF"),
        ("null", None, "~ null Null NULL"),
        ("float", math.nan, ".nan .NaN .NAN"),
        ("float", math.inf, ".inf .Inf .INF +.inf +.Inf +.INF"),
        ("float", -math.inf, "-.inf -.Inf -.INF"),
    ]
    return MappingProxyType(
        {word: (kind, value) for kind, value, words in entries for word in words.split()}
    )


_RESOLVE_MAP = _table()
# resolve.go's resolveTable: a plain scalar whose first byte is not here is a string.
HINTS = frozenset("+-0123456789yYnNtTfFoO~.")
_SIGN_OR_DIGIT = frozenset("+-0123456789")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:"
    r"[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(?:Z|[+-]([0-9]{2}):([0-9]{2}))"
    r"| +([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?)?"
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def resolve_plain(text: str) -> tuple[Kind, Scalar]:
    """Type a plain scalar exactly as go-yaml v2 ``resolve("", text)`` does.

    Timestamps come back as strings: go-yaml v2 hands them to ``interface{}`` as the text.
    """
    if not text:
        return "null", None
    hint = text[0]
    if hint not in HINTS:
        return "str", text
    known = _RESOLVE_MAP.get(text)
    if known is not None:
        return known
    if hint == ".":
        value = gocompat.parse_float(text)
        return ("float", value) if value is not None else ("str", text)
    if hint in _SIGN_OR_DIGIT:
        return _resolve_number(text)
    return "str", text


def _resolve_number(text: str) -> tuple[Kind, Scalar]:
    plain = text.replace("_", "")
    typed = _integer(plain, 0)
    if typed is not None:
        return typed
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        number = gocompat.parse_float(plain)
        if number is not None:
            return "float", number
    if plain.startswith("0b"):
        # resolve.go retries "0b..." with ParseInt(plain[2:], 2, 64), which accepts a sign there.
        typed = _integer(plain[2:], 2)
        if typed is not None:
            return typed
    return "str", text


def _integer(plain: str, base: int) -> tuple[Kind, Scalar] | None:
    """resolve.go: ``ParseInt(plain, base, 64)``, else ``ParseUint(plain, base, 64)``."""
    value = gocompat.parse_integer(plain, base)
    if value is None:
        return None
    return ("int", value) if value <= gocompat.INT64_MAX else ("uint", value)


def is_go_timestamp(text: str) -> bool:
    """True if one of go-yaml v2's ``allowedTimestampFormats`` parses ``text``."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day = (int(part) for part in match.group(1, 2, 3))
    if not 1 <= month <= 12 or not 1 <= day <= _days_in(month, year):
        return False
    clock = match.group(4, 5, 6) if match.group(4) else match.group(9, 10, 11)
    if clock[0] is not None:
        hour, minute, second = (int(part) for part in clock)
        if hour >= 24 or minute >= 60 or second >= 60:
            return False
    if match.group(7) is not None:
        return int(match.group(7)) <= 24 and int(match.group(8)) <= 60
    return True


def _days_in(month: int, year: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 29 if month == 2 and leap else _DAYS[month - 1]
