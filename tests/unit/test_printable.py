"""``avp_py.printable.one_line``: control characters become escapes, nothing else changes."""

from __future__ import annotations

import pytest

from avp_py.printable import one_line


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("a\nError: forged", "a\\nError: forged"),
        ("tab\there\r\n", "tab\\there\\r\\n"),
        ("\x1b[2J\x1b[1;1Hclean", "\\x1b[2J\\x1b[1;1Hclean"),
        ("nul\x00 del\x7f c1\x9b", "nul\\x00 del\\x7f c1\\x9b"),
        ("line\u2028sep\u2029par\x85nel", "line\\u2028sep\\u2029par\\x85nel"),
        (
            "bidi \u202eevil\u202c \u2066x\u2069 \u200f",
            "bidi \\u202eevil\\u202c \\u2066x\\u2069 \\u200f",
        ),
    ],
)
def test_control_characters_are_escaped(text: str, printed: str) -> None:
    assert one_line(text) == printed
    assert one_line(text).isprintable()


@pytest.mark.parametrize(
    "text",
    ["", "plain <path:kv#x>", "caf\u00e9 \u65e5\u672c \U0001f510", "back\\slash \\n", "nbsp\u00a0"],
)
def test_printable_text_is_unchanged(text: str) -> None:
    assert one_line(text) == text
