"""client-go's lexical rules, without regular expressions: characters, numbers, slices, filters."""

from __future__ import annotations

import unicodedata

from avp_py.gocompat import INT64_MIN, parse_int
from avp_py.jsonpath.nodes import JsonPathError, SliceParam

_ASCII_DIGITS = frozenset("0123456789")
_FILTER_OPERATOR_CHARS = frozenset("!<>=")


def is_digit(char: str) -> bool:
    """Go's unicode.IsDigit (category Nd)."""
    return char in _ASCII_DIGITS or (char > "\x7f" and unicodedata.category(char) == "Nd")


def is_alphanumeric(char: str) -> bool:
    """client-go's isAlphaNumeric: underscore, unicode.IsLetter or unicode.IsDigit."""
    if char.isascii():
        return char == "_" or char.isalnum()
    category = unicodedata.category(char)
    return category.startswith("L") or category == "Nd"


def go_rune(char: str) -> str:
    """Go's ``%#U`` verb: ``U+0021 '!'`` (the quoted form only for printable runes)."""
    code = f"U+{ord(char):04X}"
    return f"{code} '{char}'" if char.isprintable() else code


def _wrap_int64(value: int) -> int:
    # Go's int arithmetic wraps around (client-go computes end = start + 1).
    return (value - INT64_MIN) % (1 << 64) + INT64_MIN


def _match_slice(text: str) -> list[str] | None:
    """The groups of ``^(-?\\d*)(:-?\\d*)?(:-?\\d*)?$`` (ASCII digits), or None."""
    groups: list[str] = []
    pos = 0
    for index in range(3):
        if index and not text.startswith(":", pos):
            groups.append("")
            continue
        end = pos + (1 if index else 0)
        if text.startswith("-", end):
            end += 1
        while end < len(text) and text[end] in _ASCII_DIGITS:
            end += 1
        groups.append(text[pos:end])
        pos = end
    return groups if pos == len(text) else None


def slice_params(text: str) -> tuple[SliceParam, SliceParam, SliceParam]:
    """Start, end and step of ``[i]`` or ``[start:end:step]``; ``[i]`` ends at ``i+1``."""
    groups = _match_slice(text)
    if groups is None:
        raise JsonPathError(f"invalid array index {text}")
    params: list[SliceParam] = []
    for index, group in enumerate(groups):
        raw = group[1:] if index else group
        if group and not (index and raw == ""):
            value = parse_int(raw)  # strconv.Atoi on a 64-bit platform
            if value is None:
                raise JsonPathError(f"array index {raw} is not a number")
            params.append(SliceParam(value, known=True))
        elif index == 1 and not group:
            params.append(SliceParam(_wrap_int64(params[0].value + 1), known=True, derived=True))
        else:
            params.append(SliceParam(0, known=False))
    return params[0], params[1], params[2]


def split_filter(text: str) -> tuple[str, str, str] | None:
    """The groups of ``^([^!<>=]+)([!<>=]+)(.+?)$``, or None (an ``exists`` filter)."""
    start = next((i for i, char in enumerate(text) if char in _FILTER_OPERATOR_CHARS), 0)
    if start == 0:
        return None
    end = start
    while end < len(text) and text[end] in _FILTER_OPERATOR_CHARS:
        end += 1
    if end == len(text):
        end -= 1  # the lazy right-hand group needs at least one character
    if end == start:
        return None
    return text[:start], text[start:end], text[end:]
