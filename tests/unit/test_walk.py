"""Traversal of parsed objects and copy-on-write edits."""

from __future__ import annotations

from avp_py.model import YamlNode
from avp_py.walk import DELETE, Leaf, apply_edits, iter_keys, iter_strings, render_path

DOC: dict[str, YamlNode] = {
    "a": "x",
    "b": {"c": ["y", {"d": "z"}, [["w"]]], "n": 1},
    "e": None,
}


def test_strings_in_document_order_with_paths() -> None:
    assert list(iter_strings(DOC)) == [
        Leaf(("a",), "x", True),
        Leaf(("b", "c", 0), "y", False),
        Leaf(("b", "c", 1, "d"), "z", True),
        Leaf(("b", "c", 2, 0, 0), "w", False),
    ]


def test_keys() -> None:
    assert [key for _, key in iter_keys(DOC)] == ["a", "b", "e", "c", "n", "d"]


def test_edits_copy_only_what_changes() -> None:
    edited = apply_edits(DOC, {("a",): 5, ("b", "c", 1, "d"): DELETE})
    assert edited == {"a": 5, "b": {"c": ["y", {}, [["w"]]], "n": 1}, "e": None}
    assert DOC["a"] == "x"  # the original is untouched
    assert isinstance(edited, dict)
    assert edited["e"] is DOC["e"]


def test_key_order_is_kept_when_editing() -> None:
    edited = apply_edits({"z": "1", "a": "2"}, {("z",): "9"})
    assert isinstance(edited, dict)
    assert list(edited) == ["z", "a"]


def test_render_path() -> None:
    assert render_path(("spec", "containers", 0, "env", 1, "value")) == (
        "spec.containers[0].env[1].value"
    )
    assert render_path(("metadata", "annotations", "a.b/c")) == 'metadata.annotations["a.b/c"]'
    assert render_path(()) == "(document)"
