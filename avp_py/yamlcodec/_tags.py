"""Tags: the one a plain scalar gets when libyaml composes it, and how each tag is honoured.

go-yaml v2 (resolve.go, decode.go) resolves explicit ``!!str !!int !!float !!bool !!null
!!timestamp`` with the same rules as plain scalars (``cannot decode !!str as a !!int``
otherwise) and decodes ``!!binary``. Any other tag is read as if it were absent, the way
Argo CD's reader does: a scalar becomes its text (``!custom 5`` is the string ``"5"``,
``!!python/object:x v`` the string ``"v"``) and a mapping or sequence is read as one. Nothing is
ever constructed from a tag.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from types import MappingProxyType

from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from avp_py import gocompat
from avp_py.yamlcodec._model import YamlSyntaxError
from avp_py.yamlcodec._scalars import HINTS as _HINTS
from avp_py.yamlcodec._scalars import Kind, Scalar, is_go_timestamp, resolve_plain

PREFIX = "tag:yaml.org,2002:"
STR = PREFIX + "str"
NULL = PREFIX + "null"
BOOL = PREFIX + "bool"
INT = PREFIX + "int"
FLOAT = PREFIX + "float"
MERGE = PREFIX + "merge"
MAP = PREFIX + "map"
SEQ = PREFIX + "seq"

_PLAIN = MappingProxyType(
    {"str": STR, "null": NULL, "bool": BOOL, "int": INT, "uint": INT, "float": FLOAT}
)
_ACCEPTS = MappingProxyType(
    {NULL: ("null",), BOOL: ("bool",), INT: ("int", "uint"), FLOAT: ("float",)}
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class Composer(CParser):
    """libyaml's parser and composer, typing plain scalars the go-yaml v2 way."""

    def resolve(
        self, kind: type[Node], value: str | None, implicit: tuple[bool, bool] | bool
    ) -> str:
        """The tag of an untagged node (libyaml calls this for every one)."""
        if kind is not ScalarNode:  # collections: (kind, None, bool)
            return MAP if kind is MappingNode else SEQ
        if not implicit[0]:  # type: ignore[index]  # a scalar's implicit is a pair
            return STR  # quoted or block scalar
        if value and value[0] not in _HINTS:  # the common case: text that is text
            return MERGE if value == "<<" else STR
        return _PLAIN[resolve_plain(value or "")[0]]

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        """No path resolvers."""

    def ascend_resolver(self) -> None:
        """No path resolvers."""


def typed(node: Node) -> tuple[Kind, Scalar]:
    """The go-yaml v2 value of a scalar node under its (explicit or resolved) tag.

    A tag go-yaml v2 cannot resolve (a local ``!custom``, ``!!map`` on a scalar, ``!!merge``
    on anything but a key ``<<``) leaves the scalar's text: ``resolve`` returns it unchanged.
    """
    handler = _HANDLERS.get(node.tag)
    return ("str", node.value) if handler is None else handler(node)


def _string(node: Node) -> tuple[Kind, Scalar]:
    return "str", node.value


def _resolved(node: Node) -> tuple[Kind, Scalar]:
    kind, value = resolve_plain(node.value)
    if node.tag == FLOAT and kind == "int" and isinstance(value, int):
        return "float", float(value)
    if kind in _ACCEPTS[node.tag]:
        return kind, value
    raise _cannot_decode(kind, node)


def _binary(node: Node) -> tuple[Kind, Scalar]:
    data = node.value.replace("\r", "").replace("\n", "")
    try:
        if len(data) % 4 or not _BASE64.fullmatch(data):
            raise binascii.Error
        decoded = base64.b64decode(data)
    except binascii.Error as exc:
        message = "invalid YAML: !!binary value contains invalid base64 data"
        raise YamlSyntaxError(message, line_of(node)) from exc
    # go-yaml v2 makes a Go string of the bytes; the JSON step writes U+FFFD per bad byte.
    return "str", gocompat.decode_utf8(decoded)


def _timestamp(node: Node) -> tuple[Kind, Scalar]:
    if is_go_timestamp(node.value):
        return "str", node.value  # go-yaml v2 hands timestamps to interface{} as text
    raise _cannot_decode(resolve_plain(node.value)[0], node)


def _cannot_decode(kind: Kind, node: Node) -> YamlSyntaxError:
    message = f"invalid YAML: cannot decode {short(_PLAIN[kind])} as a {short(node.tag)}"
    return YamlSyntaxError(message, line_of(node))


_HANDLERS: MappingProxyType[str, Callable[[Node], tuple[Kind, Scalar]]] = MappingProxyType(
    {
        STR: _string,
        NULL: _resolved,
        BOOL: _resolved,
        INT: _resolved,
        FLOAT: _resolved,
        MERGE: _string,  # '<<' is a merge only as a key; as a value it is the text
        PREFIX + "binary": _binary,
        PREFIX + "timestamp": _timestamp,
    }
)


def check_flow_scalars(node: Node) -> None:
    """A plain scalar holding ``?`` directly inside a flow collection is an error.

    go-yaml v2's scanner (a port of libyaml 0.1) ends a plain scalar at ``?`` in flow context,
    so ``[x?y]`` and ``{k: x?y}`` fail in Argo CD; libyaml 0.2, which PyYAML uses, reads them.
    """
    mapping = isinstance(node, MappingNode)
    children = [child for pair in node.value for child in pair] if mapping else node.value
    for child in children:
        if child.__class__ is ScalarNode and not child.style and "?" in child.value:
            closing = "}" if mapping else "]"
            message = (
                f"invalid YAML: did not find expected ',' or '{closing}' ('?' cannot appear in"
                " an unquoted value inside [...] or {...} for Argo CD's YAML reader: quote it)"
            )
            raise YamlSyntaxError(message, line_of(child))


def is_merge_key(node: Node) -> bool:
    """A plain ``<<`` (or ``!!merge <<``) key."""
    return node.tag == MERGE and isinstance(node, ScalarNode) and node.value == "<<"


def merge_sources(node: Node) -> Sequence[Node]:
    """The mappings a ``<<`` value merges, in the order go-yaml v2 writes them (last wins)."""
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode) and all(isinstance(item, MappingNode) for item in node.value):
        items: list[Node] = node.value
        return items[::-1]  # earlier mappings take precedence, so they are written last
    message = "invalid YAML: map merge requires map or sequence of maps as the value"
    raise YamlSyntaxError(message, line_of(node))


def short(tag: str) -> str:
    """``tag:yaml.org,2002:int`` -> ``!!int``; other tags as written."""
    return "!!" + tag[len(PREFIX) :] if tag.startswith(PREFIX) else tag


def line_of(node: Node) -> int | None:
    """1-based line where ``node`` starts."""
    mark = node.start_mark
    return None if mark is None else mark.line + 1
