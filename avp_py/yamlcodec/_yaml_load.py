"""``load_yaml``: libyaml parses and composes, go-yaml v2 + sigs.k8s.io/yaml rules build values.

Three passes at most: libyaml composes the node graph (with our plain-scalar typing), an
alias check bounds the expanded size before anything is expanded (only when the text can hold
aliases at all), and an iterative builder makes the values, checking depth and node count.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from types import MappingProxyType

from yaml import YAMLError
from yaml._yaml import CParser
from yaml.error import MarkedYAMLError
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode
from yaml.reader import ReaderError

from avp_py import gocompat
from avp_py.model import YamlNode
from avp_py.yamlcodec import _tags
from avp_py.yamlcodec._model import DEFAULT_LIMITS, Limits, YamlSyntaxError
from avp_py.yamlcodec._tags import line_of

_Build = Generator[tuple[Node, int], YamlNode, YamlNode]
_STR = _tags.STR
_MERGE = _tags.MERGE
# An alias token: '*' where a node can start, then an anchor character as libyaml scans them.
# Quoted text never matches ('"*.example.com'); plain text may, which only costs a check. A
# miss would only be slower: the builder counts expanded nodes against the same limit.
_ALIAS = re.compile(r"(?:^|[\s\[{,:\ufeff])\*[0-9A-Za-z_-]", re.MULTILINE)
_TAB_PROBLEM = "found character that cannot start any token"
# Where a passed-through document may hold a plain scalar with '?' inside a flow collection
# (an error for go-yaml v2): after '[', '{' or ',' on one line, or on a line of a multi-line
# flow collection. Only a hint: such documents are composed and checked exactly. Block
# scalars that merely look like this (a description "[ready?]") only cost that check. Every
# match lies within one line that holds a '?': _flow_question_hint runs it on those lines only.
_FLOW_QUESTION = re.compile(
    r"[\[{,][ \t]*[^\s\[\]{},\"'#?][^\n\[\]{},\"'#]*\?"
    r"|^[ \t]*[^\s#\"'\[\]{},?][^\n#\"']*\?[^\n]*[,\]}][ \t]*$",
    re.MULTILINE,
)


def check_syntax(text: str) -> None:
    """YamlSyntaxError if ``text`` is not one well-formed YAML document; builds nothing.

    libyaml's parser runs over the text at C speed (``raw_parse`` creates no Python objects),
    which is what lets a document passed through untouched (decision D4) still be checked.
    Only when it fails is the document composed, to report the error exactly as
    :func:`load_yaml` would. Typing, duplicate keys, tags and limits need composition: they
    are checked only for documents that are loaded. A ``?`` inside a flow collection (an error
    for go-yaml v2 only) is looked for where the text hints at one.
    """
    try:
        CParser(text).raw_parse()
    except (YAMLError, UnicodeError):
        _compose(text)
        raise YamlSyntaxError("invalid YAML", None) from None
    if _flow_question_hint(text):  # rare: the text may hold '?' in a flow collection
        root = _compose(text)
        if root is not None:
            _check_flow_collections(root)


def _flow_question_hint(text: str) -> bool:
    """``_FLOW_QUESTION.search(text)``, run only on the lines that hold a '?'.

    Scanning all of a large passed-through stream with the pattern cost more than parsing it;
    most lines hold no '?', and ``str.find`` skips them at C speed.
    """
    end = 0
    while (mark := text.find("?", end)) != -1:
        start = text.rfind("\n", 0, mark) + 1
        end = text.find("\n", mark)
        end = len(text) if end == -1 else end
        if _FLOW_QUESTION.search(text, start, end):  # '^' and '$' hold at a line's ends
            return True
        end += 1
    return False


def _check_flow_collections(root: Node) -> None:
    """:func:`_tags.check_flow_scalars` on every flow collection of a composed graph."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, CollectionNode) or id(node) in seen:
            continue
        seen.add(id(node))
        if node.flow_style:
            _tags.check_flow_scalars(node)
        stack.extend(_children(node))


def load_yaml(text: str, limits: Limits = DEFAULT_LIMITS) -> YamlNode:
    """Parse ONE YAML document (the caller has already split the stream) with go-yaml v2
    typing, then apply the sigs.k8s.io/yaml JSON conversion.

    Empty / comment-only / ``null`` document -> None.
    """
    with _gc_paused():
        root = _compose(text)
        if root is None:
            return None
        if "*" in text and _ALIAS.search(text):  # without an alias nothing can expand
            _check_expansion(root, limits)
        if isinstance(root, ScalarNode):
            return scalar_value(root)
        return _Builder(limits).run(root)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one document is composed and built.

    Building creates hundreds of thousands of short-lived, cycle-free objects per MB; the
    collector's full passes over them made a 1 MB document 2-3x slower. The previous state is
    restored, and overlapping calls from several threads still end with the collector on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compose(text: str) -> Node | None:
    try:
        return _tags.Composer(text).get_single_node()
    except MarkedYAMLError as exc:
        raise _marked_error(exc, text) from exc
    except ReaderError as exc:
        raise _reader_error(exc, text) from exc
    except UnicodeEncodeError as exc:  # a lone surrogate: the text was not decoded UTF-8
        line = text.count("\n", 0, exc.start) + 1
        raise YamlSyntaxError("invalid YAML: the text is not valid Unicode", line) from exc


def _marked_error(exc: MarkedYAMLError, text: str) -> YamlSyntaxError:
    # Only libyaml's fixed problem text and the line: never the mark's snippet of the buffer.
    mark = exc.problem_mark or exc.context_mark
    return YamlSyntaxError(f"invalid YAML: {_problem(exc, text)}", mark.line + 1 if mark else None)


def _problem(exc: MarkedYAMLError, text: str) -> str:
    problem, context, mark = exc.problem or "", exc.context or "", exc.problem_mark
    if problem == _TAB_PROBLEM and mark is not None and _char_at(text, mark.line, mark.column):
        return "found character '\\t' that cannot start any token (tabs cannot indent YAML)"
    if context.startswith("found duplicate anchor") and exc.context_mark is not None:
        # go-yaml v2 lets a later anchor replace an earlier one; PyYAML's composer does not.
        return f"found duplicate anchor (first defined at line {exc.context_mark.line + 1})"
    if problem.startswith("but "):  # "expected a single document ..., but found another"
        return f"{context}, {problem}"
    if problem and context:
        return f"{problem} ({context})"
    return problem or context or "unknown problem parsing YAML content"


def _char_at(text: str, line: int, column: int) -> bool:
    lines = text.splitlines()
    return line < len(lines) and lines[line][column : column + 1] == "\t"


def _reader_error(exc: ReaderError, text: str) -> YamlSyntaxError:
    # libyaml reports a byte offset into the UTF-8 text; the character is a control code.
    line = text.encode("utf-8", "surrogatepass")[: exc.position].count(b"\n") + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
    message = f"invalid YAML: found unacceptable character #x{code:04x}: {exc.reason}"
    return YamlSyntaxError(message, line)


def _check_expansion(root: Node, limits: Limits) -> None:
    """Expanded size of the node graph, memoised on node identity: an alias bomb is rejected
    after visiting its few distinct nodes, never expanded. Also rejects self-referring aliases.
    """
    sizes: dict[int, int] = {}  # 0 while a collection's children are being visited
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            size = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
            if size > limits.max_nodes:
                raise YamlSyntaxError(_too_many(limits), line_of(node))
            sizes[id(node)] = size
        elif id(node) not in sizes:
            sizes[id(node)] = 0
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if _is_collection(child))
        elif sizes[id(node)] == 0:
            raise YamlSyntaxError("invalid YAML: an alias refers to itself", line_of(node))


def _children(node: Node) -> Iterator[Node]:
    if node.__class__ is MappingNode:
        for key, value in node.value:
            yield key
            yield value
    elif node.__class__ is not ScalarNode:  # a scalar's value is its text, not children
        yield from node.value


def _is_collection(node: Node) -> bool:
    return node.__class__ is not ScalarNode


def _too_many(limits: Limits) -> str:
    return f"the document has more than {limits.max_nodes} nodes once aliases are expanded"


class _Builder:
    """Builds values without recursion: each collection is a generator that yields the child
    collections it needs; scalars are built inline."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._count = 0

    def run(self, root: Node) -> YamlNode:
        stack = [self._collection(root, 1)]
        value: YamlNode = None
        while True:
            try:
                child, depth = stack[-1].send(value)
            except StopIteration as stop:
                stack.pop()
                if not stack:
                    result: YamlNode = stop.value
                    return result
                value = stop.value
                continue
            if depth > self._limits.max_depth:
                message = f"the document is nested deeper than {self._limits.max_depth} levels"
                raise YamlSyntaxError(message, line_of(child))
            stack.append(self._collection(child, depth))
            value = None

    def _collection(self, node: Node, depth: int) -> _Build:
        self._count += 1 + len(node.value) * (2 if isinstance(node, MappingNode) else 1)
        if self._count > self._limits.max_nodes:
            raise YamlSyntaxError(_too_many(self._limits), line_of(node))
        if isinstance(node, CollectionNode) and node.flow_style:
            _tags.check_flow_scalars(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, depth)
        return self._sequence(node, depth)

    def _sequence(self, node: Node, depth: int) -> _Build:
        items: list[YamlNode] = []
        for item in node.value:
            if item.__class__ is not ScalarNode:
                items.append((yield item, depth + 1))
            else:
                items.append(item.value if item.tag == _STR else scalar_value(item))
        return items

    def _mapping(self, node: Node, depth: int) -> _Build:
        out: dict[str, YamlNode] = {}
        explicit: set[str] | None = None  # set once a merge has put non-explicit keys in out
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE and _tags.is_merge_key(key_node):
                explicit = set(out) if explicit is None else explicit
                yield from _merge(out, value_node, depth)
                continue
            plain_key = key_node.tag == _STR and key_node.__class__ is ScalarNode
            key: str = key_node.value if plain_key else map_key(key_node)
            if key in (out if explicit is None else explicit):
                raise YamlSyntaxError(f'invalid YAML: duplicate key "{key}"', line_of(key_node))
            if explicit is not None:
                explicit.add(key)
            if value_node.__class__ is not ScalarNode:
                out[key] = yield value_node, depth + 1
            else:
                out[key] = value_node.value if value_node.tag == _STR else scalar_value(value_node)
        return out


def _merge(out: dict[str, YamlNode], value_node: Node, depth: int) -> _Build:
    """go-yaml v2 writes the merged mappings into ``out``, overwriting keys already there."""
    for source in _tags.merge_sources(value_node):
        merged = yield source, depth
        if isinstance(merged, dict):  # always: a mapping node builds a dict
            out.update(merged)
    return None


def scalar_value(node: Node) -> YamlNode:
    """A scalar's value after the JSON step: int64, float, bool, None or str."""
    if node.tag == _tags.STR:
        text: str = node.value
        return text
    kind, value = _tags.typed(node)
    if kind == "uint" and isinstance(value, int):
        return gocompat.json_number(float(value))  # a uint64 above int64 is read back a float
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            message = f"json: unsupported value: {gocompat.format_float(value)}"
            raise YamlSyntaxError(message, line_of(node))
        return gocompat.json_number(value)
    return value


_KEY_SPECIALS = MappingProxyType({"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"})


def map_key(node: Node) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON object key."""
    if not isinstance(node, ScalarNode):
        raise YamlSyntaxError("invalid YAML: a mapping key must be a scalar", line_of(node))
    if node.tag == _tags.STR:
        text: str = node.value
        return text
    kind, value = _tags.typed(node)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "int" and isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # sigs.k8s.io/yaml convertToJSONableObject: FormatFloat(key, 'g', -1, 32), YAML's inf/nan.
        text = gocompat.format_float(value, 32)
        return _KEY_SPECIALS.get(text, text)
    type_name = "null" if value is None else "uint64"
    raise YamlSyntaxError(f"unsupported map key of type {type_name}", line_of(node))
