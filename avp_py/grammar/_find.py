"""Placeholder grammar: find ``<...>`` placeholders in a string and parse each one.

AVP finds placeholders with two Go RE2 patterns (avp-behaviour.md §3.1):

* generic ``<(.*)>`` with the ``U`` flag, i.e. the shortest ``<...>`` on one line, used when
  the object carries the ``avp.kubernetes.io/path`` annotation;
* specific ``<path:([^#]+)#([^#]+)(?:#([^#]+))?>`` (also lazy), used otherwise.

Python's backtracking ``re`` would take quadratic time on hostile input such as thousands of
``<`` without a ``>`` or of ``<path:`` without a ``#``. The scanners below reproduce the
leftmost-first matches of those patterns exactly, in linear time: every forward search is
memoised, and search starts only ever move forward.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

SPECIFIC_PREFIX = "<path:"
INLINE_PREFIX = "path:"


@dataclass(frozen=True, slots=True)
class ModifierCall:
    """One ``| name arg...`` statement of a placeholder."""

    name: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InlineRef:
    """The ``path#key#version`` parts of an inline placeholder."""

    path: str
    key: str
    version: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A placeholder found in a string: its span, its key spec, and its modifiers."""

    start: int
    end: int
    text: str
    keyspec: str
    inline: InlineRef | None
    modifiers: tuple[ModifierCall, ...]
    # Written JSON-escaped (\u003cpath:…\u003e, Helm's toJson): ``text`` is the decoded form,
    # ``start``/``end`` the escaped span, and the value is inserted JSON-escaped.
    escaped: bool = False


class _Finder:
    """Memoised ``str.find`` for one character.

    Correct for any sequence of starts; O(n) in total when the starts never decrease, which is
    why every caller uses one finder per role (first ``#``, second ``#``, ...).
    """

    __slots__ = ("_text", "_char", "_start", "_found")

    def __init__(self, text: str, char: str) -> None:
        self._text = text
        self._char = char
        self._start = 1 << 62  # nothing cached yet
        self._found = -1

    def next(self, start: int) -> int:
        """Index of the first occurrence at or after ``start``, or -1."""
        if self._start <= start and (self._found == -1 or self._found >= start):
            return self._found
        self._start = start
        self._found = self._text.find(self._char, start)
        return self._found


def find_generic(text: str) -> list[tuple[int, int]]:
    """Spans of ``<...>`` matches (shortest, single line, non-overlapping, left to right)."""
    spans: list[tuple[int, int]] = []
    close = _Finder(text, ">")
    newline = _Finder(text, "\n")
    pos = text.find("<")
    while pos != -1:
        gt = close.next(pos + 1)
        if gt == -1:
            break
        nl = newline.next(pos + 1)
        if nl == -1 or gt < nl:
            spans.append((pos, gt + 1))
            pos = text.find("<", gt + 1)
        else:
            # No '<' before this newline can match: they all see the same '>' beyond it.
            pos = text.find("<", nl + 1)
    return spans


def find_specific(text: str) -> list[tuple[int, int]]:
    """Spans of ``<path:P#K>`` / ``<path:P#K#V>`` matches, as AVP's specific pattern finds them."""
    spans: list[tuple[int, int]] = []
    finders = _SpecificFinders(text)
    pos = text.find(SPECIFIC_PREFIX)
    while pos != -1:
        end = _match_specific_at(pos, finders)
        if end == -2:
            break  # no '#' left anywhere: no later start can match either
        if end == -1:
            pos = text.find(SPECIFIC_PREFIX, pos + 1)
        else:
            spans.append((pos, end))
            pos = text.find(SPECIFIC_PREFIX, end)
    return spans


class _SpecificFinders:
    """One finder per role, so that each sees non-decreasing starts."""

    __slots__ = ("hash1", "hash2", "hash3", "close_key", "close_version")

    def __init__(self, text: str) -> None:
        self.hash1, self.hash2, self.hash3 = (
            _Finder(text, "#"),
            _Finder(text, "#"),
            _Finder(text, "#"),
        )
        self.close_key, self.close_version = _Finder(text, ">"), _Finder(text, ">")


def _match_specific_at(pos: int, find: _SpecificFinders) -> int:
    """End of the specific match starting at ``pos``; -1 for no match here, -2 for none at all."""
    h1 = find.hash1.next(pos + len(SPECIFIC_PREFIX))
    if h1 == -1:
        return -2
    if h1 == pos + len(SPECIFIC_PREFIX):
        return -1  # empty path group
    h2 = find.hash2.next(h1 + 1)
    gt = find.close_key.next(h1 + 2)  # the key group needs at least one character
    if gt != -1 and (h2 == -1 or gt < h2):
        return gt + 1
    if h2 == -1 or h2 < h1 + 2:
        return -1
    h3 = find.hash3.next(h2 + 1)
    gt = find.close_version.next(h2 + 2)  # the version group needs at least one character
    if gt != -1 and (h3 == -1 or gt < h3):
        return gt + 1
    return -1


def find_placeholders(text: str, generic: bool) -> list[Placeholder]:
    """Every placeholder of ``text`` in the mode chosen by the path annotation (§3.2)."""
    if "<" not in text:
        return []
    spans = find_generic(text) if generic else find_specific(text)
    return [parse_placeholder(text[start:end], start, end) for start, end in spans]


def parse_placeholder(match: str, start: int = 0, end: int = 0) -> Placeholder:
    """Split a matched ``<...>`` into key spec, inline reference and modifiers (§3.4)."""
    keyspec, inline, modifiers = _parts(match)
    return Placeholder(start, end or len(match), match, keyspec, inline, modifiers)


@functools.lru_cache(maxsize=4096)
def _parts(match: str) -> tuple[str, InlineRef | None, tuple[ModifierCall, ...]]:
    """What a matched text means; the same placeholder recurs all over a chart (values are
    immutable, so one parse serves every occurrence)."""
    inner = match.strip("<>")  # Go strings.Trim(m, "<>")
    fields = inner.split("|")
    keyspec = fields[0].strip(" ")  # AVP trims spaces only, not tabs
    modifiers = tuple(_parse_modifier(statement) for statement in fields[1:])
    return keyspec, parse_inline(keyspec), modifiers


def _parse_modifier(statement: str) -> ModifierCall:
    """``name arg...`` split on any whitespace; an empty statement gets the empty name.

    AVP panics on ``<key | >``; the planner reports the empty name as an error instead.
    """
    words = statement.split()
    return ModifierCall(words[0], tuple(words[1:])) if words else ModifierCall("", ())


def parse_inline(keyspec: str) -> InlineRef | None:
    """AVP's inline pattern ``path:P#K(#V)?``, searched unanchored; None when it does not match."""
    first, second = _Finder(keyspec, "#"), _Finder(keyspec, "#")
    pos = keyspec.find(INLINE_PREFIX)
    while pos != -1:
        h1 = first.next(pos + len(INLINE_PREFIX))
        if h1 == -1:
            return None
        found = _inline_at(keyspec, pos, h1, second.next(h1 + 1))
        if found is not None:
            return found
        pos = keyspec.find(INLINE_PREFIX, pos + 1)
    return None


def _inline_at(keyspec: str, pos: int, h1: int, h2: int) -> InlineRef | None:
    path = keyspec[pos + len(INLINE_PREFIX) : h1]
    key_end = h2 if h2 != -1 else len(keyspec)
    if not path or key_end == h1 + 1:
        return None
    version = ""
    if h2 != -1:
        # '(?:#(.+))?' : '.' stops at a newline, and the group needs one character.
        version = keyspec[h2 + 1 :].split("\n", 1)[0]
    return InlineRef(path, keyspec[h1 + 1 : key_end].strip(), version)


def might_contain_placeholder(text: str) -> bool:
    """Cheap pre-check used on base64-decoded Secret values: any generic match at all."""
    return "<" in text and bool(find_generic(text))
