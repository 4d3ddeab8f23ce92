"""Evaluation and printing of parsed client-go JSONPath templates (client-go v0.29).

The evaluator mirrors client-go's ``FindResults``: the same range/end counters, the same
"partial results on error" that an ``exists`` filter sees, the same messages. Where client-go
would panic (a nil root used as an array) a :class:`JsonPathError` carries Go's panic text.
The values it walks are described in ``values``; the steps live in ``steps`` and ``filters``,
the printing in ``printing``.

Nothing recurses on the data (``..`` and JSON encoding use explicit stacks), ranges may nest
at most :data:`MAX_RANGE_DEPTH` deep, and one evaluation may spend at most
:data:`STEP_BUDGET` steps (values produced plus characters printed), so hostile templates or
values end in a :class:`JsonPathError` instead of a RecursionError or a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from avp_py.jsonpath.filters import filter_step
from avp_py.jsonpath.nodes import (
    Action,
    Array,
    BoolLit,
    Field,
    Filter,
    FloatLit,
    Identifier,
    IntLit,
    JsonPathError,
    Recursive,
    Text,
    TopNode,
    UnionOf,
    Wildcard,
)
from avp_py.jsonpath.printing import go_json, go_print
from avp_py.jsonpath.steps import (
    Fail,
    array_step,
    field_step,
    recursive_step,
    union_step,
    wildcard_step,
)
from avp_py.jsonpath.values import NO_VALUE

__all__ = ["MAX_RANGE_DEPTH", "STEP_BUDGET", "Evaluator"]

STEP_BUDGET = 1_000_000
MAX_RANGE_DEPTH = 100
_PANIC_INTERFACE = "reflect: call of reflect.Value.Interface on zero Value"


def _interface(value: object) -> object:
    """``reflect.Value.Interface()`` then ``reflect.ValueOf``: a nil becomes NO_VALUE."""
    if value is NO_VALUE:
        raise JsonPathError(_PANIC_INTERFACE)
    return NO_VALUE if value is None else value


class Evaluator:
    """One execution of a parsed template (client-go's JSONPath with AllowMissingKeys(false))."""

    def __init__(self, root: list[TopNode]) -> None:
        self._root = root
        self._begin_range = 0
        self._in_range = 0
        self._end_range = 0
        self._last_end = -1
        self._budget = STEP_BUDGET
        self._handlers: dict[type, Callable[[list[object], Any], list[object]]] = {
            Text: self._eval_text,
            Action: self.eval_action,
            Field: partial(field_step, self),
            Array: partial(array_step, self),
            Filter: partial(filter_step, self),
            IntLit: self._eval_literal,
            FloatLit: self._eval_literal,
            BoolLit: self._eval_literal,
            Wildcard: partial(wildcard_step, self),
            Recursive: partial(recursive_step, self),
            UnionOf: partial(union_step, self),
            Identifier: self._eval_identifier,
        }

    def execute(self, data: object) -> str:
        """client-go's Execute: find every result, then print them."""
        try:
            found = self._find_results(NO_VALUE if data is None else data, 0)
        except Fail as failure:
            raise JsonPathError(failure.message) from None
        out: list[str] = []
        for results in found:
            for position, value in enumerate(results):
                if position:
                    out.append(" ")
                if isinstance(value, (dict, list)):
                    text = go_json(value, self.spend)
                else:
                    text = go_print(value)
                self.spend(len(text))
                out.append(text)
        return "".join(out)

    def spend(self, steps: int) -> None:
        """Charge ``steps`` to this evaluation's budget; JsonPathError once it is spent."""
        self._budget -= steps
        if self._budget < 0:
            raise JsonPathError(f"jsonpath evaluation too large (over {STEP_BUDGET} steps)")

    def _find_results(self, data: object, start: int) -> list[list[object]]:
        current = [data]
        full: list[list[object]] = []
        index = start
        while index < len(self._root):
            results = self._walk(current, self._root[index])
            if 0 < self._end_range <= self._in_range:
                self._end_range -= 1
                self._last_end = index
                break
            if self._begin_range > 0:
                index = self._run_range(results, index, full)
            else:
                full.append(results)
            index += 1
        return full

    def _run_range(self, results: list[object], index: int, full: list[list[object]]) -> int:
        """Run the nodes after a ``range`` once per result; return the index of its ``end``."""
        self._begin_range -= 1
        self._in_range += 1
        if self._in_range > MAX_RANGE_DEPTH:
            raise JsonPathError(f"range nesting deeper than {MAX_RANGE_DEPTH}")
        if results:
            for value in results:
                full.extend(self._find_results(_interface(value), index + 1))
        else:
            self._find_results(NO_VALUE, index + 1)
        self._in_range -= 1
        if index < self._last_end < len(self._root):
            return self._last_end
        return index

    def _walk(self, values: list[object], node: object) -> list[object]:
        result = self._handlers[type(node)](values, node)
        self.spend(len(result) + 1)
        return result

    def _eval_text(self, values: list[object], node: Text) -> list[object]:
        return [node.text]

    def eval_action(self, values: list[object], node: Action) -> list[object]:
        """The nodes of one ``{...}`` (or a union branch, a filter operand), left to right."""
        for child in node.nodes:
            values = self._walk(values, child)
        return values

    def _eval_literal(
        self, values: list[object], node: IntLit | FloatLit | BoolLit
    ) -> list[object]:
        return [node.value] * len(values)

    def _eval_identifier(self, values: list[object], node: Identifier) -> list[object]:
        if node.name == "range":
            self._begin_range += 1
            return values
        if node.name != "end":
            raise Fail(f"unrecognized identifier {node.name}", values)
        if self._in_range <= 0:
            raise Fail("not in range, nothing to end", [])
        self._end_range += 1
        return []
