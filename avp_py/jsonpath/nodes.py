"""The tree client-go builds from a JSONPath template, and the error every stage raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


class JsonPathError(Exception):
    """A template or evaluation error; ``message`` is client-go's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text (outside braces, or a quoted string inside an action)."""

    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """``.name``: a map key (backslashes already removed)."""

    name: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``.*``: every value of a map, element of a list or byte of a string."""


@dataclass(frozen=True, slots=True)
class Recursive:
    """``..``: the value and every descendant that has children (pre-order)."""


@dataclass(frozen=True, slots=True)
class SliceParam:
    """One of start/end/step of ``[start:end:step]`` (client-go's ParamsEntry)."""

    value: int
    known: bool
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Array:
    """``[i]``, ``[a:b]``, ``[a:b:c]``, ``[*]``."""

    params: tuple[SliceParam, SliceParam, SliceParam]


@dataclass(frozen=True, slots=True)
class IntLit:
    """An integer literal (Go int)."""

    value: int


@dataclass(frozen=True, slots=True)
class FloatLit:
    """A number literal that is not an integer (Go float64)."""

    value: float


@dataclass(frozen=True, slots=True)
class BoolLit:
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True, slots=True)
class Identifier:
    """A bare word: ``range`` and ``end`` are meaningful, anything else fails at run time."""

    name: str


@dataclass(eq=False, slots=True)
class Action:
    """The nodes of one ``{...}`` (client-go's ListNode); evaluated left to right."""

    nodes: list[Node] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UnionOf:
    """``[a,b,...]``: the results of every branch, in order."""

    branches: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """``[?(left op right)]``, or ``[?(left)]`` with op ``exists``."""

    left: Action
    right: Action
    op: str


Node: TypeAlias = (
    Text
    | Field
    | Wildcard
    | Recursive
    | Array
    | IntLit
    | FloatLit
    | BoolLit
    | Identifier
    | Action
    | UnionOf
    | Filter
)
TopNode: TypeAlias = Text | Action
