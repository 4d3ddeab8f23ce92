"""Go's number, boolean and JSON text rules: the one copy avp-py keeps of them.

AVP is a Go program, so what it accepts and prints is what Go's ``strconv`` and
``encoding/json`` accept and print. Every module that must agree with AVP byte for byte
(``yamlcodec``, ``jsonpath``, ``modifiers``, ``substitute``, ``directives``) uses these
functions; none keeps its own copy.

Sources: Go ``strconv`` (``ParseBool``, ``ParseInt``/``ParseUint`` with ``underscoreOK``,
``ParseFloat``, ``FormatFloat``), ``encoding/json`` (``floatEncoder``, ``encodeState.string``),
gopkg.in/yaml.v2 v2.4.0 ``resolve.go`` (how a number AVP marshals is typed again).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
# json.Unmarshal's "cannot unmarshal number 1e400 into Go value of type float64", without the
# number: the text it decodes may be a secret value.
JSON_NUMBER_OUT_OF_RANGE = (
    "json: cannot unmarshal number into Go value of type float64 (out of range)"
)

# -- strconv.ParseBool ---------------------------------------------------------------------------

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str) -> bool | None:
    """``strconv.ParseBool``: True, False, or None where Go returns an error."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# -- strconv.ParseInt / ParseUint ----------------------------------------------------------------

# Base 0: the base comes from the prefix (0b, 0o, 0x, a leading 0 is octal), as in Go literals.
_BASE0 = re.compile(r"(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_PREFIX_BASE = MappingProxyType({"b": 2, "o": 8, "x": 16})
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_int(text: str, base: int = 10) -> int | None:
    """``strconv.ParseInt(text, base, 64)``; None where Go returns a syntax or range error."""
    value = parse_integer(text, base)
    return value if value is not None and value <= INT64_MAX else None


def parse_integer(text: str, base: int = 10) -> int | None:
    """``ParseInt(text, base, 64)``, else ``ParseUint(text, base, 64)``: any Go 64-bit integer
    (what go-yaml v2 tries on a plain scalar); a value above int64 has no sign."""
    sign = text[:1] if text[:1] in ("+", "-") else ""
    magnitude = parse_uint(text[1:] if sign else text, base)
    if magnitude is None:
        return None
    if not sign:
        return magnitude
    value = -magnitude if sign == "-" else magnitude
    return value if INT64_MIN <= value <= INT64_MAX else None


def parse_uint(text: str, base: int = 10) -> int | None:
    """``strconv.ParseUint(text, base, 64)`` (no sign); base 0 reads Go's prefixes and ``_``."""
    if base == 0:
        return _parse_base0(text)
    if base == 10:
        valid = text.isascii() and text.isdigit()  # the hot path: manifests are full of numbers
    else:
        valid = bool(text) and all(_DIGITS.find(char.lower()) in range(base) for char in text)
    if not valid:
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > 64:  # beyond uint64 in any base (and beyond int()'s digit limit)
        return None
    value = int(significant, base)
    return value if value <= UINT64_MAX else None


def _parse_base0(text: str) -> int | None:
    if "_" in text:
        if not underscores_ok(text):
            return None
        text = text.replace("_", "")
    if _BASE0.fullmatch(text) is None:
        return None
    if len(text) > 2 and text[1] in "bBoOxX":
        digits, base = text[2:], _PREFIX_BASE[text[1].lower()]
    else:
        digits, base = text, 8 if text[0] == "0" else 10
    if len(digits) > 64:  # beyond uint64 (leading zeros aside) and beyond int()'s digit limit
        digits = digits.lstrip("0")
        if len(digits) > 64:
            return None
    value = int(digits or "0", base)
    return value if value <= UINT64_MAX else None


def underscores_ok(text: str) -> bool:
    """strconv's ``underscoreOK``: ``_`` only between digits, or between a base prefix and a
    digit (what ``ParseInt``/``ParseUint`` with base 0 and ``ParseFloat`` accept)."""
    body = text[1:] if text[:1] in ("+", "-") else text
    saw = "^"  # ^ start, 0 digit (or base prefix), _ underscore, ! anything else
    digits = "0123456789"
    if len(body) >= 2 and body[0] == "0" and body[1].lower() in "box":
        digits += "abcdefABCDEF" if body[1].lower() == "x" else ""
        body, saw = body[2:], "0"
    for char in body:
        if char in digits:
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


# -- strconv.ParseFloat (decimal syntax) ----------------------------------------------------------

# Go also reads hex floats, "inf" and "nan"; no caller's grammar lets those through.
_DECIMAL_FLOAT = re.compile(
    r"[+-]?(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
)


def parse_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` for decimal text; None on a syntax or range error."""
    if _DECIMAL_FLOAT.fullmatch(text) is None:
        return None
    value = float(text.replace("_", ""))
    return None if math.isinf(value) else value  # ErrRange; underflow to 0 is no error in Go


# -- strconv.FormatFloat(f, 'g', -1, bits) -----------------------------------------------------


def format_float(value: float, bits: int = 64) -> str:
    """``strconv.FormatFloat(value, 'g', -1, bits)``: '1e+06', '1.2345675e+06', '0.5', 'NaN'."""
    if math.isnan(value):
        return "NaN"
    if bits == 32:
        value = _to_float32(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative = math.copysign(1.0, value) < 0
    text = repr(abs(value)) if bits == 64 else _shortest_text32(abs(value))
    digits, point = _shortest_digits(text)
    if not digits:
        return "-0" if negative else "0"
    exponent = point - 1
    body = _format_e(digits, point) if exponent < -4 or exponent >= 6 else _format_f(digits, point)
    return ("-" if negative else "") + body


def _to_float32(value: float) -> float:
    try:
        single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return single


def _shortest_text32(single: float) -> str:
    """The fewest decimal digits that read back as the same float32."""
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
    """Significant digits and decimal point of a non-negative number: ``0.DIGITS × 10**point``."""
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(raw) - len(digits))
    return digits.rstrip("0"), point


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


# -- encoding/json ------------------------------------------------------------------------------


def json_float(value: float) -> str:
    """``json.Marshal`` of a float64: plain decimals, exponents below 1e-6 and from 1e21 ('1e-7',
    '1e+21'); ValueError with Go's message for NaN and infinities."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {format_float(value)}")
    digits, point = _shortest_digits(repr(abs(value)))
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if not digits:
        return sign + "0"
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = _format_e(digits, point)
        if text[-4:-2] == "e-" and text[-2] == "0":  # Go: "clean up e-09 to e-9"
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


def json_string(text: str) -> str:
    """``json.Marshal`` of a string (Go 1.22): HTML-safe, ``\\b``/``\\f`` short escapes."""
    return '"' + text.translate(_JSON_ESCAPES) + '"'


def _marshalled_integer(value: float) -> int | None:
    """The integer ``json.Marshal`` writes for a float64, or None if it writes '.' or 'e'."""
    if not value.is_integer() or abs(value) >= 1e21:  # also False for NaN and infinities
        return None
    if -(2.0**53) < value < 2.0**53:
        return int(value)
    return int(Decimal(repr(value)))  # the shortest digits, zero-padded: 4611686018427388000


def json_number(value: float) -> int | float:
    """A float64 after ``json.Marshal`` and apimachinery's JSON decoding (how AVP reads
    manifests): an integer literal that fits int64 becomes an int, anything else stays a float.

    So 4.611686018427388e18 becomes 4611686018427388000, not the float's exact value.
    """
    number = _marshalled_integer(value)
    return number if number is not None and INT64_MIN <= number <= INT64_MAX else value


def yaml_number(value: float) -> int | float:
    """A float64 after ``json.Marshal`` and go-yaml v2 (how AVP writes manifests): an integer
    literal that fits int64 or uint64 is an int, anything else a float (printed with
    :func:`format_float`)."""
    number = _marshalled_integer(value)
    return number if number is not None and INT64_MIN <= number <= UINT64_MAX else value


# -- Go type names ------------------------------------------------------------------------------

_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (dict, "map[string]interface {}"),
    (list, "[]interface {}"),
    (str, "string"),
    (bool, "bool"),
    (int, "int"),
    (float, "float64"),
)


def type_name(value: object) -> str:
    """The Go type of a decoded JSON/YAML value, as ``%T`` names it in AVP's and client-go's
    messages (values never appear in messages, types do)."""
    if value is None:
        return "<nil>"
    for cls, name in _TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


# -- text that is not valid UTF-8 ----------------------------------------------------------------
# Go strings are bytes. Where one that is not valid UTF-8 reaches JSON (go-yaml v2's !!binary,
# base64decode's output in a manifest), or a JSON text holds a lone UTF-16 surrogate escape
# ("\ud800x"), encoding/json writes U+FFFD: one per byte that does not start a valid sequence
# (utf8.DecodeRune returns size 1), one per lone surrogate. Python's errors="replace" differs:
# it replaces a truncated sequence (e2 9c) by ONE U+FFFD. avp-py keeps undecodable bytes as
# surrogateescape code points (one per byte), so replacing every surrogate gives Go's result.

_SURROGATE = re.compile("[\ud800-\udfff]")
_Json = TypeVar("_Json")


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a surrogate code point (a lone escape or an undecodable byte)."""
    return _SURROGATE.search(text) is not None


def json_text(text: str) -> str:
    """``text`` as Go's JSON encoding writes it: every surrogate code point becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def decode_utf8(data: bytes) -> str:
    """Bytes as a Go string reaches JSON: valid UTF-8 as is, U+FFFD for every bad byte."""
    return json_text(data.decode("utf-8", "surrogateescape"))


def json_strings(value: _Json) -> _Json:
    """``value`` (decoded JSON) with :func:`json_text` applied to every string and key.

    Iterative; mappings and lists are changed in place (callers pass values just decoded).
    """
    stack: list[object] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                node[json_text(key)] = json_text(item) if isinstance(item, str) else item
            stack.extend(item for item in node.values() if isinstance(item, (dict, list)))
        elif isinstance(node, list):
            node[:] = [json_text(item) if isinstance(item, str) else item for item in node]
            stack.extend(item for item in node if isinstance(item, (dict, list)))
    if isinstance(value, str):
        return json_text(value)  # type: ignore[return-value]  # a str is its own _Json
    return value
