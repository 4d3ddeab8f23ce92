"""When a string must be quoted so that every YAML reader still sees a string.

The union of three schemas, because our output is read by all of them: go-yaml v2 (Argo CD,
kubectl, AVP), YAML 1.1 as PyYAML implements it, and the YAML 1.2 core schema.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from yaml.resolver import Resolver

from avp_py.yamlcodec._scalars import is_go_timestamp, resolve_plain

_STR_TAG = "tag:yaml.org,2002:str"


def _pyyaml_resolvers() -> MappingProxyType[str, tuple[re.Pattern[str], ...]]:
    # A snapshot of PyYAML's YAML 1.1 implicit resolvers (bool, int, float incl. base 60,
    # null, timestamp, merge '<<', value '='), keyed by first character.
    table: dict[str, list[re.Pattern[str]]] = {}
    for first, resolvers in Resolver.yaml_implicit_resolvers.items():
        patterns = [regexp for tag, regexp in resolvers if tag != _STR_TAG]
        table.setdefault(first if isinstance(first, str) else "", []).extend(patterns)
    return MappingProxyType({first: tuple(patterns) for first, patterns in table.items()})


_PYYAML = _pyyaml_resolvers()
_YAML12_CORE = re.compile(
    r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN"
)
# Every first character with which any of the three schemas can type a plain scalar.
_TYPED_FIRST = frozenset("yYnNtTfFoO~+-.0123456789").union(first for first in _PYYAML if first)
# Starting with these, all three schemas type only whole words: booleans and nulls.
_WORD_FIRST = frozenset("yYnNtTfFoO~")
_TYPED_WORDS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off")
    + ("OFF", "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL")
)


def needs_quotes(text: str) -> bool:
    """True if a plain scalar ``text`` would be read by ANY of go-yaml v2, PyYAML (YAML 1.1)
    or a YAML 1.2 core-schema parser as something other than this exact string."""
    if not text:
        return True
    first = text[0]
    if first not in _TYPED_FIRST:
        return False
    if first in _WORD_FIRST:
        return text in _TYPED_WORDS
    if resolve_plain(text)[0] != "str" or is_go_timestamp(text):
        return True
    if any(regexp.match(text) for regexp in _PYYAML.get(first, ())):
        return True
    return _YAML12_CORE.fullmatch(text) is not None
