"""Kubernetes client-go JSONPath templates, as AVP's ``jsonPath`` modifier runs them.

A faithful port of ``k8s.io/client-go/util/jsonpath`` (client-go v0.29.3, the version AVP
pins), executed with ``AllowMissingKeys(false)``: same syntax, same output formatting (Go
``%v`` for scalars, ``encoding/json`` for maps and lists, results of one action separated by
one space, text between actions printed as is), same error texts. ``jsonpath-ng`` and other
JSONPath libraries differ from client-go in syntax and output, so they are not used.

Differences from client-go, all in cases Go handles badly or randomly:

* map entries (``.*``, ``..``) are visited in sorted key order, not Go's random order;
* where client-go panics (a nil root used as an array or ranged over) a
  :class:`JsonPathError` with Go's panic text is raised;
* a filter error that would print a data value names its Go type instead;
* ranges nest at most 100 deep and one evaluation has a step budget, so a hostile template
  or value fails with :class:`JsonPathError` instead of exhausting the stack or the CPU.
"""

from __future__ import annotations

from avp_py.jsonpath.evaluator import Evaluator
from avp_py.jsonpath.parser import JsonPathError, parse

__all__ = ["JsonPathError", "evaluate", "validate"]


def validate(template: str) -> None:
    """Parse ``template`` only; raises :class:`JsonPathError` with client-go's parse error.

    AVP parses the template before it decodes the value, so a caller that wants AVP's error
    precedence (a bad template wins over a bad JSON value) calls this first.
    """
    parse(template)


def evaluate(template: str, data: object) -> str:
    """Parse ``template`` (client-go template syntax) and execute it on ``data``.

    ``data`` is a JSON-like value (dict, list, str, float, int, bool, None) as Go's
    ``json.Unmarshal`` produces it; numbers that Go would hold as float64 must be floats.
    Returns the printed text; raises :class:`JsonPathError` with client-go's error text.
    """
    return Evaluator(parse(template)).execute(data)
