"""Placeholder grammar: find AVP's ``<...>`` placeholders in a string and parse each one.

``_find`` reproduces AVP's regular expressions (linear time); ``_nearmiss`` names the text
that looks like a placeholder but is none (issue 10 item 1: never a silent miss); ``_escaped``
finds placeholders Helm's ``toJson`` wrote JSON-escaped.
"""

from avp_py.grammar._escaped import find_escaped, might_contain_escaped
from avp_py.grammar._find import (
    INLINE_PREFIX,
    SPECIFIC_PREFIX,
    InlineRef,
    ModifierCall,
    Placeholder,
    find_generic,
    find_placeholders,
    find_specific,
    might_contain_placeholder,
    parse_inline,
    parse_placeholder,
)
from avp_py.grammar._nearmiss import malformed, near_misses

__all__ = [
    "INLINE_PREFIX",
    "SPECIFIC_PREFIX",
    "InlineRef",
    "ModifierCall",
    "Placeholder",
    "find_escaped",
    "find_generic",
    "find_placeholders",
    "find_specific",
    "malformed",
    "might_contain_escaped",
    "might_contain_placeholder",
    "near_misses",
    "parse_inline",
    "parse_placeholder",
]
