"""Near misses (D10, issue 10 item 1): text that looks like a placeholder and is none."""

from __future__ import annotations

import pytest

from avp_py.grammar import find_placeholders, malformed, near_misses

FORMS = "(write <path:VAULT#SECRET> or <path:VAULT#SECRET#VERSION>)"


def problems(text: str, generic: bool = False) -> list[str]:
    found = find_placeholders(text, generic)
    return [m for p in found if (m := malformed(p, generic))] + near_misses(text, generic, found)


@pytest.mark.parametrize("generic", [False, True])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<path:kv#name", "<path:kv#name: not closed by '>' on its line"),
        ("a <path:kv#name\nb>", "<path:kv#name: not closed by '>' on its line"),
        ("<path:kv/name>", f"<path:kv/name>: no '#' between the vault and the secret name {FORMS}"),
        ("<path:kv>", f"<path:kv>: no '#' between the vault and the secret name {FORMS}"),
        ("<path:#name>", f"<path:#name>: no vault name before '#' {FORMS}"),
        ("<path:kv#>", f"<path:kv#>: no secret name after '#' {FORMS}"),
        (
            "<path: kv#name>",
            "<path: kv#name>: spaces inside the placeholder; did you mean <path:kv#name>?",
        ),
        (
            "<path:kv #name>",
            "<path:kv #name>: spaces inside the placeholder; did you mean <path:kv#name>?",
        ),
        (
            "x=<path:\tkv#name#v1 | base64encode>",
            "<path:\tkv#name#v1 | base64encode>: spaces inside the placeholder;"
            " did you mean <path:kv#name#v1 | base64encode>?",
        ),
        ("ok <path:kv#a> then <path:kv", "<path:kv: no '#' between the vault and the secret name"),
    ],
)
def test_near_misses_are_named(text: str, expected: str, generic: bool) -> None:
    (problem,) = problems(text, generic)
    assert problem.startswith(f"malformed placeholder {expected}")


def test_space_after_the_angle_bracket_is_a_placeholder_only_with_the_annotation() -> None:
    # AVP: '< path:a#b>' is no placeholder without the annotation, one with it (§3.2).
    assert problems("< path:kv#name>") == [
        "malformed placeholder < path:kv#name>: spaces inside the placeholder;"
        " did you mean <path:kv#name>?"
    ]
    assert problems("< path:kv#name>", generic=True) == []


@pytest.mark.parametrize("generic", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        "<path:kv#name>",
        "<path:kv#name >",  # AVP trims the secret name
        "<path:kv#name#v1>",
        "<path:kv#name | jsonPath {.a}>",
        "a <path:kv#a> b <path:kv#b#2> c",
        "docs: <beep>, <boop>, path: x",
        "<<path:kv#name>>",
        "no placeholder at all",
    ],
)
def test_placeholders_and_plain_text_are_no_near_miss(text: str, generic: bool) -> None:
    assert problems(text, generic) == []


def test_a_malformed_placeholder_inside_a_longer_match_is_named() -> None:
    # AVP's pattern runs on to a later '#': the '<path:' before the first '>' is what was meant.
    assert problems("<path:kv> and <path:kv#x>") == [
        f"malformed placeholder <path:kv>: no '#' between the vault and the secret name {FORMS}"
    ]


def test_only_the_first_few_are_explained() -> None:
    found = problems("<path:" * 100_000)
    assert len(found) == 4
    assert found[-1] == "99997 more malformed placeholders in this value"


def test_long_text_is_quoted_in_part() -> None:
    (problem,) = problems("<path:" + "v" * 500)
    assert len(problem) < 200
    assert "…" in problem
