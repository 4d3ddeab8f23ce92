"""``.ini`` files as viper reads them: gopkg.in/ini.v1 with its default load options.

Python's configparser reads another dialect (inline comments need a space before them, values
continue by indentation, quotes are kept, a repeated key is an error), so these are ini.v1's
rules:

* ``#`` and ``;`` start a comment line; ``[name]`` starts a section (``[DEFAULT]`` is the part
  before the first section);
* ``key = value`` or ``key: value``; the key may be quoted with ``"`` or a backtick; a line
  without ``=`` or ``:`` is an error; a repeated key keeps its last value;
* in a value, ``#`` or ``;`` anywhere starts a comment, then one pair of surrounding ``'`` or
  ``"`` is removed; a value in backticks or triple double quotes is taken as written (it may
  hold ``#``/``;`` and span lines);
* a value ending in ``\\`` continues on the next line (taken as written, comments included);
* ``%(key)s`` is replaced by that key's value, from the same section or else the default one.

:func:`parse` returns ``{section: {key: value}}``, the default section under ``DEFAULT``.
"""

from __future__ import annotations

import re

from avp_py.settings.formats import LineError

DEFAULT = "DEFAULT"
_REFERENCE = re.compile(r"%\(([^)]+)\)s")
_MAX_REFERENCE_DEPTH = 99  # ini.v1's depthValues


class _Lines:
    """The file's lines with their numbers, read one at a time (values may take several)."""

    def __init__(self, text: str) -> None:
        parts = text.split("\n")  # ini.v1 reads up to each LF; a CR before it is trimmed later
        self._lines = [part + "\n" for part in parts[:-1]] + [parts[-1]] * bool(parts[-1])
        self.number = 0

    def next(self) -> str | None:
        if self.number >= len(self._lines):
            return None
        self.number += 1
        return self._lines[self.number - 1]


def parse(text: str) -> dict[str, dict[str, str]]:
    """Every section's keys and raw values; ``%(key)s`` references resolved."""
    sections: dict[str, dict[str, str]] = {DEFAULT: {}}
    current = DEFAULT
    lines = _Lines(text)
    while (raw := lines.next()) is not None:
        line = raw.lstrip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            current = _section_name(line, lines.number)
            sections.setdefault(current, {})
            continue
        body = line.rstrip("\r\n")
        key, rest = _split_key(body, lines.number)
        sections[current][key] = _value(rest, line[len(body) :], lines)
    return {name: _resolve(keys, sections[DEFAULT]) for name, keys in sections.items()}


def _section_name(line: str, number: int) -> str:
    closing = line.find("]")
    if closing < 0:
        raise LineError(number, "a section header without its closing ]")
    name = line[1:closing].strip()
    return name or DEFAULT


def _split_key(line: str, number: int) -> tuple[str, str]:
    if line[0] in '"`':
        closing = line.find(line[0], 1)
        if closing < 0:
            raise LineError(number, "a quoted key without its closing quote")
        key, rest = line[1:closing], line[closing + 1 :].lstrip()
        if not rest or rest[0] not in "=:":
            raise LineError(number, "no = or : after the key")
        return key, rest[1:]
    delimiter = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
    if delimiter < 0:
        raise LineError(number, "not key = value (no = or :)")
    key = line[:delimiter].strip()
    if not key:
        raise LineError(number, "a value without a key")
    return key, line[delimiter + 1 :]


def _value(rest: str, line_end: str, lines: _Lines) -> str:
    value = rest.lstrip()
    if not value:
        return ""
    for quote in ('"""', "`"):
        if value.startswith(quote) and (quote == "`" or len(value) > 3):
            return _quoted(value[len(quote) :] + line_end, quote, lines)
    value = value.strip()
    if value.endswith("\\"):
        return _continued(value[:-1], lines)
    comment = min((i for i in (value.find("#"), value.find(";")) if i >= 0), default=-1)
    if comment >= 0:
        value = value[:comment].rstrip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _quoted(first: str, quote: str, lines: _Lines) -> str:
    """A backtick or triple-quoted value: up to the last closing quote, over lines if need be."""
    end = first.rfind(quote)
    if end >= 0:
        return first[:end]
    start, text = lines.number, first
    while (following := lines.next()) is not None:
        end = following.rfind(quote)
        if end >= 0:
            return text + following[:end]
        text += following
    raise LineError(start, f"a value opened with {quote} is never closed")


def _continued(value: str, lines: _Lines) -> str:
    while (following := lines.next()) is not None:
        following = following.strip()
        if not following:
            break
        value += following
        if not value.endswith("\\"):
            break
        value = value[:-1]
    return value


def _resolve(keys: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    return {key: _references(key, value, keys, defaults) for key, value in keys.items()}


def _references(key: str, value: str, keys: dict[str, str], defaults: dict[str, str]) -> str:
    for _ in range(_MAX_REFERENCE_DEPTH):
        found = _REFERENCE.search(value)
        if found is None:
            break
        name = found.group(1)
        target = keys.get(name) if name != key else None
        if target is None:
            target = defaults.get(name)
            if target is None:
                break  # an unknown reference stays as written, as in ini.v1
        value = value.replace(found.group(0), target)
    return value
