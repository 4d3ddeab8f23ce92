"""``dump_yaml``: one document through libyaml's emitter, the emitter go-yaml v2 is a port of.

Every scalar is an untagged, implicit scalar whose style we choose (literal block for
multi-line text, double quotes when :func:`needs_quotes` says a reader would type it, else
plain); libyaml downgrades a plain scalar to quotes wherever plain is impossible. Events are
emitted directly: no node graph, so no anchors and no resolver of PyYAML's deciding anything.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from yaml._yaml import CEmitter
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from avp_py import gocompat
from avp_py.model import YamlNode
from avp_py.yamlcodec._quoting import needs_quotes

_Emit = Callable[[Event], None]
_WIDTH = -1  # libyaml: no limit, so long strings are never folded
_IMPLICIT = (True, True)  # no tag is ever written
# NEL, LS and PS are line breaks in YAML 1.1 but text in YAML 1.2: only escapes are safe.
_UNSAFE_RAW = re.compile("[\x85\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# Events without content are the same every time: one object each (the emitter only reads them).
_DOCUMENT_START = DocumentStartEvent(explicit=False)
_DOCUMENT_END = DocumentEndEvent(explicit=False)
_MAPPING_START = MappingStartEvent(None, None, True, flow_style=False)
_MAPPING_END = MappingEndEvent()
_SEQUENCE_START = SequenceStartEvent(None, None, True, flow_style=False)
_SEQUENCE_END = SequenceEndEvent()


def dump_yaml(node: YamlNode) -> str:
    """Emit one document in block style, key order kept, trailing newline, no '---'."""
    stream = io.StringIO()
    emitter = CEmitter(stream, indent=2, width=_WIDTH, allow_unicode=True)
    emitter.open()
    emitter.emit(_DOCUMENT_START)
    _emit_value(emitter.emit, node)
    emitter.emit(_DOCUMENT_END)
    emitter.close()
    return stream.getvalue()


def _emit_value(emit: _Emit, root: YamlNode) -> None:
    """Depth-first, in document order, without recursion.

    Keys and values repeat within a document (``name``, ``app.kubernetes.io/name``...): each
    distinct string's event is made once per document, its style decided once.
    """
    if not isinstance(root, (dict, list)):
        emit(_scalar(root))
        return
    strings: dict[str, ScalarEvent] = {}
    stack = [_open(emit, root)]
    while stack:
        items, in_mapping = stack[-1]
        for item in items:
            if in_mapping:
                key, value = item
                if not isinstance(key, str):
                    raise TypeError(f"a mapping key must be a str, not {type(key).__name__}")
                emit(strings.get(key) or strings.setdefault(key, _string(key)))
            else:
                value = item
            if isinstance(value, str):
                emit(strings.get(value) or strings.setdefault(value, _string(value)))
            elif isinstance(value, (dict, list)):
                stack.append(_open(emit, value))
                break
            else:
                emit(_scalar(value))
        else:
            stack.pop()
            emit(_MAPPING_END if in_mapping else _SEQUENCE_END)


def _open(emit: _Emit, value: dict[str, YamlNode] | list[YamlNode]) -> tuple[Iterator[Any], bool]:
    """Start a collection: its items (key-value pairs for a mapping), and whether a mapping."""
    if isinstance(value, dict):
        emit(_MAPPING_START)
        return iter(value.items()), True
    emit(_SEQUENCE_START)
    return iter(value), False


def _scalar(value: YamlNode) -> ScalarEvent:
    if isinstance(value, str):
        return _string(value)
    return ScalarEvent(None, None, _IMPLICIT, _plain(value))


def _string(text: str) -> ScalarEvent:
    if not text.isascii() and _UNSAFE_RAW.search(text):
        # Go's JSON step turns invalid UTF-16 into U+FFFD; NEL/LS/PS get escaped.
        return ScalarEvent(None, None, _IMPLICIT, _SURROGATE.sub("\ufffd", text), style='"')
    if "\n" in text:
        return ScalarEvent(None, None, _IMPLICIT, text, style="|")
    style = '"' if needs_quotes(text) else None
    return ScalarEvent(None, None, _IMPLICIT, text, style=style)


def _plain(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))  # plain digits, also for int subclasses
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"cannot write a {type(value).__name__} as YAML")


def _float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    number = gocompat.yaml_number(value)  # what go-yaml reads back from AVP's json.Marshal
    if isinstance(number, int):
        return str(number)  # 1e19: Go writes 10000000000000000000 (a uint64), not 1e+19
    text = gocompat.format_float(value)
    mantissa, exponent_mark, exponent = text.partition("e")
    if exponent_mark and "." not in mantissa:
        # Go writes "1e+06"; YAML 1.1 (PyYAML) needs a dot to read a float: "1.0e+06".
        return f"{mantissa}.0e{exponent}"
    return text
