"""The write stage: passthrough byte for byte, re-emission with comments, separators."""

from __future__ import annotations

import pytest

from avp_py.budget import Budget
from avp_py.documents import Document, ListItem
from avp_py.errors import InputError
from avp_py.output import leading_comments, write
from avp_py.stream import Chunk


def _doc(text: str, body: dict | None = None, is_json: bool = False) -> Document:
    return Document(Chunk("f", 1, 1, text, is_json), body)


def test_untouched_documents_are_written_as_read() -> None:
    text = "kind: X  # odd spacing\nmetadata: {name: a}"
    assert write([_doc(text)], {}) == text + "\n---\n"


def test_replaced_documents_keep_their_leading_comments() -> None:
    doc = _doc("# Source: x.yaml\n\nkind: X\nb: <path:v#k>\n", {"kind": "X", "b": "<path:v#k>"})
    assert (
        write([doc], {0: {"kind": "X", "b": "value"}})
        == "# Source: x.yaml\nkind: X\nb: value\n---\n"
    )


def test_json_and_flow_documents_are_reemitted_as_block_yaml() -> None:
    json_doc = _doc('{"kind": "X"}', {"kind": "X"}, is_json=True)
    flow_doc = _doc("{kind: Z}\n", {"kind": "Z"})
    assert write([json_doc, flow_doc], {}) == "kind: X\n---\nkind: Z\n---\n"


def test_leading_comments() -> None:
    assert leading_comments("# a\n\n  # b\nkind: X\n# c\n") == "# a\n  # b\n"
    assert leading_comments("kind: X\n") == ""


def _items(text: str, container: dict, is_json: bool = False) -> list[Document]:
    chunk = Chunk("f", 1, 1, text, is_json)
    return [
        Document(chunk, item, ListItem(container, i)) for i, item in enumerate(container["items"])
    ]


LIST_TEXT = "# Source: l.yaml\nkind: List\nitems:\n- kind: A  # kept unless re-emitted\n- kind: B\n"
LIST = {"kind": "List", "items": [{"kind": "A"}, {"kind": "B"}]}


def test_a_list_with_nothing_replaced_is_written_as_read() -> None:
    docs = [_doc("kind: X\n"), *_items(LIST_TEXT, LIST), _doc("kind: Y\n")]
    assert write(docs, {}) == "kind: X\n---\n" + LIST_TEXT + "---\nkind: Y\n---\n"


def test_a_list_is_reemitted_around_its_replaced_items() -> None:
    docs = [_doc("kind: X\n"), *_items(LIST_TEXT, LIST), _doc("kind: Y\n")]
    assert write(docs, {2: {"kind": "B", "b": "value"}}) == (
        "kind: X\n---\n# Source: l.yaml\nkind: List\nitems:\n- kind: A\n- kind: B\n  b: value\n"
        "---\nkind: Y\n---\n"
    )


def test_two_lists_in_a_row_stay_two_lists() -> None:
    docs = [*_items(LIST_TEXT, LIST), *_items(LIST_TEXT, LIST)]
    docs[2:] = [Document(Chunk("f", 2, 6, LIST_TEXT, False), d.body, d.item) for d in docs[2:]]
    assert write(docs, {}) == (LIST_TEXT + "---\n") * 2


def test_a_json_list_is_reemitted_as_block_yaml() -> None:
    docs = _items(
        '{"kind": "List", "items": [{"kind": "A"}]}',
        {"kind": "List", "items": [{"kind": "A"}]},
        True,
    )
    assert write(docs, {}) == "kind: List\nitems:\n- kind: A\n---\n"


def test_the_output_limit_is_checked_document_by_document() -> None:
    # Issue 11 item 3: JSON re-emitted as YAML may grow; the exact size is counted as written.
    docs = [Document(Chunk("f", n, n, "kind: X\n", False), None) for n in (1, 2, 3)]
    assert write(docs, {}, Budget(max_output_bytes=36)) == "kind: X\n---\n" * 3
    with pytest.raises(InputError) as caught:
        write(docs, {}, Budget(max_output_bytes=35))
    assert str(caught.value).startswith("f (document 3, line 3): the output would be larger")
