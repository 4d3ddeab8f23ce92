"""Parser for client-go JSONPath templates (k8s.io/client-go/util/jsonpath, v0.29).

A template is literal text with actions in braces: ``name: {.metadata.name}``. This module
turns it into the same tree client-go builds: a flat list of top-level items, each a
:class:`Text` (literal text) or an :class:`Action` (the nodes of one ``{...}``). Every quirk of
client-go's scanner is kept on purpose, because AVP users' templates were written against it:

* ``$`` and ``@`` are skipped, so ``{$.a}``, ``{@.a}`` and ``{.a}`` are the same;
* ``['key']`` is re-parsed as ``.key`` (so ``['a.b']`` means ``.a.b``); ``["key"]`` is an
  invalid array index;
* ``[a,b]`` splits on every comma and parses each part as ``[part]``;
* a filter's comparison is split at the first run of ``!<>=`` characters;
* ``range``/``end`` (and any other bare word) are identifiers judged at evaluation time.

No regular expressions are used; every scan is a single forward pass.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = [
    "Action",
    "Array",
    "BoolLit",
    "Field",
    "Filter",
    "FloatLit",
    "Identifier",
    "IntLit",
    "JsonPathError",
    "Node",
    "Recursive",
    "SliceParam",
    "Text",
    "TopNode",
    "UnionOf",
    "Wildcard",
    "parse",
]

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_ASCII_DIGITS = frozenset("0123456789")
_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")
_FILTER_OPERATOR_CHARS = frozenset("!<>=")
# parseAction re-enters the parser for union parts, ['key'] and filter operands; the
# grammar cannot nest those deeply, so a small bound only guards against surprises.
_MAX_SUBPARSE_DEPTH = 16


class JsonPathError(Exception):
    """A template or evaluation error; ``message`` is client-go's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text (outside braces, or a quoted string inside an action)."""

    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """``.name``: a map key (backslashes already removed)."""

    name: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``.*``: every value of a map, element of a list or byte of a string."""


@dataclass(frozen=True, slots=True)
class Recursive:
    """``..``: the value and every descendant that has children (pre-order)."""


@dataclass(frozen=True, slots=True)
class SliceParam:
    """One of start/end/step of ``[start:end:step]`` (client-go's ParamsEntry)."""

    value: int
    known: bool
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Array:
    """``[i]``, ``[a:b]``, ``[a:b:c]``, ``[*]``."""

    params: tuple[SliceParam, SliceParam, SliceParam]


@dataclass(frozen=True, slots=True)
class IntLit:
    value: int


@dataclass(frozen=True, slots=True)
class FloatLit:
    value: float


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool


@dataclass(frozen=True, slots=True)
class Identifier:
    """A bare word: ``range`` and ``end`` are meaningful, anything else fails at run time."""

    name: str


@dataclass(eq=False, slots=True)
class Action:
    """The nodes of one ``{...}`` (client-go's ListNode); evaluated left to right."""

    nodes: list[Node] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UnionOf:
    """``[a,b,...]``: the results of every branch, in order."""

    branches: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(left op right)]``, or ``[?(left)]`` with op ``exists``."""

    left: Action
    right: Action
    op: str


Node: TypeAlias = (
    Text
    | Field
    | Wildcard
    | Recursive
    | Array
    | IntLit
    | FloatLit
    | BoolLit
    | Identifier
    | Action
    | UnionOf
    | Filter
)
TopNode: TypeAlias = Text | Action


def parse(template: str) -> list[TopNode]:
    """Parse a whole template into client-go's flat list of text and actions."""
    return _Parser(template, 0).parse()


def _is_digit(char: str) -> bool:
    """Go's unicode.IsDigit (category Nd)."""
    return char in _ASCII_DIGITS or (char > "\x7f" and unicodedata.category(char) == "Nd")


def _is_alphanumeric(char: str) -> bool:
    """client-go's isAlphaNumeric: underscore, unicode.IsLetter or unicode.IsDigit."""
    if char.isascii():
        return char == "_" or char.isalnum()
    category = unicodedata.category(char)
    return category.startswith("L") or category == "Nd"


def _go_rune(char: str) -> str:
    """Go's ``%#U`` verb: ``U+0021 '!'`` (the quoted form only for printable runes)."""
    code = f"U+{ord(char):04X}"
    return f"{code} '{char}'" if char.isprintable() else code


def _atoi(text: str) -> int | None:
    """Go's strconv.Atoi on a 64-bit platform; None where Go returns an error."""
    sign = text[:1] if text[:1] in ("+", "-") else ""
    digits = text[len(sign) :]
    if not digits or not all(char in _ASCII_DIGITS for char in digits):
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > 19:  # out of int64 range (and beyond int()'s digit limit)
        return None
    value = int(sign + significant)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _parse_float(text: str) -> float | None:
    """Go's strconv.ParseFloat for the sign/digits/dots strings parseNumber collects."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if body.count(".") > 1 or not any(char in _ASCII_DIGITS for char in body):
        return None
    if not all(char in _ASCII_DIGITS or char == "." for char in body):
        return None
    value = float(text)
    return None if value in (float("inf"), float("-inf")) else value


def _wrap_int64(value: int) -> int:
    return (value - _INT64_MIN) % (1 << 64) + _INT64_MIN


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


def _slice_params(text: str) -> tuple[SliceParam, SliceParam, SliceParam]:
    groups = _match_slice(text)
    if groups is None:
        raise JsonPathError(f"invalid array index {text}")
    params: list[SliceParam] = []
    for index, group in enumerate(groups):
        raw = group[1:] if index else group
        if group and not (index and raw == ""):
            value = _atoi(raw)
            if value is None:
                raise JsonPathError(f"array index {raw} is not a number")
            params.append(SliceParam(value, known=True))
        elif index == 1 and not group:
            params.append(SliceParam(_wrap_int64(params[0].value + 1), known=True, derived=True))
        else:
            params.append(SliceParam(0, known=False))
    return params[0], params[1], params[2]


def _split_filter(text: str) -> tuple[str, str, str] | None:
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


_SIMPLE_ESCAPES = {
    "a": 0x07,
    "b": 0x08,
    "f": 0x0C,
    "n": 0x0A,
    "r": 0x0D,
    "t": 0x09,
    "v": 0x0B,
    "\\": 0x5C,
}
_HEX_ESCAPE_LENGTH = {"x": 2, "u": 4, "U": 8}


def _unquote_escape(body: str, pos: int, quote: str) -> tuple[bytes, int] | None:
    """One backslash escape of Go's strconv.UnquoteChar at ``body[pos] == '\\\\'``."""
    if pos + 1 >= len(body):
        return None
    kind = body[pos + 1]
    pos += 2
    if kind in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[kind]]), pos
    if kind in ("'", '"'):
        return (kind.encode(), pos) if kind == quote else None
    if kind in _HEX_ESCAPE_LENGTH:
        return _unquote_hex(body, pos, kind)
    if kind in "01234567":
        digits = body[pos - 1 : pos + 2]
        if len(digits) < 3 or any(char not in "01234567" for char in digits):
            return None
        value = int(digits, 8)
        return (bytes([value]), pos + 2) if value <= 255 else None
    return None


def _unquote_hex(body: str, pos: int, kind: str) -> tuple[bytes, int] | None:
    length = _HEX_ESCAPE_LENGTH[kind]
    digits = body[pos : pos + length]
    if len(digits) < length or any(char not in "0123456789abcdefABCDEF" for char in digits):
        return None
    value = int(digits, 16)
    if kind == "x":
        return bytes([value]), pos + length
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return None
    return chr(value).encode(), pos + length


def _unquote(quoted: str) -> str:
    """client-go's UnquoteExtend: Go string unquoting that also accepts single quotes."""
    quote, body = quoted[0], quoted[1:-1]
    if "\\" not in body and quote not in body:
        return body
    out = bytearray()
    pos = 0
    while pos < len(body):
        char = body[pos]
        if char == quote:
            step = None
        elif char == "\\":
            step = _unquote_escape(body, pos, quote)
        else:
            step = char.encode("utf-8", "surrogatepass"), pos + 1
        if step is None:
            raise JsonPathError(f"unquote string {quoted} error invalid syntax")
        out += step[0]
        pos = step[1]
    return out.decode("utf-8", "replace")


class _Parser:
    """client-go's Parser: a text scanner that switches into action mode at ``{``."""

    def __init__(self, text: str, depth: int) -> None:
        self._text = text
        self._pos = 0
        self._depth = depth
        self._root: list[TopNode] = []

    def parse(self) -> list[TopNode]:
        text = self._text
        while True:
            brace = text.find("{", self._pos)
            if brace < 0:
                if self._pos < len(text):
                    self._root.append(Text(text[self._pos :]))
                return self._root
            if brace > self._pos:
                self._root.append(Text(text[self._pos : brace]))
            self._pos = brace + 1
            action = Action()
            self._root.append(action)
            self._parse_action(action)

    def _sub_action(self, text: str) -> Action:
        """client-go's parseAction: parse ``{text}`` and keep its first action."""
        if self._depth >= _MAX_SUBPARSE_DEPTH:
            raise JsonPathError("jsonpath template nests too deeply")
        first = _Parser("{" + text + "}", self._depth + 1).parse()[0]
        if not isinstance(first, Action):  # pragma: no cover - the text starts with "{"
            raise JsonPathError("unclosed action")
        return first

    def _parse_action(self, cur: Action) -> None:
        """parseInsideAction, iteratively; returns after the closing ``}``."""
        text = self._text
        while True:
            if text.startswith("}", self._pos):
                self._pos += 1
                return
            if text.startswith("[?(", self._pos):
                self._parse_filter(cur)
            elif text.startswith("..", self._pos):
                self._parse_recursive(cur)
            else:
                self._parse_token(cur)

    def _parse_token(self, cur: Action) -> None:
        if self._pos >= len(self._text) or self._text[self._pos] in "\r\n":
            raise JsonPathError("unclosed action")
        char = self._text[self._pos]
        self._pos += 1
        if char in " @$":
            return
        if char == "[":
            self._parse_array(cur)
        elif char in "\"'":
            self._parse_quote(cur, char)
        elif char == ".":
            self._parse_field(cur)
        elif char in "+-" or _is_digit(char):
            self._pos -= 1
            self._parse_number(cur)
        elif _is_alphanumeric(char):
            self._pos -= 1
            self._parse_identifier(cur)
        else:
            raise JsonPathError(f"unrecognized character in action: {_go_rune(char)}")

    def _scan_word(self) -> str:
        start = self._pos
        while self._pos < len(self._text) and self._text[self._pos] not in _TERMINATORS:
            self._pos += 1
        return self._text[start : self._pos]

    def _parse_identifier(self, cur: Action) -> None:
        word = self._scan_word()
        if word in ("true", "false"):
            cur.nodes.append(BoolLit(word == "true"))
        else:
            cur.nodes.append(Identifier(word))

    def _parse_recursive(self, cur: Action) -> None:
        if cur.nodes and isinstance(cur.nodes[-1], Recursive):
            raise JsonPathError("invalid multiple recursive descent")
        self._pos += 2
        cur.nodes.append(Recursive())
        if self._pos < len(self._text) and _is_alphanumeric(self._text[self._pos]):
            self._parse_field(cur)

    def _parse_number(self, cur: Action) -> None:
        text = self._text
        start = self._pos
        if text[self._pos] in "+-":
            self._pos += 1
        while self._pos < len(text) and (text[self._pos] == "." or _is_digit(text[self._pos])):
            self._pos += 1
        value = text[start : self._pos]
        as_int = _atoi(value)
        if as_int is not None:
            cur.nodes.append(IntLit(as_int))
            return
        as_float = _parse_float(value)
        if as_float is None:
            raise JsonPathError(f"cannot parse number {value}")
        cur.nodes.append(FloatLit(as_float))

    def _parse_field(self, cur: Action) -> None:
        """A field name up to the next unescaped terminator; ``\\x`` keeps ``x``."""
        text = self._text
        start = self._pos
        while self._pos < len(text):
            char = text[self._pos]
            if char == "\\":
                self._pos = min(self._pos + 2, len(text))
            elif char in _TERMINATORS:
                break
            else:
                self._pos += 1
        value = text[start : self._pos]
        cur.nodes.append(Wildcard() if value == "*" else Field(value.replace("\\", "")))

    def _scan_until(self, closing: str, error: str) -> str:
        """Consume up to and including ``closing``; return what was between."""
        end = self._text.find(closing, self._pos)
        newline = self._text.find("\n", self._pos)
        if end < 0 or 0 <= newline < end:
            raise JsonPathError(error)
        inner = self._text[self._pos : end]
        self._pos = end + 1
        return inner

    def _parse_quote(self, cur: Action, quote: str) -> None:
        text = self._text
        start = self._pos - 1
        while True:
            if self._pos >= len(text) or text[self._pos] == "\n":
                raise JsonPathError("unterminated quoted string")
            self._pos += 1
            if text[self._pos - 1] == quote and text[self._pos - 2] != "\\":
                break
        cur.nodes.append(Text(_unquote(text[start : self._pos])))

    def _parse_array(self, cur: Action) -> None:
        inner = self._scan_until("]", "unterminated array")
        if inner == "*":
            inner = ":"
        parts = inner.split(",")
        if len(parts) > 1:
            branches = tuple(self._sub_action("[" + part.strip(" ") + "]") for part in parts)
            cur.nodes.append(UnionOf(branches))
        elif len(inner) >= 2 and inner[0] == inner[-1] == "'" and "'" not in inner[1:-1]:
            cur.nodes.extend(self._sub_action("." + inner[1:-1]).nodes)
        else:
            cur.nodes.append(Array(_slice_params(inner)))

    def _scan_filter_body(self) -> str:
        """Scan to the ``)`` that closes the filter (quotes balanced) and the ``]``."""
        text = self._text
        start = self._pos
        begin = end = False
        pair = ""
        while True:
            if self._pos >= len(text) or text[self._pos] == "\n":
                raise JsonPathError("unterminated filter")
            char = text[self._pos]
            self._pos += 1
            if char in "\"'" and not begin:
                begin, pair = True, char
            elif char in "\"'":
                end = end or (char == pair and text[self._pos - 2] != "\\")
            elif char == ")" and begin == end:
                break
        if not text.startswith("]", self._pos):
            raise JsonPathError("unclosed array expect ]")
        self._pos += 1
        return text[start : self._pos - 2]

    def _parse_filter(self, cur: Action) -> None:
        self._pos += 3
        body = self._scan_filter_body()
        parts = _split_filter(body)
        if parts is None:
            cur.nodes.append(Filter(self._sub_action(body), Action(), "exists"))
            return
        left = self._sub_action(parts[0])
        right = self._sub_action(parts[2])
        cur.nodes.append(Filter(left, right, parts[1]))
