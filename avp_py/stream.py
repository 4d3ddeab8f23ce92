"""Split a YAML or JSON stream into documents, textually, the way AVP's decoder does (§1.4).

Splitting is line based and never parses: a big chart's CRDs with nothing to replace are
passed through untouched (decision D4), so only documents that *can* hold a placeholder pay
for parsing. :func:`needs_parsing` is that cheap, conservative test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from avp_py.errors import ManifestParseError

_COMMENT_OR_BLANK = re.compile(r"(?:[ \t]*(?:#[^\n]*)?(?:\r?\n|\Z))*\Z")
# A top-level `kind` line: block style, column 0, the key optionally quoted.
_KIND_KEYS = ("kind", '"kind"', "'kind'")
_KIND_LINE = re.compile(r"""(?:kind|"kind"|'kind')[ \t]*:(?:[ \t]|$)""")
# A top-level `items` line: the document may be a List, whose items may be Secrets.
_ITEMS_KEYS = ("items", '"items"', "'items'")
_ITEMS_LINE = re.compile(r"""(?:items|"items"|'items')[ \t]*:(?:[ \t]|$)""")
_SIMPLE_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Escapes that could spell '<', '/', '.' or a letter inside a double-quoted YAML/JSON string,
# or join two lines ('\' at a line end): such documents are parsed whatever their text shows.
_ESCAPE = re.compile(r"\\[xuU/\r\n]")
# kustomize.config.k8s.io: a kustomization file is parsed so that directory mode can skip it.
# "u003cpath:": Helm's toJson writes '<path:' as '\u003cpath:' (the escape test below sees it
# too; named here so that no change to that test can lose it).
_MARKERS = ("<path:", "u003cpath:", "avp.kubernetes.io", "kustomize.config.k8s.io")
# A tag (`!!binary`, `!<...>`, `!local`) can hide a placeholder: `!!binary` base64-decodes
# into one, `!!str kind:` is a second kind key (issue 11, item 11). Found by its literal start,
# then kept only where a node starts; CEL's `!has(...)` inside a quoted rule is not one.
_TAG_START = re.compile(r"![!<\w]")
# Line breaks of YAML 1.1 (libyaml, go-yaml v2) that a reader splitting at LF does not see.
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")
# A top-level line starting with an anchor, an alias, an explicit key, a merge key, a flow
# collection or a tag: the top-level keys (`kind` among them) cannot be read line by line.
# One regex: ten times faster than a substring test per character.
_HIDDEN_KEY_LINE = re.compile(r"\n[&*?<{\[!]")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One document's text and where it came from."""

    source: str
    number: int  # 1-based among the source's non-blank documents
    line: int  # 1-based line of the source where the document starts
    text: str
    is_json: bool

    def describe(self) -> str:
        """``file.yaml (document 2, line 14)``: used in every message about this document."""
        return f"{self.source} (document {self.number}, line {self.line})"


def split(source: str, text: str) -> list[Chunk]:
    """The non-blank documents of a stream: JSON mode if it starts with '{', else YAML."""
    if text.startswith("{"):
        return _split_json(source, text)
    return _split_yaml(source, text)


def _split_yaml(source: str, text: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    start, line = 0, 1
    for begin, end in line_starts(text, "---"):
        rest = text[begin + 3 : end].strip()
        if rest and not rest.startswith("#"):
            number = text.count("\n", 0, begin) + 1
            raise ManifestParseError(
                f"{source}, line {number}: invalid Yaml document separator: {rest[:80]}"
            )
        _append(chunks, source, text[start:begin], line)
        line += text.count("\n", start, end) + 1
        start = end + 1
    _append(chunks, source, text[start:], line)
    return chunks


def line_starts(text: str, prefix: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every line that starts with ``prefix``; ``end`` is its newline's index.

    ``str.find`` over a 20 MB stream takes milliseconds where a multi-line regex takes tenths
    of a second, and the stream is scanned for every run.
    """
    position = 0 if text.startswith(prefix) else _next_line_start(text, prefix, 0)
    while position != -1:
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        yield position, end
        position = _next_line_start(text, prefix, end)


def _next_line_start(text: str, prefix: str, start: int) -> int:
    found = text.find("\n" + prefix, start)
    return -1 if found == -1 else found + 1


def _append(chunks: list[Chunk], source: str, body: str, line: int) -> None:
    if body and not is_blank(body):
        chunks.append(Chunk(source, len(chunks) + 1, line, body, is_json=False))


def is_blank(body: str) -> bool:
    """Empty, whitespace-only or comment-only text: a document AVP skips silently."""
    return not body or body.isspace() or _COMMENT_OR_BLANK.match(body) is not None


def _split_json(source: str, text: str) -> list[Chunk]:
    decoder = json.JSONDecoder()
    chunks: list[Chunk] = []
    position = 0
    while True:
        position = _skip_space(text, position)
        if position >= len(text):
            return chunks
        try:
            _, end = decoder.raw_decode(text, position)
        except (json.JSONDecodeError, RecursionError) as exc:
            line = text.count("\n", 0, getattr(exc, "pos", position)) + 1
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise ManifestParseError(f"{source}, line {line}: invalid JSON: {reason}") from exc
        line = text.count("\n", 0, position) + 1
        chunks.append(Chunk(source, len(chunks) + 1, line, text[position:end], is_json=True))
        position = end


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def needs_parsing(chunk: Chunk) -> bool:
    """False only when the text proves the document holds nothing avp-py acts on.

    A document needs parsing if it may contain an inline placeholder, any ``avp.kubernetes.io``
    annotation (generic mode, ignore, ...), or is possibly a ``Secret`` or a List that may hold
    one (base64-encoded placeholders), or its ``kind`` cannot be read from one plain top-level
    line (it must then be checked), or it uses escapes that could hide any of those. JSON
    documents are always parsed (re-emitted as YAML).
    """
    text = chunk.text
    if chunk.is_json or text.lstrip().startswith(("{", "[")):
        return True
    if any(marker in text for marker in _MARKERS):
        return True
    if "\\" in text and _ESCAPE.search(text):
        return True
    if _structure_is_hidden(text):
        return True
    kind = top_level_kind(text)
    return kind is None or kind == "Secret" or ("Secret" in text and _maybe_a_list(text))


def _maybe_a_list(text: str) -> bool:
    """A top-level ``items`` key: a List, whose items are handled like documents (D12)."""
    return any(
        _ITEMS_LINE.match(text, begin, end)
        for key in _ITEMS_KEYS
        for begin, end in line_starts(text, key)
    )


def _structure_is_hidden(text: str) -> bool:
    """True if YAML could read top-level keys or values that a line-based reader does not see.

    The shortcut reads the ``kind`` from column-0 lines split at LF. A decoy ``kind:`` line can
    sit at column 0 inside a multi-line quoted string, so the real key must never be missed:
    a tag, a CR/NEL/LS/PS line break, an anchored, aliased, explicit or merge key, a flow or
    indented root all make the document parsed. Each test is a C-speed scan of the text.
    """
    if "!" in text and any(_at_node_start(text, m.start()) for m in _TAG_START.finditer(text)):
        return True
    if any(brk in text for brk in _OTHER_BREAKS):
        return True
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True  # a CR that is not part of CRLF
    if _HIDDEN_KEY_LINE.search(text):
        return True
    first = _first_content_line(text)[:1]  # a root at column 0 starts with a key
    return not (first.isalnum() or first in "_\"'")


def _at_node_start(text: str, position: int) -> bool:
    """After a line start, `[`, `{` or `,` (then blanks), or after `:`, `-`, `?` and a blank."""
    before = position - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    if before < 0 or text[before] in "\n[{,":
        return True
    return before < position - 1 and text[before] in ":-?"


def _first_content_line(text: str) -> str:
    """The first line that is neither blank nor a comment ("" if none)."""
    position = 0
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        line = text[position:end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return line
        position = end + 1
    return ""


def top_level_kind(text: str) -> str | None:
    """The ``kind`` of a block-style document, if one plain top-level line states it plainly.

    None when there is no such line, more than one, or a value that is not a simple word (a
    tag, a block scalar, an alias...): the document must then be parsed to know its kind.
    CRDs mention "Secret" all over their descriptions; only a real ``kind: Secret`` counts.
    """
    lines = [
        text[begin:end]
        for key in _KIND_KEYS
        for begin, end in line_starts(text, key)
        if _KIND_LINE.match(text, begin, end)
    ]
    if len(lines) != 1:
        return None
    value = lines[0].split(":", 1)[1].split(" #", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value if _SIMPLE_KIND.fullmatch(value) else None
