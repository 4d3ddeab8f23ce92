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

from avp_py import gocompat
from avp_py.jsonpath.lexer import (
    go_rune,
    is_alphanumeric,
    is_digit,
    slice_params,
    split_filter,
)
from avp_py.jsonpath.nodes import (
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
    Text,
    TopNode,
    UnionOf,
    Wildcard,
)
from avp_py.jsonpath.unquote import unquote

__all__ = ["JsonPathError", "parse"]

_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")
# parseAction re-enters the parser for union parts, ['key'] and filter operands; the
# grammar cannot nest those deeply, so a small bound only guards against surprises.
_MAX_SUBPARSE_DEPTH = 16


def parse(template: str) -> list[TopNode]:
    """Parse a whole template into client-go's flat list of text and actions."""
    return _Parser(template, 0).parse()


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
        elif char in "+-" or is_digit(char):
            self._pos -= 1
            self._parse_number(cur)
        elif is_alphanumeric(char):
            self._pos -= 1
            self._parse_identifier(cur)
        else:
            raise JsonPathError(f"unrecognized character in action: {go_rune(char)}")

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
        if self._pos < len(self._text) and is_alphanumeric(self._text[self._pos]):
            self._parse_field(cur)

    def _parse_number(self, cur: Action) -> None:
        text = self._text
        start = self._pos
        if text[self._pos] in "+-":
            self._pos += 1
        while self._pos < len(text) and (text[self._pos] == "." or is_digit(text[self._pos])):
            self._pos += 1
        value = text[start : self._pos]
        as_int = gocompat.parse_int(value)  # client-go: strconv.Atoi, then ParseFloat
        if as_int is not None:
            cur.nodes.append(IntLit(as_int))
            return
        as_float = gocompat.parse_float(value)
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
        cur.nodes.append(Text(unquote(text[start : self._pos])))

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
            cur.nodes.append(Array(slice_params(inner)))

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
        parts = split_filter(body)
        if parts is None:
            cur.nodes.append(Filter(self._sub_action(body), Action(), "exists"))
            return
        left = self._sub_action(parts[0])
        right = self._sub_action(parts[2])
        cur.nodes.append(Filter(left, right, parts[1]))
