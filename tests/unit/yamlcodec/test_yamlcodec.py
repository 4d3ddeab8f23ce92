"""avp_py.yamlcodec: go-yaml v2 typing on the way in, quoting all readers agree on, out."""

from __future__ import annotations

import gc
import math
import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avp_py.errors import ManifestParseError
from avp_py.model import YamlNode
from avp_py.yamlcodec import (
    Limits,
    YamlSyntaxError,
    _tags,
    _yaml_load,
    check_syntax,
    dump_yaml,
    load_json,
    load_yaml,
    needs_quotes,
)

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# --------------------------------------------------------------------------------------------
# Loading: the typing table of go-yaml v2 (plain scalars), then the JSON step.

PLAIN_TYPING: list[tuple[str, YamlNode]] = [
    # bool (YAML 1.1 as go-yaml v2 has it, including y/n)
    *[
        (word, True)
        for word in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]
    ],
    *[
        (word, False)
        for word in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]
    ],
    ("yES", "yES"),
    ("tRUE", "tRUE"),
    ("oN", "oN"),
    ("yes please", "yes please"),
    # null
    ("~", None),
    ("null", None),
    ("Null", None),
    ("NULL", None),
    ("nULL", "nULL"),
    # int: '_' removed, then ParseInt(s, 0, 64)
    ("0", 0),
    ("-0", 0),
    ("+1", 1),
    ("42", 42),
    ("0755", 493),
    ("-0755", -493),
    ("0o17", 15),
    ("0O17", 15),
    ("0x1F", 31),
    ("0X1f", 31),
    ("-0x10", -16),
    ("0b101", 5),
    ("-0b101", -5),
    ("0b-101", -5),  # resolve.go retries ParseInt(plain[2:], 2, 64), which takes a sign
    ("1_000", 1000),
    ("1__0", 10),
    ("+_1", 1),
    ("_1", "_1"),
    ("0x", "0x"),
    ("0o", "0o"),
    ("0b", "0b"),
    ("0b2", "0b2"),
    ("0x1g", "0x1g"),
    (str(INT64_MAX), INT64_MAX),
    (str(INT64_MIN), INT64_MIN),
    # beyond int64: uint64 or float in go-yaml, a float after the JSON step
    ("9223372036854775808", 9223372036854775808.0),
    ("18446744073709551615", 18446744073709551615.0),
    ("18446744073709551616", 1.8446744073709552e19),
    ("-9223372036854775809", -9.223372036854776e18),
    # float: yamlStyleFloat, then integral values become ints
    ("1e3", 1000),
    ("1E3", 1000),
    ("1.0", 1),
    ("1.", 1),
    ("-1.5", -1.5),
    ("1.5", 1.5),
    (".5", 0.5),
    ("-.5", -0.5),
    ("+.5", 0.5),
    ("08", 8),
    ("09.5", 9.5),
    ("1e-5", 1e-05),
    ("6.02e23", 6.02e23),
    ("1_000.5", 1000.5),
    (".5_5", 0.55),  # '.' hint: ParseFloat on the raw text, '_' between digits allowed
    ("._5", "._5"),
    (".5_", ".5_"),
    ("1e999", "1e999"),  # ParseFloat's range error: a string
    (".5e999", ".5e999"),
    ("1e-999", 0),
    ("-0.0", 0),
    ("4611686018427387904.0", 4611686018427388000),  # Go marshals the shortest digits
    ("0x1p-2", "0x1p-2"),
    ("1e3.5", "1e3.5"),
    (".", "."),
    ("+", "+"),
    (".Nan", ".Nan"),
    ("1.2.3", "1.2.3"),
    # timestamps and base 60 stay strings
    ("2001-12-14", "2001-12-14"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("2001-12-14 21:59:43.10", "2001-12-14 21:59:43.10"),
    ("1:20", "1:20"),
    ("190:20:30.15", "190:20:30.15"),
    # others
    ("<<", "<<"),
    ("=", "="),
    ("hello world", "hello world"),
    ("10Gi", "10Gi"),
    ("500m", "500m"),
]


@pytest.mark.parametrize(("text", "expected"), PLAIN_TYPING)
def test_plain_scalar_typing(text: str, expected: YamlNode) -> None:
    value = load_yaml(f"v: {text}\n")
    assert isinstance(value, dict)
    assert value["v"] == expected
    assert type(value["v"]) is type(expected)


@pytest.mark.parametrize("text", [text for text, _ in PLAIN_TYPING])
@pytest.mark.parametrize("quote", ["'", '"'])
def test_quoted_scalars_are_untouched(text: str, quote: str) -> None:
    assert load_yaml(f"v: {quote}{text}{quote}\n") == {"v": text}


def test_empty_plain_value_is_null() -> None:
    assert load_yaml("v:\nw: ''\n") == {"v": None, "w": ""}


def test_block_scalars_are_strings() -> None:
    assert load_yaml("a: |\n  yes\nb: >-\n  1e3\n") == {"a": "yes\n", "b": "1e3"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true: a", {"true": "a"}),
        ("yes: a", {"true": "a"}),
        ("n: a", {"false": "a"}),
        ("1: a", {"1": "a"}),
        ("0x10: a", {"16": "a"}),
        ("1.5: a", {"1.5": "a"}),
        ("1.0: a", {"1": "a"}),
        ("0.1: a", {"0.1": "a"}),
        ("1e6: a", {"1e+06": "a"}),
        ("3.14159265358979: a", {"3.1415927": "a"}),  # FormatFloat(k, 'g', -1, 32)
        (".inf: a", {".inf": "a"}),
        ("-.inf: a", {"-.inf": "a"}),
        (".nan: a", {".nan": "a"}),
        ("0.0: a", {"0": "a"}),
        ("-0.0: a", {"-0": "a"}),
        ("1e39: a", {".inf": "a"}),  # beyond float32
        ("1.5e-7: a", {"1.5e-07": "a"}),
        ("2001-12-14: a", {"2001-12-14": "a"}),
        ("'1': a", {"1": "a"}),
        ("!!str 1: a", {"1": "a"}),
        ("'<<': a", {"<<": "a"}),
    ],
)
def test_map_keys_become_strings(text: str, expected: YamlNode) -> None:
    assert load_yaml(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: !!str 123", "123"),
        ("v: !!str yes", "yes"),
        ('v: !!int "12"', 12),
        ("v: !!int 0x10", 16),
        ("v: !!float 1", 1),
        ("v: !!float 1.5", 1.5),
        ("v: !!bool yes", True),
        ("v: !!null ''", None),
        ("v: !!binary aGVsbG8=", "hello"),
        ("v: !!binary |\n  aGVs\n  bG8=\n", "hello"),
        ("v: !!timestamp 2001-12-14", "2001-12-14"),
        ("v: !!timestamp 2001-12-14T21:59:43.10+05:00", "2001-12-14T21:59:43.10+05:00"),
        ("v: !!timestamp 2001-1-2t1:2:3Z", "2001-1-2t1:2:3Z"),
        ("v: !!timestamp 2001-12-14   21:59:43,5", "2001-12-14   21:59:43,5"),
        ("v: !!timestamp 2000-02-29", "2000-02-29"),
        ("v: !!map {a: 1}", {"a": 1}),
        ("v: !!seq [1]", [1]),
        ("v: ! {a: 1}", {"a": 1}),
        ("v: !!merge <<", "<<"),
    ],
)
def test_explicit_tags_are_honoured(text: str, expected: YamlNode) -> None:
    assert load_yaml(text) == {"v": expected}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # go-yaml v2 cannot resolve these tags and reads the node as if untagged: a scalar is
        # its text (never typed), a collection is read as one (kubectl 1.32 agrees).
        ("v: !custom val", "val"),
        ("v: !custom 5", "5"),
        ("v: !custom true", "true"),
        ("v: !custom ~", "~"),
        ("v: !custom", ""),
        ("v: !custom |\n  5\n", "5\n"),
        ("v: !custom {a: 1}", {"a": 1}),
        ("v: !custom [1, x]", [1, "x"]),
        ("v: !<tag:example.com,2000:y> v", "v"),
        ("v: !!python/object:os.system 5", "5"),
        ("v: !!python/object/apply:os.system [touch]", ["touch"]),
        ("v: !!map 5", "5"),
        ("v: !!set {a: null}", {"a": None}),
        ("v: !!str {a: 1}", {"a": 1}),
        ("v: !!int [1]", [1]),
        ("v: !!merge x", "x"),
        ("v: {!!merge x: 1}", {"x": 1}),
        ("v: {!custom <<: {a: 1}}", {"<<": {"a": 1}}),
        ("v: {<<: !custom {a: 1}, b: 2}", {"a": 1, "b": 2}),
        ("v: {<<: !custom [{a: 1}, {b: 2}]}", {"a": 1, "b": 2}),
        ("v: !custom &a x\nw: *a", "x"),
    ],
)
def test_unresolvable_tags_read_as_untagged(text: str, expected: YamlNode) -> None:
    value = load_yaml(text)
    assert isinstance(value, dict)
    assert value["v"] == expected


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("/w==", "\ufffd"),  # ff
        ("4pw=", "\ufffd\ufffd"),  # e2 9c: a truncated sequence, one U+FFFD per byte as in Go
        ("7aCA", "\ufffd\ufffd\ufffd"),  # an encoded surrogate
        ("4pyT/w==", "\u2713\ufffd"),
        ("9JCAgA==", "\ufffd" * 4),  # beyond U+10FFFF
    ],
)
def test_binary_that_is_not_utf8_gets_replacement_characters_as_in_go(
    encoded: str, expected: str
) -> None:
    assert load_yaml(f"v: !!binary {encoded}") == {"v": expected}


@pytest.mark.parametrize(
    "text",
    ["a: [x, 'y?', \"z?\"]\n", "a: x?y\n", "a: [?x]\n", "a: {? k: v}\n", "a: |\n  [ready?]\n"],
)
def test_question_marks_go_yaml_reads(text: str) -> None:
    load_yaml(text)
    check_syntax(text)


@pytest.mark.parametrize("text", ["a: [x?y]\n", "a: {k: x?y}\n", "a: [b,\n  c?d]\n"])
def test_passed_through_documents_are_checked_for_question_marks_in_flow(text: str) -> None:
    with pytest.raises(YamlSyntaxError, match="did not find expected ','"):
        check_syntax(text)


def test_question_marks_in_flow_are_found_after_other_question_marks() -> None:
    # The hint looks only at lines holding a '?': earlier ones that are fine must not hide it.
    text = "# why?\nurl: http://x/?a=b\nitems: [a, b]\nlist: [c,\n  d?e]\n"
    with pytest.raises(YamlSyntaxError, match="did not find expected ','"):
        check_syntax(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="ab ?,[]{}#'\"\n\t:", max_size=60))
def test_the_flow_question_hint_is_the_pattern_searched_over_the_whole_text(text: str) -> None:
    expected = _yaml_load._FLOW_QUESTION.search(text) is not None
    assert _yaml_load._flow_question_hint(text) is expected


def test_merge_keys() -> None:
    text = (
        "base: &b {a: 1, b: 2}\n"
        "other: &o {b: 20, c: 30}\n"
        "m:\n  <<: *b\n  b: 3\n"
        "before:\n  a: 0\n  <<: *b\n"
        "seq:\n  <<: [*b, *o]\n"
        "inline:\n  <<: {x: 1}\n  w: 2\n"
        "tagged:\n  !!merge <<: *b\n"
    )
    value = load_yaml(text)
    assert isinstance(value, dict)
    assert value["m"] == {"a": 1, "b": 3}
    assert value["before"] == {"a": 1, "b": 2}  # go-yaml v2: a later merge overwrites
    assert value["seq"] == {"b": 2, "c": 30, "a": 1}  # earlier mappings in the list win
    assert value["inline"] == {"x": 1, "w": 2}
    assert value["tagged"] == {"a": 1, "b": 2}


def test_aliases_expand_to_independent_copies() -> None:
    value = load_yaml("a: &x [1, {k: v}]\nb: *x\nc: &s text\nd: *s\n")
    assert value == {"a": [1, {"k": "v"}], "b": [1, {"k": "v"}], "c": "text", "d": "text"}
    assert isinstance(value, dict)
    assert value["a"] is not value["b"]


@pytest.mark.parametrize(
    "text", ["", "\n", "# only a comment\n", "null", "~", "---\n", "--- # c\n...\n"]
)
def test_empty_documents_are_none(text: str) -> None:
    assert load_yaml(text) is None


@pytest.mark.parametrize(
    ("text", "expected"), [("foo", "foo"), ("123", 123), ("[1, a]", [1, "a"]), ("1.5", 1.5)]
)
def test_any_node_can_be_the_document(text: str, expected: YamlNode) -> None:
    assert load_yaml(text) == expected


def test_key_order_is_the_document_order() -> None:
    value = load_yaml("z: 1\na: 2\nm: {x: 1, b: 2}\n")
    assert isinstance(value, dict)
    assert list(value) == ["z", "a", "m"]
    assert isinstance(value["m"], dict)
    assert list(value["m"]) == ["x", "b"]


# --------------------------------------------------------------------------------------------
# Loading errors: messages carry the line and never the document's values.

SECRET = "s3cr3t-Value"

YAML_ERRORS: list[tuple[str, int | None, str]] = [
    ("k: v\nname: x\nname: y\n", 3, 'duplicate key "name"'),
    ("true: 1\nyes: 2\n", 2, 'duplicate key "true"'),
    ("1: a\n'1': b\n", 2, 'duplicate key "1"'),
    ("a:\n\tb: 1\n", 2, "found character '\\t' that cannot start any token"),
    ("a: b\nc: \x07x\n", 2, "found unacceptable character #x0007: control characters"),
    ("a: !!int b\n", 1, "cannot decode !!str as a !!int"),
    ("a: !!float 18446744073709551615\n", 1, "cannot decode !!int as a !!float"),
    ("a: !!bool 1\n", 1, "cannot decode !!int as a !!bool"),
    ("a: !!null x\n", 1, "cannot decode !!str as a !!null"),
    ("a: !!timestamp 2001-02-30\n", 1, "cannot decode !!str as a !!timestamp"),
    ("a: !!timestamp 1900-02-29\n", 1, "cannot decode !!str as a !!timestamp"),
    ("a: !!timestamp 2001-12-14T24:00:00Z\n", 1, "cannot decode !!str as a !!timestamp"),
    ("a: !!timestamp 2001-12-14T23:00:00+25:00\n", 1, "cannot decode !!str as a !!timestamp"),
    ("a: !!timestamp 2001-12-14 21:59:43.10 -5\n", 1, "cannot decode !!str as a !!timestamp"),
    ("a: !!timestamp 12\n", 1, "cannot decode !!int as a !!timestamp"),
    ("a: !!binary abc\n", 1, "!!binary value contains invalid base64 data"),
    ("a: .inf\n", 1, "json: unsupported value: +Inf"),
    ("a:\n- -.Inf\n", 2, "json: unsupported value: -Inf"),
    ("a: {b: .nan}\n", 1, "json: unsupported value: NaN"),
    ("~: x\n", 1, "unsupported map key of type null"),
    ("18446744073709551615: x\n", 1, "unsupported map key of type uint64"),
    ("? [a]\n: b\n", 1, "a mapping key must be a scalar"),
    ("a: &x [*x]\n", 1, "an alias refers to itself"),
    ("a: *x\n", 1, "found undefined alias"),
    ("a: &x 1\nb: &x 2\n", 2, "found duplicate anchor (first defined at line 1)"),
    ("<<: [1]\n", 1, "map merge requires map or sequence of maps"),
    ("<<: x\n", 1, "map merge requires map or sequence of maps"),
    ("a:\n  b: 1\n c: 2\n", 3, "did not find expected key"),
    ("a: 1\n---\nb: 2\n", 2, "but found another document"),
    ("a: 1\n...\nb: 2\n", 3, "did not find expected <document start>"),
    # go-yaml v2 ends a plain scalar at '?' inside a flow collection (issue 10 item 8)
    ("a: [x?y]\n", 1, "did not find expected ',' or ']'"),
    ("a: {k: x?y}\n", 1, "did not find expected ',' or '}'"),
    ("a: {x?y: v}\n", 1, "did not find expected ',' or '}'"),
    ("a: [b, [c?]]\n", 1, "did not find expected ',' or ']'"),
    ("a: [\n  b,\n  x ?y\n]\n", 3, "did not find expected ',' or ']'"),
    ("[x?]\n", 1, "did not find expected ',' or ']'"),
    ("a: \ud800\n", 1, "not valid Unicode"),
]


@pytest.mark.parametrize(("text", "line", "message"), YAML_ERRORS)
def test_yaml_errors_name_the_problem_and_line(text: str, line: int | None, message: str) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml(text)
    assert message in str(caught.value)
    assert caught.value.line == line
    assert isinstance(caught.value, ManifestParseError)


@pytest.mark.parametrize(
    "text",
    [
        f'password: "{SECRET}\n',
        f"password: {SECRET}\npassword: {SECRET}\n",
        f"password: !!int {SECRET}\n",
        f"password: [{SECRET}?]\n",
        f"password: {SECRET}\x07\n",
        f"a:\n\tpassword: {SECRET}\n",
        f"password: [{SECRET}\n",
        f"password: {SECRET}\n bad: indent\n",
        f"password: !!binary {SECRET}\n",
    ],
)
def test_error_messages_never_show_values(text: str) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml(text)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.args)


def billion_laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def visits(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Work done by the loader, counted: ``children`` (the expansion check enumerating a node's
    children) and ``collections`` (collections the builder built)."""
    counted = {"children": 0, "collections": 0}
    children, collection = _yaml_load._children, _yaml_load._Builder._collection

    def counting_children(node: Any) -> Any:
        counted["children"] += 1
        return children(node)

    def counting_collection(self: Any, node: Any, depth: int) -> Any:
        counted["collections"] += 1
        return collection(self, node, depth)

    monkeypatch.setattr(_yaml_load, "_children", counting_children)
    monkeypatch.setattr(_yaml_load._Builder, "_collection", counting_collection)
    return counted


def test_alias_bomb_is_rejected_fast(visits: dict[str, int]) -> None:
    with pytest.raises(YamlSyntaxError, match="more than 1000000 nodes"):
        load_yaml(billion_laughs(9))
    # 9**9 nodes once expanded; rejected after looking at its 10 distinct collections, at most
    # twice each, and before building anything
    assert visits["collections"] == 0
    assert visits["children"] <= 2 * 10


def test_merge_bomb_is_rejected_fast(visits: dict[str, int]) -> None:
    lines = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
    for level in range(1, 12):
        refs = ", ".join([f"*m{level - 1}"] * 9)
        lines.append(f"m{level}: &m{level} {{<<: [{refs}], x{level}: [{refs}]}}")
    with pytest.raises(YamlSyntaxError, match="more than"):
        load_yaml("\n".join(lines))
    # 35 distinct collections (the root, m0, three per level), at most twice each, none built
    assert visits["collections"] == 0
    assert visits["children"] <= 2 * 35


def test_aliases_below_the_limit_are_expanded() -> None:
    value = load_yaml(billion_laughs(4))  # 9**4 strings, about 8k nodes
    assert isinstance(value, dict)
    assert len(value["l3"]) == 9


def test_node_limit_counts_expanded_nodes() -> None:
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a, *a]\n"
    assert load_yaml(text, Limits(max_nodes=40)) is not None
    with pytest.raises(YamlSyntaxError, match="more than 20 nodes"):
        load_yaml(text, Limits(max_nodes=20))


def test_node_limit_without_aliases() -> None:
    text = "a: [" + ", ".join(["1"] * 50) + "]\n"
    with pytest.raises(YamlSyntaxError, match="more than 30 nodes"):
        load_yaml(text, Limits(max_nodes=30))


def test_builder_counts_expanded_nodes_by_itself(visits: dict[str, int]) -> None:
    # The alias pre-check is skipped when no alias token is found; the builder still counts.
    root = _tags.Composer(billion_laughs(9)).get_single_node()
    assert root is not None
    with pytest.raises(YamlSyntaxError, match="more than 10000 nodes"):
        _yaml_load._Builder(Limits(max_nodes=10_000)).run(root)
    # every collection here holds 9 items (10 nodes): stopped at the limit, not expanded further
    assert visits["collections"] <= 10_000 // 10 + 1


def test_the_garbage_collector_is_left_as_it_was() -> None:
    assert gc.isenabled()
    load_yaml("a: 1\n")
    with pytest.raises(YamlSyntaxError):
        load_yaml("a: [\n")
    assert gc.isenabled()
    gc.disable()
    try:
        load_yaml("a: 1\n")
        assert not gc.isenabled()
    finally:
        gc.enable()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_limit() -> None:
    assert load_yaml(nested(200)) is not None
    with pytest.raises(YamlSyntaxError, match="nested deeper than 200 levels"):
        load_yaml(nested(201))


def test_nesting_limit_counts_block_mappings_and_aliases() -> None:
    block = "".join(" " * level + "k:\n" for level in range(8)) + " " * 8 + "k: v\n"
    assert load_yaml(block, Limits(max_depth=9)) is not None
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml(block, Limits(max_depth=8))
    assert caught.value.line == 9
    aliased = "a: &a [[[x]]]\nb: [[*a]]\n"
    assert load_yaml(aliased, Limits(max_depth=6)) is not None
    with pytest.raises(YamlSyntaxError, match="nested deeper"):
        load_yaml(aliased, Limits(max_depth=5))


def test_deep_nesting_beyond_the_recursion_limit_builds() -> None:
    value = load_yaml(nested(950), Limits(max_depth=1000))
    for _ in range(949):
        assert isinstance(value, list)
        value = value[0]
    assert value == []


# --------------------------------------------------------------------------------------------
# JSON


def test_json_numbers_follow_go() -> None:
    text = (
        '{"int": 1, "float": 1.5, "integral": 1.0, "exp": 1e3, "neg0": -0, "big": '
        '12345678901234567890, "huge": 1234567890123456789012345, '
        '"max": 9223372036854775807, "tiny": 1e-7, "n": null, '
        '"t": true, "s": "x"}'
    )
    value = load_json(text)
    assert value == {
        "int": 1,
        "float": 1.5,
        "integral": 1,
        "exp": 1000,
        "neg0": 0,
        "big": 1.2345678901234567e19,
        "huge": 1.2345678901234568e24,
        "max": INT64_MAX,
        "tiny": 1e-07,
        "n": None,
        "t": True,
        "s": "x",
    }
    assert isinstance(value, dict)
    assert [type(value[key]) for key in ("integral", "exp", "big")] == [int, int, float]


def test_json_key_order_is_kept() -> None:
    value = load_json('{"z": 1, "a": {"y": 1, "b": 2}}')
    assert isinstance(value, dict)
    assert list(value) == ["z", "a"]


def test_json_lone_surrogates_become_replacement_characters() -> None:
    value = load_json('{"\\udc00k": ["\\ud800x", "\\ud83d\\ude00"], "s": "\\ud800"}')
    assert value == {"\ufffdk": ["\ufffdx", "\U0001f600"], "s": "\ufffd"}
    assert load_json('"\\udfff"') == "\ufffd"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"a": 1,\n"a": 2}', None, 'duplicate key "a"'),
        ('{"a": NaN}', None, "NaN is not a JSON value"),
        ('{"a": -Infinity}', None, "-Infinity is not a JSON value"),
        ('{"a": 1e400}', None, "cannot unmarshal number into Go value of type float64"),
        ('{\n"a": 1,\n}', 3, "invalid JSON: "),
        ('{"a": "x"} {"b": 1}', 1, "Extra data"),
        ("", 1, "Expecting value"),
        ('{"a": 01}', 1, "invalid JSON: "),
    ],
)
def test_json_errors(text: str, line: int | None, message: str) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_json(text)
    assert message in str(caught.value)
    assert caught.value.line == line


def test_json_error_messages_never_show_values() -> None:
    for text in (f'{{"p": "{SECRET}", "p": 1}}', f'{{"p": "{SECRET}\n"}}', f'{{"p": {SECRET}}}'):
        with pytest.raises(YamlSyntaxError) as caught:
            load_json(text)
        assert SECRET not in str(caught.value)


def test_json_limits() -> None:
    assert load_json(nested(200)) is not None
    with pytest.raises(YamlSyntaxError, match="nested deeper than 200"):
        load_json(nested(201))
    with pytest.raises(YamlSyntaxError, match="more than 10 nodes"):
        load_json("[" + ", ".join(["1"] * 20) + "]", Limits(max_nodes=10))
    with pytest.raises(YamlSyntaxError, match="nested too deeply"):
        load_json(nested(100_000), Limits(max_depth=1_000_000))


# --------------------------------------------------------------------------------------------
# The quoting authority


QUOTED = [
    "",
    "1e3",
    "0755",
    "y",
    "n",
    "1_000",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "null",
    "~",
    "1:20",
    "=",
    "<<",
    "2001-12-14",
    "2001-1-2",
    "2001-12-14 21:59:43.10 -5",
    ".5",
    "0o17",
    "+1",
    ".Inf",
    "-.inf",
    ".nan",
    "1e999",
    "0b1",
    "0b-1",
    "1.",
    "08",
    "0x1F",
    "12",
    "-3.5",
]
PLAIN = ["hello", "nginx", "1.2.3", "v1", "10Gi", "500m", "yes please", "0x", "True story"]


@pytest.mark.parametrize("text", QUOTED)
def test_needs_quotes(text: str) -> None:
    assert needs_quotes(text)


@pytest.mark.parametrize("text", PLAIN)
def test_needs_no_quotes(text: str) -> None:
    assert not needs_quotes(text)


# --------------------------------------------------------------------------------------------
# Emitting


def test_dump_layout() -> None:
    value: YamlNode = {
        "zeta": 1,
        "alpha": {"containers": [{"image": "x", "args": ["--a", "1e3"]}], "empty": {}},
        "list": [],
        "text": "line one\nline two\n",
        "flags": [True, False, None],
        "floats": [1e6, 0.5, 1234567.5, 1e-05, 1e21],
        "quoted": ["0755", "y", "1_000", "2001-12-14", "", "yes"],
        "indicators": ["- a", "#x", "a: b", "*x", "&x", "!x", " lead", "trail "],
        "long": "word " * 40 + "end",
    }
    expected = (
        "zeta: 1\n"
        "alpha:\n"
        "  containers:\n"
        "  - image: x\n"
        "    args:\n"
        "    - --a\n"
        '    - "1e3"\n'
        "  empty: {}\n"
        "list: []\n"
        "text: |\n"
        "  line one\n"
        "  line two\n"
        "flags:\n"
        "- true\n"
        "- false\n"
        "- null\n"
        "floats:\n"
        "- 1000000\n"  # an integral float64 is an integer after Go's json.Marshal
        "- 0.5\n"
        "- 1.2345675e+06\n"
        "- 1.0e-05\n"
        "- 1.0e+21\n"
        "quoted:\n"
        '- "0755"\n'
        '- "y"\n'
        '- "1_000"\n'
        '- "2001-12-14"\n'
        '- ""\n'
        '- "yes"\n'
        "indicators:\n"
        "- '- a'\n"
        "- '#x'\n"
        "- 'a: b'\n"
        "- '*x'\n"
        "- '&x'\n"
        "- '!x'\n"
        "- ' lead'\n"
        "- 'trail '\n"
        f"long: {'word ' * 40}end\n"
    )
    assert dump_yaml(value) == expected


def test_dump_keeps_key_order() -> None:
    assert dump_yaml({"b": 1, "a": 2, "c": {"z": 1, "x": 2}}) == "b: 1\na: 2\nc:\n  z: 1\n  x: 2\n"


def test_dump_quotes_keys_too() -> None:
    assert dump_yaml({"yes": 1, "1": 2, "<<": 3, "": 4}) == '"yes": 1\n"1": 2\n"<<": 3\n"": 4\n'


def test_dump_expands_shared_objects() -> None:
    shared: YamlNode = {"a": [1]}
    text = dump_yaml({"p": shared, "q": shared})
    assert "&" not in text
    assert "*" not in text
    assert text == "p:\n  a:\n  - 1\nq:\n  a:\n  - 1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bell\x07", '"bell\\a"'),
        ("tab\there", '"tab\\there"'),
        ("nel\x85", '"nel\\N"'),
        ("ls\u2028ps\u2029", '"ls\\Lps\\P"'),
        ("multi\nline\u2028", '"multi\\nline\\L"'),
        ("bad\ud800", '"bad\ufffd"'),
        ("crlf\r\n", '"crlf\\r\\n"'),
    ],
)
def test_dump_escapes_what_readers_could_change(text: str, expected: str) -> None:
    assert dump_yaml({"v": text}) == f"v: {expected}\n"


def test_dump_non_finite_floats_the_yaml_way() -> None:
    assert dump_yaml([math.inf, -math.inf, math.nan]) == "- .inf\n- -.inf\n- .nan\n"


def test_dump_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="set"):
        dump_yaml({"v": {1, 2}})  # type: ignore[dict-item]  # deliberately not a YamlNode
    with pytest.raises(TypeError, match="int"):
        dump_yaml({1: "v"})  # type: ignore[dict-item]  # deliberately not a YamlNode


def test_dump_deep_nesting() -> None:
    value: YamlNode = []
    for _ in range(3000):
        value = [value]
    text = dump_yaml(value)
    assert text.startswith("- - - ")


# --------------------------------------------------------------------------------------------
# Round trip: every reader sees exactly the values we meant.

SPECIALS = [
    ": ",
    "#",
    " #",
    "- ",
    "-",
    "*",
    "&",
    "!",
    "%",
    "@",
    "`",
    "|",
    ">",
    "'",
    '"',
    "?",
    "? ",
    "{",
    "[",
    ",",
    "---",
    "...",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "~",
    "null",
    "<<",
    "=",
    "0755",
    "0o17",
    "0x1F",
    "0b-1",
    "1e3",
    "1_000",
    ".5",
    "1.",
    "+1",
    ".inf",
    ".NaN",
    "1:20",
    "2001-12-14",
    "2001-1-2",
    "2001-12-14 21:59:43.10 -5",
    "\n",
    "\r",
    "\t",
    " ",
    "\x00",
    "\x85",
    "\u2028",
    "\ufeff",
    "\U0001f600",
    "é",
]
special_text = st.sampled_from(SPECIALS)
texts = st.one_of(
    st.text(max_size=12),
    special_text,
    st.lists(st.one_of(special_text, st.text(max_size=3)), max_size=5).map("".join),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=INT64_MIN, max_value=INT64_MAX),
    # The JSON step turns an integral float into Go's shortest-digit int64 (see
    # test_plain_scalar_typing), which is not the same number between 2**53 and 2**63; the
    # writer does the same up to uint64 (2**63 is written 9223372036854776000, as Go does).
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: not f.is_integer() or abs(f) < 2**53 or f <= -(2**63) or f >= 2**64
    ),
    texts,
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=24,
)


class Yaml12CoreLoader(yaml.SafeLoader):
    """PyYAML's reader with the YAML 1.2 core schema's tag resolution (spec 1.2.2, 10.3.2)."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _pattern, _first in [
    ("null", r"^(?:null|Null|NULL|~|)$", "nN~"),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$",
        "-+0123456789.",
    ),
]:
    Yaml12CoreLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}",
        re.compile(_pattern),
        [*_first, ""] if _tag == "null" else [*_first],
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_round_trip_through_every_reader(value: YamlNode) -> None:
    text = dump_yaml(value)
    assert text.endswith("\n")
    assert load_yaml(text) == value  # go-yaml v2 rules
    assert yaml.safe_load(text) == value  # PyYAML, YAML 1.1, pure-Python reader
    assert yaml.load(text, Loader=yaml.CSafeLoader) == value  # PyYAML with libyaml
    assert yaml.load(text, Loader=Yaml12CoreLoader) == value  # YAML 1.2 core schema


@pytest.mark.parametrize("text", ["|\n  *0\n", "'*a &b'\n", '"*x"\n'])
def test_a_scalar_document_with_alias_like_text(text: str) -> None:
    # Found by the round-trip property: the alias pre-check walked a scalar's characters.
    assert isinstance(load_yaml(text), str)
