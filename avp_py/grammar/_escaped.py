"""Placeholders that Helm's ``toJson`` wrote JSON-escaped: ``\\u003cpath:kv#name\\u003e``.

Go's ``json.Marshal`` (sprig's ``toJson`` and ``toPrettyJson``; not ``toRawJson``) escapes
``<``, ``>`` and ``&`` as ``\\u003c``, ``\\u003e``, ``\\u0026``. A placeholder in a value a chart
renders with ``toJson`` therefore reaches the plugin as ``\\u003cpath:kv#name\\u003e``; ``| quote``
after it adds a YAML level that the YAML reader removes again. AVP's patterns never see it
and the literal text ships (issue 10 item 1). avp-py finds such a placeholder, reads its
decoded text with AVP's grammar, and fills it with the value JSON-escaped exactly as
``json.Marshal`` would have written it, so the JSON stays valid. What it cannot fill
correctly (JSON escaped twice, a broken escape) is an input error that says how to template
it instead.

Linear time: every search moves forward; only the first few problems are explained.
"""

from __future__ import annotations

import json
import re

from avp_py.grammar._find import Placeholder, find_specific, parse_placeholder
from avp_py.grammar._nearmiss import explain

_OPEN = re.compile(r"\\u003[cC]")
_CLOSE = re.compile(r"\\u003[eE]")
_ESCAPE_LENGTH = 6  # \u003c
_EXPLAINED = 3
_TWICE = (
    "is JSON-escaped twice (JSON inside a JSON string, e.g. toJson applied twice): avp-py"
    " cannot fill it correctly; build that JSON with one toJson, or render the placeholder"
    " with toRawJson so that it stays as written"
)


def might_contain_escaped(text: str) -> bool:
    """Cheap test: the text holds a JSON-escaped ``<``."""
    return "\\u003" in text and _OPEN.search(text) is not None


def find_escaped(text: str, generic: bool) -> tuple[list[Placeholder], list[str]]:
    """The JSON-escaped placeholders of ``text`` (AVP's patterns on their decoded text, in the
    mode the path annotation chose), and why each escaped ``<path:`` that is none is none."""
    found: list[Placeholder] = []
    problems: list[str] = []
    if not might_contain_escaped(text):
        return found, problems
    closes = _Closes(text)
    match = _OPEN.search(text)
    while match is not None:
        start = match.start()
        resume = start + _ESCAPE_LENGTH
        if generic or text.startswith("path:", resume):
            close = closes.after(resume)
            if close == -1:  # no later '\u003e' at all: no later '\u003c' can close either
                problems.extend(_unclosed(text, start, generic))
                break
            placeholder, problem = _at(text, start, close, generic)
            resume = close if placeholder is not None or problem is not None else resume
            if placeholder is not None:
                found.append(placeholder)
            if problem is not None:
                problems.append(problem)
        match = _OPEN.search(text, resume)
    if len(problems) > _EXPLAINED:
        more = len(problems) - _EXPLAINED
        problems[_EXPLAINED:] = [f"{more} more malformed JSON-escaped placeholders in this value"]
    return found, problems


class _Closes:
    """Memoised search for the next ``\u003e``: O(n) in total for non-decreasing starts."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._start = -1
        self._end = -1  # end of the last match found, -1 for none

    def after(self, start: int) -> int:
        """End of the first ``\u003e`` at or after ``start``, or -1."""
        if self._start != -1 and (self._end == -1 or self._end - _ESCAPE_LENGTH >= start):
            return self._end
        self._start = start
        match = _CLOSE.search(self._text, start)
        self._end = -1 if match is None else match.end()
        return self._end


def _at(text: str, start: int, end: int, generic: bool) -> tuple[Placeholder | None, str | None]:
    """The placeholder written from ``start`` to ``end``, or why it is none (None, None: no
    placeholder starts here, as AVP's generic pattern skips a ``<`` without ``>`` on its line)."""
    written = text[start:end]
    if _escaped_backslash(text, start):
        return None, f"placeholder {_shown(written)} {_TWICE}"
    decoded = _decode(written)
    if decoded is None:
        return None, f"placeholder {_shown(written)} is not valid JSON string text"
    if "\n" in decoded:
        problem = explain(decoded, 0) if decoded.startswith("<path:") else None
        return None, _escaped_note(problem)
    if not generic and find_specific(decoded) != [(0, len(decoded))]:
        return None, _escaped_note(explain(decoded, 0))
    parsed = parse_placeholder(decoded)
    placeholder = Placeholder(
        start, end, decoded, parsed.keyspec, parsed.inline, parsed.modifiers, escaped=True
    )
    return placeholder, None


def _unclosed(text: str, start: int, generic: bool) -> list[str]:
    snippet = text[start : start + 80]
    if generic and not snippet.startswith("path:", _ESCAPE_LENGTH):
        return []  # AVP's generic pattern: a '<' without '>' is text
    reason = "not closed by '\\u003e' (written JSON-escaped)"
    return [f"malformed placeholder {_shown(snippet)}: {reason}"]


def _escaped_backslash(text: str, start: int) -> bool:
    """Whether the backslash of the ``\\u003c`` at ``start`` is itself escaped (odd run)."""
    run = 0
    while start - run - 1 >= 0 and text[start - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _decode(written: str) -> str | None:
    try:
        decoded = json.loads(f'"{written}"')
    except json.JSONDecodeError:
        return None  # a raw '"' or control character: the span left its JSON string
    return decoded if isinstance(decoded, str) else None


def _escaped_note(problem: str | None) -> str | None:
    return None if problem is None else f"{problem} (written JSON-escaped)"


def _shown(written: str) -> str:
    return written if len(written) <= 80 else written[:80] + "…"
