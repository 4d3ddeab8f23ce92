"""``load_json``: one JSON value read the way Go's encoding/json and apimachinery read it.

Numbers: an integer literal that fits int64 is an int, anything else a float, and an integral
float becomes an int (the JSON step of the YAML path). ``NaN``/``Infinity`` are not JSON, a
lone UTF-16 surrogate escape becomes U+FFFD as in Go. Duplicate keys are an error: Go keeps
the last one silently, but a reviewer reads the first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

from avp_py import gocompat
from avp_py.model import YamlNode
from avp_py.yamlcodec._model import DEFAULT_LIMITS, Limits, YamlSyntaxError

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def load_json(text: str, limits: Limits = DEFAULT_LIMITS) -> YamlNode:
    """Parse ONE JSON value the way Go's encoding/json + apimachinery do."""
    try:
        value: YamlNode = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise YamlSyntaxError(f"invalid JSON: {exc.msg}", exc.lineno) from exc
    except RecursionError as exc:
        raise YamlSyntaxError("invalid JSON: the value is nested too deeply", None) from exc
    _walk(value, limits)
    return gocompat.json_strings(value) if _SURROGATE_ESCAPE.search(text) else value


def _object(pairs: Sequence[tuple[str, YamlNode]]) -> dict[str, YamlNode]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise YamlSyntaxError(f'invalid JSON: duplicate key "{_first_duplicate(pairs)}"', None)
    return mapping


def _first_duplicate(pairs: Sequence[tuple[str, YamlNode]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _integer(text: str) -> int | float:
    if len(text) <= 20:
        number = int(text)
        if gocompat.INT64_MIN <= number <= gocompat.INT64_MAX:
            return number
    return _float(text)


def _float(text: str) -> int | float:
    number = float(text)
    if math.isinf(number):
        raise YamlSyntaxError(f"invalid JSON: {gocompat.JSON_NUMBER_OUT_OF_RANGE}", None)
    return gocompat.json_number(number)


def _constant(name: str) -> YamlNode:
    raise YamlSyntaxError(f"invalid JSON: {name} is not a JSON value", None)


def _walk(root: YamlNode, limits: Limits) -> None:
    """Check depth and size without recursion."""
    count = 1
    stack: list[tuple[YamlNode, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            message = f"the document is nested deeper than {limits.max_depth} levels"
            raise YamlSyntaxError(message, None)
        if isinstance(node, dict):
            count += 2 * len(node)
            stack.extend((child, depth + 1) for child in node.values() if _is_container(child))
        elif isinstance(node, list):
            count += len(node)
            stack.extend((child, depth + 1) for child in node if _is_container(child))
        if count > limits.max_nodes:
            raise YamlSyntaxError(f"the document has more than {limits.max_nodes} nodes", None)


def _is_container(value: YamlNode) -> bool:
    return isinstance(value, (dict, list))
