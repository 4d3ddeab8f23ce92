"""The write stage: passthrough byte for byte, re-emission with comments, separators."""

from __future__ import annotations

from avp_py.documents import Document
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
