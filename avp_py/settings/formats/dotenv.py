"""``.env``/``.dotenv`` files as viper reads them: subosito/gotenv's ``StrictParse`` (v1.6).

python-dotenv reads another dialect, so this is a port of gotenv's rules, not a wrapper:

* lines end at LF, CRLF or a lone CR; blank lines and lines starting with ``#`` are skipped;
* ``[export ]KEY=VALUE`` or ``KEY: VALUE`` (a space after the colon); a key is ``[A-Za-z0-9_.]+``;
* an unquoted value ends at the first ``#`` (no space needed: ``a#b`` is ``a``) and is trimmed;
* ``'single'`` quotes keep everything as written; ``"double"`` quotes turn ``\\n`` and ``\\r``
  into line breaks and drop the backslash before any other character but ``$``;
* a quoted value may span lines, up to the line holding the closing quote;
* ``$NAME`` and ``${NAME}`` (NAME upper-case) expand, outside single quotes, to the process
  environment's NAME, else to the file's NAME above, else to nothing; ``\\$`` is a ``$``;
* any other line is an error (gotenv's "doesn't match format", without quoting the line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from avp_py.settings.formats import LineError

# gotenv's linePattern; Go's RE2 and Python's re pick the same submatches here (leftmost-first).
_LINE = re.compile(
    r"""\A\s*(?:export\s+)?([\w.]+)(?:\s*=\s*|:\s+?)"""
    r"""('(?:\'|[^'])*'|"(?:\"|[^"])*"|[^#\n]+)?\s*(?:\s*\#.*)?\Z""",
    re.ASCII,
)
_VARIABLE = re.compile(r"(\\)?(\$)(\{?([A-Z0-9_]+)?\}?)")
_VARIABLE_NAME = re.compile(r"(\$)(\{?([A-Z0-9_]+)\}?)")
_UNESCAPE = re.compile(r"\\([^$])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def parse(text: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The file's keys and values, as gotenv's StrictParse returns them."""
    env: dict[str, str] = {}
    lines = _LINE_BREAK.split(text)
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        quote = _open_quote(line)
        while quote and index < len(lines):  # a quoted value that goes on to the next lines
            following = lines[index]
            index += 1
            line += "\n" + following
            position = following.rfind(quote)
            if position >= 0 and not (position > 0 and following[position - 1] == "\\"):
                quote = ""
        if quote:
            raise LineError(number, f"the value's opening {quote} is never closed")
        _parse_line(line, number, env, environ)
    return env


def _open_quote(line: str) -> str:
    """The quote a value opens and does not close on this line ("" if none); gotenv's test."""
    separator = line.find("=")
    if separator == -1:
        separator = line.find(":")
    if not 0 < separator < len(line) - 1:
        return ""
    value = line[separator + 1 :].strip()
    if value[0] not in "\"'":
        return ""
    closing = value[1:].strip().rfind(value[0])
    # gotenv compares the character before the quote with an offset that ignores the
    # stripped spaces; kept as it is, since viper reads files with exactly this test.
    return "" if closing >= 0 and value[closing] != "\\" else value[0]


def _parse_line(line: str, number: int, env: dict[str, str], environ: Mapping[str, str]) -> None:
    match = _LINE.match(line)
    if match is None:
        raise LineError(number, _format_problem(line, env))
    value = (match.group(2) or "").strip()
    double = len(value) >= 2 and value[0] == value[-1] == '"'
    single = len(value) >= 2 and value[0] == value[-1] == "'"
    if double or single:
        value = value[1:-1]
    if double:
        value = value.replace("\\n", "\n").replace("\\r", "\r")
        value = _UNESCAPE.sub(lambda found: found.group(1), value)
    if not single:
        value = _VARIABLE.sub(lambda found: _expand(found.group(0), env, environ), value)
    env[match.group(1).strip()] = value


def _expand(reference: str, env: Mapping[str, str], environ: Mapping[str, str]) -> str:
    if reference.startswith("\\"):
        return reference[1:]  # an escaped $
    found = _VARIABLE_NAME.search(reference)
    if found is None:
        return reference  # a $ that names nothing stays
    name = found.group(3)
    # gotenv without override: the process environment wins over the file's own keys.
    if name in environ:
        return environ[name]
    return env.get(name, "")


def _format_problem(line: str, env: Mapping[str, str]) -> str:
    stripped = line.strip()
    if stripped.startswith("export"):
        parts = stripped.split(" ", 1)
        if len(parts) > 1 and parts[1] not in env:
            return "export of a variable that is not set above it"
    return "not KEY=VALUE, KEY: VALUE or a # comment"
