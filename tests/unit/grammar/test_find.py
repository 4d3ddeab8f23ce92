"""Placeholder grammar: AVP's regexes, reproduced by linear-time scanners."""

from __future__ import annotations

import re
from typing import SupportsIndex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avp_py.grammar import (
    InlineRef,
    ModifierCall,
    find_generic,
    find_placeholders,
    find_specific,
    parse_inline,
    parse_placeholder,
)

# The Python equivalents of AVP's Go patterns (avp-behaviour.md §3.1): the oracle.
SPECIFIC = re.compile(r"<path:([^#]+?)#([^#]+?)(?:#([^#]+?))??>")
GENERIC = re.compile(r"<(.*?)>")
INLINE = re.compile(r"path:(?P<path>[^#]+)#(?P<key>[^#]+)(?:#(?P<version>.+))?")

texts = st.text(alphabet="<>#:pathx |\n", max_size=40)


@settings(max_examples=3000)
@given(texts)
def test_scanners_match_the_regex_oracle(text: str) -> None:
    assert find_specific(text) == [m.span() for m in SPECIFIC.finditer(text)]
    assert find_generic(text) == [m.span() for m in GENERIC.finditer(text)]
    match = INLINE.search(text)
    expected = match and InlineRef(match["path"], match["key"].strip(), match["version"] or "")
    assert parse_inline(text) == (expected or None)


@pytest.mark.parametrize(
    ("text", "generic", "keyspecs"),
    [
        ("foo.com/<name>:<tag>", True, ["name", "tag"]),
        ("foo.com/<name>:<tag>", False, []),
        ("<path:kv#a>,<path:kv#b>", False, ["path:kv#a", "path:kv#b"]),
        ("supported options: <beep>, <boop>", False, []),
        ("< path:a#b>", False, []),
        ("< path:a#b>", True, ["path:a#b"]),
        ("<a\nb>", True, []),
        ("<path:a\n#b>", False, ["path:a\n#b"]),
        ("<<k>>", True, ["k"]),
    ],
)
def test_mode_selection(text: str, generic: bool, keyspecs: list[str]) -> None:
    assert [p.keyspec for p in find_placeholders(text, generic)] == keyspecs


def test_placeholder_parts() -> None:
    found = parse_placeholder("<  data |jsonPath  {.deployment.replicas}|  jsonParse >")
    assert found.keyspec == "data"
    assert found.inline is None
    assert found.modifiers == (
        ModifierCall("jsonPath", ("{.deployment.replicas}",)),
        ModifierCall("jsonParse", ()),
    )


@pytest.mark.parametrize(
    ("keyspec", "expected"),
    [
        ("path:kv/data/versioned#secret#2", InlineRef("kv/data/versioned", "secret", "2")),
        ("path:vault#name", InlineRef("vault", "name", "")),
        ("mypath:a#b", InlineRef("a", "b", "")),  # unanchored search, like AVP
        ("path:a# key #v#w", InlineRef("a", "key", "v#w")),
        ("path:#b", None),
        ("path:a#", None),
        ("name", None),
    ],
)
def test_inline(keyspec: str, expected: InlineRef | None) -> None:
    assert parse_inline(keyspec) == expected


def test_spaces_only_are_trimmed_from_the_key() -> None:
    assert parse_placeholder("<key\t>").keyspec == "key\t"


def test_empty_modifier_statement_gets_the_empty_name() -> None:
    assert parse_placeholder("<k | >").modifiers == (ModifierCall("", ()),)


class Scanned(str):
    """A string that counts the characters its ``find`` calls look at (the scanners' work)."""

    scanned = 0

    def find(
        self, sub: str, start: SupportsIndex | None = 0, end: SupportsIndex | None = None
    ) -> int:
        found = super().find(sub, start, end)
        begin = 0 if start is None else int(start)
        stop = len(self) if found == -1 else found + len(sub)
        self.scanned += max(0, stop - begin)
        return found


# Under the coverage tracer these inputs take 15 times as long: the gate in scripts/test pauses
# coverage here; the other tests cover the same code.
@pytest.mark.no_cover
@pytest.mark.parametrize(
    "hostile",
    ["<" * 200_000, "<path:" * 100_000, "<path:a#" * 100_000, "<path:a#b#" * 60_000],
)
def test_hostile_input_is_linear(hostile: str) -> None:
    # Linear: a few looks per character whatever the input (about 6 at most here); a scanner
    # that searched again from each '<' would look at every character thousands of times.
    for scan in (find_specific, find_generic, parse_inline):
        text = Scanned(hostile)
        scan(text)
        assert text.scanned <= 8 * len(hostile), (scan.__name__, text.scanned / len(hostile))
