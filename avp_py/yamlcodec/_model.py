"""The codec's own value types: safety limits and the error it raises."""

from __future__ import annotations

from dataclasses import dataclass

from avp_py.errors import ManifestParseError


@dataclass(frozen=True)
class Limits:
    """Safety limits checked on every parsed document."""

    max_nodes: int = 1_000_000  # total nodes after alias expansion (alias bombs)
    max_depth: int = 200  # nesting depth: collections inside collections


DEFAULT_LIMITS = Limits()


class YamlSyntaxError(ManifestParseError):
    """A YAML/JSON text could not be turned into values.

    ``line`` is 1-based, relative to the text given to the codec, or None when unknown. The
    message never quotes the document beyond key names, tag names and anchor-free structure:
    a document may hold secrets anywhere else.
    """

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line
