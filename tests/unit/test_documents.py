"""From sources to documents: parse only what needs it, check kinds, skip non-resources (D3)."""

from __future__ import annotations

import pytest

from avp_py.documents import load
from avp_py.errors import ManifestParseError
from avp_py.sources import Source
from avp_py.yamlcodec import Limits


def _load(*texts: str, directory: bool = False):
    return load([Source(f"f{i}.yaml", t) for i, t in enumerate(texts)], Limits(), directory)


def test_passthrough_documents_are_not_parsed() -> None:
    (doc,) = _load("kind: CustomResourceDefinition\nspec: {description: '<namespace>'}\n")
    assert doc.body is None


def test_documents_that_may_hold_placeholders_are_parsed() -> None:
    (doc,) = _load("kind: ConfigMap\nmetadata: {name: c}\ndata: {a: '<path:kv#k>'}\n")
    assert doc.body is not None and (doc.kind, doc.name) == ("ConfigMap", "c")
    assert doc.describe() == "f0.yaml (document 1, line 1) ConfigMap/c"


def test_null_documents_are_skipped() -> None:
    assert _load("null\n...\n---\n~\n---\n# only a comment\n") == []


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ManifestParseError) as caught:
        _load("a: b\n", "kind: X\n---\n- a list\n---\nkind: ConfigMap\ndata: ['<path:v#k>'\n")
    assert str(caught.value) == "3 problems in the input"
    details = list(caught.value.details())
    assert details[0] == "f0.yaml (document 1, line 1): Object 'Kind' is missing"
    assert "f1.yaml (document 2, line 3)" in details[1] and "not a list" in details[1]
    assert details[2].startswith("f1.yaml (document 3, line 7): invalid YAML")


def test_documents_with_nothing_to_do_are_still_checked_for_syntax() -> None:
    # Passed through unparsed (D4), but libyaml's parser still runs over them.
    with pytest.raises(ManifestParseError, match=r"f0.yaml \(document 1, line 3\): invalid YAML"):
        _load("kind: X\nspec: [unclosed\n")
