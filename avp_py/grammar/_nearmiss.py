"""Text that looks like a placeholder but is none: an input error, never a silent miss.

AVP leaves ``<path:kv#name`` (no ``>``), ``<path:kv/name>`` (no ``#``), ``<path:kv>`` and
``< path:kv#name>`` in the output without a word, so a typo ships the literal text to the
cluster (issue 10 item 1). avp-py reports every ``<path:`` that does not start a placeholder,
and every placeholder whose vault name has spaces around it (a vault name never has; AVP would
look up ``" kv"``), with a "did you mean" where the fix is clear (decision D10).

Linear time on any text: only the first few near misses of a string are explained.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from avp_py.grammar._find import SPECIFIC_PREFIX, Placeholder

_EXPLAINED = 3  # per string; the rest are counted
_SNIPPET = 60
_SPACE_BEFORE_PATH = re.compile(r"<[ \t]+path:")
_FORMS = "<path:VAULT#SECRET> or <path:VAULT#SECRET#VERSION>"


def near_misses(text: str, generic: bool, found: Sequence[Placeholder]) -> list[str]:
    """Why each ``<path:`` of ``text`` that the placeholders ``found`` in it do not cover is no
    placeholder. ``generic``: the path annotation is present."""
    if "path:" not in text:
        return []
    candidates = _occurrences(text)
    if not generic:  # with the annotation, '< path:kv#name>' is a placeholder (AVP §3.2)
        candidates = sorted(candidates + [m.start() for m in _SPACE_BEFORE_PATH.finditer(text)])
    starts = list(_uncovered(candidates, found))
    problems = [explain(text, start) for start in starts[:_EXPLAINED]]
    if len(starts) > _EXPLAINED:
        problems.append(f"{len(starts) - _EXPLAINED} more malformed placeholders in this value")
    return problems


def _occurrences(text: str) -> list[int]:
    positions = []
    position = text.find(SPECIFIC_PREFIX)
    while position != -1:
        positions.append(position)
        position = text.find(SPECIFIC_PREFIX, position + 1)
    return positions


def _uncovered(positions: Sequence[int], found: Sequence[Placeholder]) -> Iterator[int]:
    """The sorted ``positions`` outside every found placeholder (both left to right)."""
    index = 0
    for position in positions:
        while index < len(found) and found[index].end <= position:
            index += 1
        if index == len(found) or position < found[index].start:
            yield position


def malformed(placeholder: Placeholder, generic: bool) -> str | None:
    """Why a found placeholder cannot be what its author meant, or None."""
    problem = _malformed(placeholder, generic)
    return f"{problem} (written JSON-escaped)" if problem and placeholder.escaped else problem


def _malformed(placeholder: Placeholder, generic: bool) -> str | None:
    inline, keyspec = placeholder.inline, placeholder.keyspec
    if inline is None:
        # Generic mode: '<path:kv/name>' is a generic key no vault can hold.
        return explain(placeholder.text, 0) if keyspec.startswith("path:") else None
    if generic and not keyspec.startswith("path:"):
        return None  # AVP's unanchored inline search ('<mypath:a#b>'): its rules, not ours
    if "\n" in keyspec or ">" in inline.path:
        # The '<path:' up to the first '>' (or the line's end) is what was meant, and is none;
        # a line break in modifiers' arguments is AVP's (strings.Fields), not a near miss.
        return explain(placeholder.text, 0)
    if inline.path != inline.path.strip():
        return explain(placeholder.text, 0)
    return None


def explain(text: str, start: int) -> str:
    """``malformed placeholder <path:…>: what is wrong`` for the ``<path:`` (or ``< path:``)
    at ``start``; only the text up to its first '>' on the line is quoted."""
    stop = _first(text, start, ">\n")
    closed = stop != -1 and text[stop] == ">"
    end = stop + 1 if closed else (len(text) if stop == -1 else stop)
    written = text[start:end]
    inner = written[written.index("path:") + len("path:") : len(written) - closed]
    return f"malformed placeholder {_quote(written)}: {_reason(written, inner, closed)}"


def _reason(written: str, inner: str, closed: bool) -> str:
    path, has_hash, rest = inner.partition("#")
    key = rest.split("#", 1)[0].strip()
    if not has_hash:
        return f"no '#' between the vault and the secret name (write {_FORMS})"
    if not path.strip():
        return f"no vault name before '#' (write {_FORMS})"
    if not key:
        return f"no secret name after '#' (write {_FORMS})"
    if not closed:
        return "not closed by '>' on its line"
    suggestion = f"<path:{path.strip()}#{rest}>"
    if suggestion != written:
        return f"spaces inside the placeholder; did you mean {_quote(suggestion)}?"
    return f"not a placeholder (write {_FORMS})"


def _first(text: str, start: int, chars: str) -> int:
    found = [i for i in (text.find(char, start) for char in chars) if i != -1]
    return min(found) if found else -1


def _quote(written: str) -> str:
    return written if len(written) <= _SNIPPET else written[:_SNIPPET] + "…"
