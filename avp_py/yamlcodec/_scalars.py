"""Scalar rules of the Go stack AVP runs on: go-yaml v2 typing, the JSON number step, Go floats.

Sources: gopkg.in/yaml.v2 v2.4.0 ``resolve.go`` (plain-scalar typing), Go ``strconv``
(``ParseInt(s, 0, 64)``, ``ParseFloat``, ``FormatFloat``), ``time.Parse`` for the layouts of
``parseTimestamp``, and sigs.k8s.io/yaml 1.3.0 ``convertToJSONableObject`` (map keys).
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

Kind = Literal["str", "null", "bool", "int", "uint", "float"]
Scalar = str | int | float | bool | None

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


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
# strconv.ParseInt(s, 0, 64) syntax once '_' is removed: 0b/0o/0x prefixes, leading-0 octal.
_GO_INT = re.compile(r"([+-]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# strconv.ParseFloat on text starting with '.': '_' only between digits (underscoreOK).
_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?")
_BINARY_QUIRK = re.compile(r"0b([+-]?)([01]+)")
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
        if _DOT_FLOAT.fullmatch(text):
            value = float(text.replace("_", ""))
            if not math.isinf(value):  # ParseFloat's range error: the text stays a string
                return "float", value
        return "str", text
    if hint in _SIGN_OR_DIGIT:
        return _resolve_number(text)
    return "str", text


def _resolve_number(text: str) -> tuple[Kind, Scalar]:
    plain = text.replace("_", "")
    match = _GO_INT.fullmatch(plain)
    if match is not None:
        sign, body = match.groups()
        value = _go_uint(body)
        signed = -value if sign == "-" else value
        if INT64_MIN <= signed <= INT64_MAX:
            return "int", signed
        if not sign and value <= UINT64_MAX:
            return "uint", value
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        number = float(plain)
        if not math.isinf(number):
            return "float", number
    # resolve.go retries "0b..." with ParseInt(plain[2:], 2, 64), which accepts a sign there.
    quirk = _BINARY_QUIRK.fullmatch(plain)
    if quirk is not None:
        value = int(quirk.group(2), 2)
        signed = -value if quirk.group(1) == "-" else value
        if INT64_MIN <= signed <= INT64_MAX:
            return "int", signed
        if not quirk.group(1) and value <= UINT64_MAX:
            return "uint", value
    return "str", text


def _go_uint(body: str) -> int:
    if len(body) > 2 and body[0] == "0" and body[1] in "bBoOxX":
        return int(body[2:], {"b": 2, "o": 8, "x": 16}[body[1].lower()])
    if body[0] == "0":
        return int(body, 8)
    # More than 20 decimal digits overflow uint64 anyway (and would hit int's digit limit).
    return int(body) if len(body) <= 20 else UINT64_MAX + 1


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


def json_number(value: float) -> int | float:
    """sigs.k8s.io/yaml's JSON step for a finite float: integral values come back as int64.

    Go marshals the float with its shortest digits (``'f'`` format below 1e21) and the decoder
    keeps an integer literal as int64 when it fits; so 4.611686018427388e18 becomes
    4611686018427388000, not the float's exact value.
    """
    if not value.is_integer():
        return value
    if -(2.0**53) < value < 2.0**53:
        return int(value)
    exact = int(Decimal(repr(value)))
    return exact if INT64_MIN <= exact <= INT64_MAX else value


def format_go_float(value: float) -> str:
    """Go ``strconv.FormatFloat(value, 'g', -1, 64)``: '1e+06', '1.2345675e+06', '0.5'."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    digits, point = _shortest_digits(repr(abs(value)))
    return _format_g(math.copysign(1.0, value) < 0, digits, point)


def format_go_float32(value: float) -> str:
    """Go ``strconv.FormatFloat(value, 'g', -1, 32)``, as sigs.k8s.io/yaml spells float keys."""
    if math.isnan(value):
        return ".nan"
    try:
        single = _to_float32(value)
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1.0, single) < 0 else "0"
    digits, point = _shortest_digits(_shortest_text32(abs(single)))
    return _format_g(single < 0, digits, point)


def _to_float32(value: float) -> float:
    single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return single


def _shortest_text32(single: float) -> str:
    exact = Decimal(single)
    for precision in range(1, 10):
        nearest = Decimal(f"{single:.{precision - 1}e}")
        if _to_float32(float(nearest)) == single:
            return str(nearest)
        step = Decimal(f"1e{nearest.adjusted() - precision + 1}")
        other = nearest + step if nearest < exact else nearest - step
        if _to_float32(float(other)) == single:
            return str(other)
    return repr(single)  # not reached: 9 digits always identify a float32


def _shortest_digits(text: str) -> tuple[str, int]:
    """Digits without leading/trailing zeros, and the decimal point position (0.DIGITS x 10^p)."""
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(raw) - len(digits))
    return digits.rstrip("0"), point


def _format_g(negative: bool, digits: str, point: int) -> str:
    sign = "-" if negative else ""
    if not digits:
        return sign + "0"
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if len(digits) <= point:
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"
