"""Does a tenant pattern let one Application read another's secrets? (issue 11, item 7)

``AVP_SECRET_NAME_PATTERN`` is expanded per Application. Application, project and namespace
names may contain ``-``, and so may Key Vault secret names, so the documented-looking
``^{app}-`` lets app ``vouch`` read ``vouch-proxy-key``, which app ``vouch-proxy`` owns. A
pattern cannot collide when every secret name belongs to one value only, e.g.
``^{app}-[A-Za-z0-9]+$``: the owner of a name is the name without its last ``-word``.

Deciding overlap for any regular expression is too costly for start-up; a few probes over
names that neighbouring values (``a`` and ``a-b``, ``a--b``, ``ab``, ``x-a``) would own catch
the usual mistakes (no end anchor, no start anchor, a suffix that admits ``-``, two fields side
by side). A hit is a warning, not a refusal: the operator may know that no two names are
prefixes of each other.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

FIELDS = ("app", "project", "namespace")
# Values whose owned names are near each other: a longer name, a doubled dash, no dash, and a
# name ending like the other (what a missing start anchor lets through).
_NEIGHBOURS = (("a", "a-b"), ("a", "a--b"), ("a", "ab"), ("a", "x-a"))
_SUFFIXES = ("", "-c", "-c-d", "--c", "c", "-0", "-C")
SAFE_EXAMPLE = "^{app}-[A-Za-z0-9]+$"


def overlap(source: str) -> tuple[str, str, str] | None:
    """``(values, other values, name)`` if ``name`` matches the pattern expanded with both."""
    used = [name for name in FIELDS if "{" + name + "}" in source]
    for mine, other, owned in _neighbours(used):
        try:
            pattern_a = re.compile(_with(source, mine))
            pattern_b = re.compile(_with(source, other))
        except (re.error, OverflowError, RecursionError):
            return None  # the real pattern's compile reports it
        for name in _probes(owned):
            if pattern_a.search(name) and pattern_b.search(name):
                return _shown(mine), _shown(other), name
    return None


def _neighbours(used: list[str]) -> Iterable[tuple[dict[str, str], dict[str, str], str]]:
    """Two assignments of the fields, and a name stem the second one would own."""
    for field in used:
        for mine, other in _NEIGHBOURS:
            yield {field: mine}, {field: other}, other
    for first, second in itertools.permutations(used, 2):
        # {project}-{app}: project p with app a-x, and project p-a with app x.
        yield {first: "p", second: "a-x"}, {first: "p-a", second: "x"}, "p-a-x"


def _shown(values: dict[str, str]) -> str:
    return ", ".join(f"{{{field}}} = {value}" for field, value in values.items())


def warning(source: str) -> str | None:
    """The warning to log for ``source``, or None."""
    found = overlap(source)
    if found is None:
        return None
    mine, other, name = found
    return (
        f"AVP_SECRET_NAME_PATTERN {source} lets one Application read another's secrets:"
        f" with {mine} and with {other} it matches the same secret name {name}; use a pattern"
        f" whose names cannot overlap, e.g. {SAFE_EXAMPLE} (docs/security.md)"
    )


def _with(source: str, values: dict[str, str]) -> str:
    result = source
    for name in FIELDS:
        result = result.replace("{" + name + "}", re.escape(values.get(name, "z")))
    return result


def _probes(other: str) -> Iterable[str]:
    for suffix in _SUFFIXES:
        yield other + suffix
        yield "x-" + other + suffix  # an unanchored start
