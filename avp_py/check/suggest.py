""" "Did you mean": the names closest to a missing secret's, among those the app may read. Pure.

Key Vault names are case-insensitive, so distances are counted on lower-cased names; a name
the naming policy refuses (``AVP_SECRET_NAME_PATTERN``, the app prefix rule) is never
suggested: it would tell one team the names of another's secrets, and fail anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

MAX_SUGGESTIONS = 3


def distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            cost = 0 if char == other else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return previous[-1]


def closest(name: str, candidates: Iterable[str], allowed: Callable[[str], bool]) -> list[str]:
    """Up to :data:`MAX_SUGGESTIONS` allowed candidates within a third of ``name``'s length
    (at least 2 edits), nearest first, then alphabetically."""
    wanted = name.lower()
    limit = max(2, len(name) // 3)
    scored = []
    for candidate in set(candidates):
        if candidate.lower() == wanted or not allowed(candidate):
            continue
        score = distance(wanted, candidate.lower())
        if score <= limit:
            scored.append((score, candidate))
    return [candidate for _, candidate in sorted(scored)[:MAX_SUGGESTIONS]]


def did_you_mean(names: list[str]) -> str:
    """`` (did you mean a, b or c?)``, or ``""`` for no names."""
    if not names:
        return ""
    quoted = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f" (did you mean {quoted}?)"
