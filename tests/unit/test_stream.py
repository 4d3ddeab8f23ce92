"""Textual splitting of manifest streams and the parse-or-pass-through decision."""

from __future__ import annotations

import pytest

from avp_py.errors import ManifestParseError
from avp_py.stream import Chunk, is_blank, needs_parsing, split


def test_yaml_documents_keep_their_text_and_lines() -> None:
    text = "---\na: 1\n---  # comment\n# only a comment\n---\nkind: X\nb: 2\n"
    chunks = split("f.yaml", text)
    assert [(c.number, c.line, c.text) for c in chunks] == [
        (1, 2, "a: 1\n"),
        (2, 6, "kind: X\nb: 2\n"),
    ]


def test_last_document_needs_no_newline() -> None:
    assert [c.text for c in split("f", "a: 1\n---\nb: 2")] == ["a: 1\n", "b: 2"]


def test_crlf_separators() -> None:
    assert [c.text for c in split("f", "a: 1\r\n---\r\nb: 2\r\n")] == ["a: 1\r\n", "b: 2\r\n"]


@pytest.mark.parametrize("line", ["--- !tag", "---foo", "----"])
def test_invalid_separator_is_fatal(line: str) -> None:
    with pytest.raises(ManifestParseError, match="invalid Yaml document separator"):
        split("f.yaml", f"a: 1\n{line}\nb: 2\n")


def test_dots_are_not_a_separator() -> None:
    assert len(split("f", "a: 1\n...\nb: 2\n")) == 1


def test_json_stream() -> None:
    chunks = split("f.json", '{"kind": "A"}\n  {"kind": "B",\n "x": [1]}')
    assert [(c.line, c.text, c.is_json) for c in chunks] == [
        (1, '{"kind": "A"}', True),
        (2, '{"kind": "B",\n "x": [1]}', True),
    ]


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(ManifestParseError, match=r"f.json, line 2: invalid JSON"):
        split("f.json", '{"a": 1}\n{"b": }')


@pytest.mark.parametrize(
    ("text", "blank"),
    [("", True), ("  \n\n", True), ("# a\n  # b\n", True), ("# a\nx: 1", False), ("x", False)],
)
def test_blank(text: str, blank: bool) -> None:
    assert is_blank(text) is blank


def _chunk(text: str, is_json: bool = False) -> Chunk:
    return Chunk("f", 1, 1, text, is_json)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: CustomResourceDefinition\nspec:\n  description: <namespace>/<name>\n", False),
        ("kind: ConfigMap\ndata:\n  a: <path:v#k>\n", True),
        ("kind: ConfigMap\nmetadata:\n  annotations:\n    avp.kubernetes.io/path: v\n", True),
        ("kind: Secret\ndata:\n  a: PHBhdGg6diNrPg==\n", True),
        ('kind: ConfigMap\ndata:\n  a: "\\x3cpath:v#k>"\n', True),
        ('kind: ConfigMap\ndata:\n  a: "<pa\\\n  th:v#k>"\n', True),
        ("apiVersion: v2\nname: chart\n", True),  # no kind: must be parsed to be checked
        ("{kind: ConfigMap}\n", True),
        # Only a real `kind: Secret` makes a document a Secret; CRDs mention "Secret" a lot.
        ("kind: CustomResourceDefinition\nspec:\n  description: a Secret name\n", False),
        ("kind: 'Secret'\ndata:\n  a: b\n", True),
        ('"kind": Secret # c\n', True),
        ("kind: !!str ConfigMap\n", True),  # not a plain word: parsed to be sure
        ("kind: ConfigMap\nkind: Secret\n", True),  # duplicate keys: parsed, then refused
        ("kind:ConfigMap\n", True),  # a plain scalar, not a key: parsed, then refused
        # A List whose items may be Secrets (base64 placeholders in their data, D12).
        ("kind: List\nitems:\n- kind: Secret\n  data:\n    a: PHBhdGg6diNrPg==\n", True),
        ("kind: SecretList\n'items':\n- kind: Secret\n", True),
        ("kind: List\nitems:\n- kind: ConfigMap\n  data:\n    a: b\n", False),
        ("kind: Thing\nspec:\n  items:\n  - Secret\n", False),  # not a top-level items key
    ],
)
def test_needs_parsing(text: str, expected: bool) -> None:
    assert needs_parsing(_chunk(text)) is expected


def test_json_is_always_parsed() -> None:
    assert needs_parsing(_chunk('{"kind": "A"}', is_json=True))


CM = "kind: ConfigMap\nmetadata:\n  name: x\n"


@pytest.mark.parametrize(
    "text",
    [
        # Issue 11, item 11: what YAML reads but a line-based reader does not (hostile cases
        # `shortcut-*` show each one filled end to end).
        CM + "data:\n  a: !!binary PHBhdGg6diNrPg==\n",
        CM + "data:\n  a: !<tag:yaml.org,2002:binary> PHBhdGg6diNrPg==\n",
        CM + "data:\n  - !local x\n",
        CM + "data: [1, !!str x]\n",
        CM + "data: {a: !!str x}\n",
        "!!str kind: Secret\n",
        CM + "! kind: Secret\n",
        CM + "&a kind: Secret\n",
        CM + "? kind\n: Secret\n",
        CM + "*a : Secret\n",
        CM + "<<: {kind: Secret}\n",
        CM + "[kind]: Secret\n",
        "  kind: ConfigMap\n  data: {}\n",
        "# Source: x\n{kind: Secret}\n",
        "apiVersion: v1\x85kind: ConfigMap\n",
        "apiVersion: v1\u2028kind: ConfigMap\n",
        "apiVersion: v1\u2029kind: ConfigMap\n",
        "apiVersion: v1\rkind: ConfigMap\n",
    ],
)
def test_what_yaml_reads_but_lines_do_not_is_parsed(text: str) -> None:
    assert needs_parsing(_chunk(text))


@pytest.mark.parametrize(
    "text",
    [
        # ... and what stays on the fast path: `!` inside text, CRLF, comments first.
        CM + "spec:\n  rule: '!has(self.x) || self.a != self.b'\n",
        CM + "data:\n  expr: |\n    sum(x)\n      != 1\n",
        CM + "data:\n  a: Hello!\n",
        CM.replace("\n", "\r\n"),
        "# Source: chart/templates/cm.yaml\n" + CM,
        CM + "data:\n  a: 'x\n    kind: ok'\n",
    ],
)
def test_plain_documents_stay_on_the_fast_path(text: str) -> None:
    assert not needs_parsing(_chunk(text))
