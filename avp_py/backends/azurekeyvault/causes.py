"""Walking an exception's chain of causes, through azure-core's and urllib3's wrappers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (cause, context, azure-core and urllib3 fields)."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [
            current.__cause__,
            current.__context__,
            getattr(current, "inner_exception", None),
            getattr(current, "reason", None),
            *current.args,
        ]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def find_cause(exc: BaseException, kind: type[Any]) -> Any:
    """The first exception of type ``kind`` in ``exc``'s chain, or None."""
    return next((item for item in exception_chain(exc) if isinstance(item, kind)), None)
