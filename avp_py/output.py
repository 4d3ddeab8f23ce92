"""Write stage: the final manifest stream, built in memory and returned whole (decision D1).

A document with nothing replaced is written exactly as it was read (decision D4); a changed
document is re-emitted as YAML with its key order, after the comment lines that preceded it
(Helm's ``# Source:`` lines stay). Every document is followed by ``---``, as AVP does.

The items of a List are documents of their own (D12); they are written back inside their List:
as it was read if no item changed, else the whole List re-emitted with the changed items in
place (the untouched items keep their keys, order and values, not their comments or quoting).

The stream is counted against ``AVP_MAX_OUTPUT_BYTES`` as it is built, document by document
(issue 11 item 3): writing stops at the document that passes the limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby

from avp_py import yamlcodec
from avp_py.budget import Budget, utf8_size
from avp_py.documents import Document
from avp_py.model import YamlNode

SEPARATOR = "---\n"


def write(
    documents: Sequence[Document], replaced: Mapping[int, YamlNode], budget: Budget | None = None
) -> str:
    """The output stream; ``replaced`` maps a document's position to its new body.

    InputError at the first document that takes the output past the ``budget``'s limit."""
    budget = budget or Budget()
    parts: list[str] = []
    # The items of one List share its chunk, and only they do.
    for _, group in groupby(enumerate(documents), key=lambda pair: pair[1].chunk):
        members = list(group)
        position, document = members[0]
        if document.item is None:
            text = _text(document, replaced.get(position))
        else:
            text = _list_text(document, document.item.container, members, replaced)
        text = text if text.endswith("\n") else text + "\n"
        if budget.add_output(utf8_size(text) + len(SEPARATOR)):
            raise budget.output_too_large(document.chunk.describe())
        parts.append(text)
        parts.append(SEPARATOR)
    return "".join(parts)


def _list_text(
    first: Document,
    container: dict[str, YamlNode],
    members: Sequence[tuple[int, Document]],
    replaced: Mapping[int, YamlNode],
) -> str:
    """A List around its items (``members``: their positions and documents)."""
    changed = {doc.item.index: replaced[at] for at, doc in members if doc.item and at in replaced}
    if not changed:
        return yamlcodec.dump_yaml(container) if _must_reemit(first) else first.chunk.text
    items = container["items"]
    assert isinstance(items, list)
    body = {**container, "items": [changed.get(i, item) for i, item in enumerate(items)]}
    return leading_comments(first.chunk.text) + yamlcodec.dump_yaml(body)


def _text(document: Document, new_body: YamlNode | None) -> str:
    if new_body is not None:
        return leading_comments(document.chunk.text) + yamlcodec.dump_yaml(new_body)
    if _must_reemit(document):
        return yamlcodec.dump_yaml(document.body)
    return document.chunk.text


def _must_reemit(document: Document) -> bool:
    # JSON, and YAML written in flow style at the top: Argo CD's decoder would take an output
    # that starts with '{' for a JSON stream and then fail on our '---' separators.
    if document.body is None:
        return False
    return document.chunk.is_json or document.chunk.text.lstrip().startswith(("{", "["))


def leading_comments(text: str) -> str:
    """The comment and blank lines at the top of a document's text."""
    kept: list[str] = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        kept.append(line if line.endswith("\n") else line + "\n")
    return "".join(line for line in kept if line.strip())
