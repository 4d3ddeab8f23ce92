"""Text from manifests, file names, keys and settings, made safe to print as one line.

Every message avp-py prints can hold text an Application's author wrote: a key, a file name, a
placeholder. stderr is shown in Argo CD's UI and CI logs, so a raw newline would let a manifest
print a fake ``Error:`` line, and a terminal escape could rewrite what was printed before
(issue 11, item 6). The edge that formats messages (``Error:`` lines, log lines, the check's
reports) passes them through :func:`one_line`; the library's messages stay raw text.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the invisible
# bidirectional controls that can make a line read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``,
    ``\\u2028``); printable text, backslashes included, is left as it is."""
    if text.isprintable():  # the usual case, at C speed
        return text
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
