"""``.properties``/``.props``/``.prop`` files as viper reads them: magiconair/properties.

The syntax is Java's, read by javaproperties: ``key=value``, ``key:value`` or ``key value``;
``#`` and ``!`` comment lines; ``\\t \\n \\r \\f \\uXXXX`` escapes, a backslash before any other
character dropped; a line ending in ``\\`` continued on the next (its leading blanks dropped).
On top of that, as magiconair does when viper loads a file: ``${key}`` in a value is replaced by
that key's value (expanded in turn), or else by the process environment's ``key``, or else by
nothing; a ``${`` without ``}`` or a reference cycle is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import javaproperties

from avp_py.settings.formats import LineError

_MAX_DEPTH = 64  # magiconair's maxExpansionDepth
_LINE_END = re.compile(r"\r\n|\r|\n")


def parse(text: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The file's keys and their expanded values."""
    raw: dict[str, str] = {}
    lines: dict[str, int] = {}
    number = 1
    elements = javaproperties.parse(text)
    while True:
        try:
            element = next(elements, None)
        except javaproperties.InvalidUEscapeError:
            raise LineError(number, "an invalid \\uXXXX escape") from None
        if element is None:
            break
        if isinstance(element, javaproperties.KeyValue):
            raw[element.key] = element.value
            lines[element.key] = number
        number += len(_LINE_END.findall(element.source))
    return {key: _expand(key, value, [key], raw, environ, lines[key]) for key, value in raw.items()}


def _expand(
    key: str,
    value: str,
    chain: list[str],
    raw: Mapping[str, str],
    environ: Mapping[str, str],
    line: int,
) -> str:
    if len(chain) > _MAX_DEPTH:
        raise LineError(line, f"{key}: ${{...}} references nest deeper than {_MAX_DEPTH}")
    result = value
    while (start := result.find("${")) >= 0:
        end = result.find("}", start + 2)
        if end < 0:
            raise LineError(line, f"{key}: a ${{ without its closing }}")
        name = result[start + 2 : end]
        if name in chain:
            cycle = " -> ".join([*chain, name])
            raise LineError(line, f"{key}: circular ${{...}} reference {cycle}")
        target = raw[name] if name in raw else environ.get(name, "")
        expanded = _expand(key, target, [*chain, name], raw, environ, line)
        result = result[:start] + expanded + result[end + 1 :]
    return result
