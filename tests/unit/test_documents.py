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


LIST = """apiVersion: v1
kind: List
items:
- kind: Secret
  metadata: {name: s}
  data: {a: PHBhdGg6diNrPg==}
- kind: ConfigMap
  metadata: {name: c}
"""


def test_the_items_of_a_list_are_documents_of_their_own() -> None:
    first, second = _load(LIST)
    assert (first.kind, first.name, second.kind, second.name) == ("Secret", "s", "ConfigMap", "c")
    assert first.chunk is second.chunk
    assert first.item is not None and second.item is not None
    assert (first.item.index, second.item.index) == (0, 1)
    assert first.item.container["kind"] == "List"
    assert second.describe() == "f0.yaml (document 1, line 1) items[1] ConfigMap/c"


@pytest.mark.parametrize("kind", ["List", "SecretList", "Anything"])
def test_any_object_whose_items_is_a_list_is_a_list(kind: str) -> None:
    # unstructured.IsList, what Argo CD's repo-server flattens: the kind does not matter.
    (doc,) = _load(f"kind: {kind}\nitems:\n- {{kind: ConfigMap, data: {{a: '<path:v#k>'}}}}\n")
    assert doc.kind == "ConfigMap" and doc.item is not None


def test_an_empty_list_stays_one_document() -> None:
    (doc,) = _load("kind: List\nitems: []\nmetadata: {annotations: {x: '<path:v#k>'}}\n")
    assert doc.kind == "List" and doc.item is None


def test_list_problems_are_reported_with_their_item() -> None:
    text = (
        "kind: List\nmetadata:\n  annotations:\n    avp.kubernetes.io/ignore: 'true'\n"
        "items:\n- [a]\n- {metadata: {name: n}}\n- {kind: ConfigMap, data: {a: '<path:v#k>'}}\n"
    )
    with pytest.raises(ManifestParseError) as caught:
        _load(text)
    assert list(caught.value.details()) == [
        "f0.yaml (document 1, line 1) List/?: avp.kubernetes.io/ignore on a List acts on nothing:"
        " Argo CD applies the List's items, each on its own; annotate the items instead",
        "f0.yaml (document 1, line 1) items[0]: a List item must be a mapping (an object), not a"
        " list",
        "f0.yaml (document 1, line 1) items[1]: Object 'Kind' is missing",
    ]


def test_a_parse_error_in_a_helm_template_says_it_was_not_rendered() -> None:
    template = 'kind: ConfigMap\nmetadata:\n  labels:\n    {{- include "x" . }}\n'
    with pytest.raises(ManifestParseError) as caught:
        _load("kind: ConfigMap\ndata: {a: '{{ fine }}'}\n", template, "a: [\n")
    assert str(caught.value) == "2 problems in the input"
    *problems, hint = caught.value.details()
    assert [p.split(":")[0] for p in problems] == [
        "f1.yaml (document 1, line 4)",
        "f2.yaml (document 1, line 2)",
    ]
    # only the failing source that holds {{ gets the hint; f0 parsed, f2 has no braces
    assert hint.startswith("f1.yaml holds Helm template syntax ({{ ... }}) that was not rendered")
    assert hint.endswith("in Argo CD use the Helm plugin argocd-vault-plugin-helm")


def test_no_helm_hint_without_template_syntax() -> None:
    with pytest.raises(ManifestParseError) as caught:
        _load("kind: X\nspec: [unclosed\n")
    assert list(caught.value.details()) == []
