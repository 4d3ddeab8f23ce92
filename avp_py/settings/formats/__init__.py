"""Readers for the config formats viper reads with a Go parser that Python has no twin of.

Each module follows the Go library viper uses for that format (named in its docstring) and
returns flat ``{key: value}`` strings; a malformed file raises :class:`LineError`, whose text
names the line and the rule broken but never quotes the line: these files hold credentials.
"""

from __future__ import annotations


class LineError(ValueError):
    """A config file line that its format does not accept."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
