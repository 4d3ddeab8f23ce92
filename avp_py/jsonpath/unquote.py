"""Go's string unquoting (strconv.Unquote), extended to single quotes as client-go does."""

from __future__ import annotations

from avp_py.jsonpath.nodes import JsonPathError

_SIMPLE_ESCAPES = {
    "a": 0x07,
    "b": 0x08,
    "f": 0x0C,
    "n": 0x0A,
    "r": 0x0D,
    "t": 0x09,
    "v": 0x0B,
    "\\": 0x5C,
}
_HEX_ESCAPE_LENGTH = {"x": 2, "u": 4, "U": 8}


def _unquote_escape(body: str, pos: int, quote: str) -> tuple[bytes, int] | None:
    """One backslash escape of Go's strconv.UnquoteChar at ``body[pos] == '\\\\'``."""
    if pos + 1 >= len(body):
        return None
    kind = body[pos + 1]
    pos += 2
    if kind in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[kind]]), pos
    if kind in ("'", '"'):
        return (kind.encode(), pos) if kind == quote else None
    if kind in _HEX_ESCAPE_LENGTH:
        return _unquote_hex(body, pos, kind)
    if kind in "01234567":
        digits = body[pos - 1 : pos + 2]
        if len(digits) < 3 or any(char not in "01234567" for char in digits):
            return None
        value = int(digits, 8)
        return (bytes([value]), pos + 2) if value <= 255 else None
    return None


def _unquote_hex(body: str, pos: int, kind: str) -> tuple[bytes, int] | None:
    length = _HEX_ESCAPE_LENGTH[kind]
    digits = body[pos : pos + length]
    if len(digits) < length or any(char not in "0123456789abcdefABCDEF" for char in digits):
        return None
    value = int(digits, 16)
    if kind == "x":
        return bytes([value]), pos + length
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return None
    return chr(value).encode(), pos + length


def unquote(quoted: str) -> str:
    """client-go's UnquoteExtend: Go string unquoting that also accepts single quotes."""
    quote, body = quoted[0], quoted[1:-1]
    if "\\" not in body and quote not in body:
        return body
    out = bytearray()
    pos = 0
    while pos < len(body):
        char = body[pos]
        if char == quote:
            step = None
        elif char == "\\":
            step = _unquote_escape(body, pos, quote)
        else:
            step = char.encode("utf-8", "surrogatepass"), pos + 1
        if step is None:
            raise JsonPathError(f"unquote string {quoted} error invalid syntax")
        out += step[0]
        pos = step[1]
    # Go strings are bytes: a literal such as '\xff' keeps its byte (one surrogateescape code
    # point, as everywhere in avp-py), so it compares unequal to U+FFFD in data, as in Go.
    return out.decode("utf-8", "surrogateescape")
