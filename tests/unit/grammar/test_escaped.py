"""JSON-escaped placeholders (issue 10 item 1): what Helm's toJson makes of <path:kv#name>."""

from __future__ import annotations

import pytest

from avp_py.grammar import find_escaped, malformed

OPEN, CLOSE = "\\u003c", "\\u003e"


def escaped(text: str) -> str:
    """``text`` with '<' and '>' escaped as Go's json.Marshal writes them."""
    return text.replace("<", OPEN).replace(">", CLOSE)


@pytest.mark.parametrize("generic", [False, True])
@pytest.mark.parametrize(
    ("text", "keyspec", "modifiers"),
    [
        ('{"user":"<path:kv#name>"}', "path:kv#name", []),
        ('{"v":"<path:kv#name#3 | base64encode>"}', "path:kv#name#3", ["base64encode"]),
        ('{"v":"<path:kv#doc | jsonPath {.a[?(@.x==\\"y\\")]}>"}', "path:kv#doc", ["jsonPath"]),
        ('{"v":"a <path:kv#x> b"}', "path:kv#x", []),
    ],
)
def test_escaped_placeholders_are_found_with_their_decoded_text(
    text: str, keyspec: str, modifiers: list[str], generic: bool
) -> None:
    source = escaped(text)
    (placeholder,), problems = find_escaped(source, generic)
    assert problems == []
    assert placeholder.escaped
    assert placeholder.keyspec == keyspec
    assert [call.name for call in placeholder.modifiers] == modifiers
    assert source[placeholder.start : placeholder.end].startswith(OPEN + "path:")
    assert source[placeholder.start : placeholder.end].endswith(CLOSE)


def test_upper_case_escapes_are_json_too() -> None:
    (placeholder,), _ = find_escaped('"\\u003Cpath:kv#n\\u003E"', False)
    assert placeholder.keyspec == "path:kv#n"


def test_generic_escaped_placeholders_only_with_the_annotation() -> None:
    text = escaped('{"user":"<user>","html":"a <b> c"}')
    assert find_escaped(text, False) == ([], [])
    found, problems = find_escaped(text, True)
    assert [p.keyspec for p in found] == ["user", "b"] and problems == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (escaped('"<path:kv/name>"'), "malformed placeholder <path:kv/name>: no '#'"),
        (escaped('"<path:kv#name'), "not closed by '\\u003e' (written JSON-escaped)"),
        ('"\\\\u003cpath:kv#x\\\\u003e"', "is JSON-escaped twice"),
        (escaped('<path:kv#a"b>'), "is not valid JSON string text"),
    ],
)
def test_escaped_text_that_cannot_be_filled_is_named(text: str, problem: str) -> None:
    found, problems = find_escaped(text, False)
    assert found == []
    (reported,) = problems
    assert problem in reported


def test_spaces_in_an_escaped_placeholder_get_the_hint() -> None:
    (placeholder,), _ = find_escaped(escaped('"<path: kv#name>"'), False)
    assert malformed(placeholder, False) == (
        "malformed placeholder <path: kv#name>: spaces inside the placeholder;"
        " did you mean <path:kv#name>? (written JSON-escaped)"
    )


def test_many_escaped_near_misses_are_counted() -> None:
    _, problems = find_escaped(escaped("<path:kv>") * 10_000, False)
    assert len(problems) == 4
    assert problems[-1] == "9997 more malformed JSON-escaped placeholders in this value"
    _, unclosed = find_escaped(OPEN + "path:" * 100_000, False)
    assert len(unclosed) == 1
