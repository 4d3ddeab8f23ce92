"""Plan a document: where its placeholders are and which secrets they need. Pure, no I/O.

Planning every document before any fetch is what lets the resolver fetch each distinct
secret once, in parallel (AVP fetches from inside its replace callback, §4), and what lets a
typo in a modifier fail the run before a single request is made.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from avp_py import grammar, modifiers
from avp_py.directives import Directives
from avp_py.documents import Document
from avp_py.model import SecretRef, YamlNode
from avp_py.walk import FieldPath, iter_keys, iter_strings, render_path


class ReferenceRules(Protocol):
    """Why a path or reference may not be used: path validation, tenant policy, name rules."""

    def path_problem(self, path: str) -> str | None:
        """The reason ``path`` is refused, or None."""

    def ref_problem(self, ref: SecretRef) -> str | None:
        """The reason ``ref`` is refused (its path included), or None."""


_REMOVABLE_KINDS = ("Secret", "ConfigMap")


@dataclass(frozen=True, slots=True)
class PlannedPlaceholder:
    """A placeholder and the secret it needs; ``ref`` is None when no value can exist."""

    placeholder: grammar.Placeholder
    ref: SecretRef | None


@dataclass(frozen=True, slots=True)
class Slot:
    """A string value holding placeholders. ``base64``: the template is its decoded text."""

    path: FieldPath
    template: str
    placeholders: tuple[PlannedPlaceholder, ...]
    base64: bool
    in_mapping: bool


@dataclass(frozen=True, slots=True)
class DocumentPlan:
    """Everything substitution needs for one document."""

    document: Document
    directives: Directives
    slots: tuple[Slot, ...]

    def refs(self) -> set[SecretRef]:
        """The distinct secrets this document needs."""
        return {p.ref for slot in self.slots for p in slot.placeholders if p.ref is not None}

    def where(self, slot: Slot) -> str:
        """Location prefix of every message about ``slot``."""
        return location(self.document, slot.path, slot.base64)


def location(document: Document, path: FieldPath, base64: bool = False) -> str:
    """``file (document n, line l) Kind/name field`` (``(base64-decoded)`` for such values)."""
    return f"{document.describe()} {field_name(path, base64)}"


def field_name(path: FieldPath, base64: bool = False) -> str:
    """A field as messages name it: ``spec.template.metadata.annotations.x``."""
    return render_path(path) + (" (base64-decoded)" if base64 else "")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a document cannot be rendered, found before anything is fetched: in which document
    and field (``path`` None: the object itself), and what. ``generate`` prints
    :attr:`where` and the message on one line; ``check`` makes a finding of the parts."""

    document: Document
    message: str
    path: FieldPath | None = None
    base64: bool = False  # the field's value is base64 of the text the message is about

    @property
    def field(self) -> str:
        """The field as messages name it (``""`` for the object itself)."""
        return "" if self.path is None else field_name(self.path, self.base64)

    @property
    def where(self) -> str:
        """``file (document n, line l) Kind/name`` and the field, if any."""
        field = self.field
        return f"{self.document.describe()} {field}" if field else self.document.describe()


@dataclass(frozen=True, slots=True)
class PlanResult:
    """A plan, or the problems that prevent one (reported before any fetch)."""

    plan: DocumentPlan
    problems: tuple[Problem, ...]


def plan_document(document: Document, directives: Directives, rules: ReferenceRules) -> PlanResult:
    """Find every placeholder of a parsed, not-ignored document and the secret each needs."""
    body: YamlNode = document.body
    problems = _directive_problems(document, directives, rules)
    slots = _scan_strings(body, document, directives, problems)
    plan = DocumentPlan(document, directives, tuple(slots))
    # A refused annotation path is reported once, not once per generic placeholder.
    check_generic = not (directives.path and rules.path_problem(directives.path))
    for slot in slots:
        found = _slot_problems(slot, rules, check_generic)
        problems.extend(Problem(document, text, slot.path, slot.base64) for text in found)
    problems.extend(_key_problems(document, directives))
    return PlanResult(plan, tuple(problems))


def _directive_problems(
    doc: Document, directives: Directives, rules: ReferenceRules
) -> list[Problem]:
    problems = []
    if directives.remove_missing and doc.kind not in _REMOVABLE_KINDS:
        message = (
            "avp.kubernetes.io/remove-missing annotation can only be used"
            " on Secret or ConfigMap resources"
        )
        problems.append(Problem(doc, message))
    problem = rules.path_problem(directives.path) if directives.path else None
    if problem:
        problems.append(Problem(doc, problem))
    return problems


def _scan_strings(
    body: YamlNode, document: Document, directives: Directives, problems: list[Problem]
) -> list[Slot]:
    """The slots of every string holding placeholders; near misses go to ``problems`` (D10:
    text that looks like a placeholder and is none is an input error, never a silent miss)."""
    slots: list[Slot] = []
    # A Secret's value may be the base64 of a placeholder: every string is a candidate there.
    wanted = None if document.kind == "Secret" else might_hold_placeholder
    for leaf in iter_strings(body, wanted=wanted):
        decoded = _decoded_template(leaf.value) if wanted is None else None
        template = leaf.value if decoded is None else decoded
        if decoded is None and wanted is None and not might_hold_placeholder(template):
            continue  # a Secret's string that is neither a placeholder nor base64 of one
        found, misses = _find(template, directives.generic)
        checked = [(p, grammar.malformed(p, directives.generic)) for p in found]
        misses += [miss for _, miss in checked if miss]
        misses += grammar.near_misses(template, directives.generic, found)
        encoded = decoded is not None
        problems.extend(Problem(document, miss, leaf.path, encoded) for miss in misses)
        wellformed = [p for p, miss in checked if miss is None]  # reported, never looked up
        if wellformed:
            planned = tuple(PlannedPlaceholder(p, _ref_for(p, directives)) for p in wellformed)
            slots.append(Slot(leaf.path, template, planned, decoded is not None, leaf.in_mapping))
    return slots


def might_hold_placeholder(text: str) -> bool:
    """False only for text in which nothing can be found: a placeholder and a near miss both
    need a '<', a JSON-escaped placeholder a backslash (``\\u003c``)."""
    return "<" in text or "\\" in text


def _find(template: str, generic: bool) -> tuple[list[grammar.Placeholder], list[str]]:
    """AVP's placeholders, and those Helm's toJson wrote JSON-escaped (issue 10 item 1), in
    order; an escaped one inside a plain one is the plain one's text."""
    found = grammar.find_placeholders(template, generic)
    escaped, problems = grammar.find_escaped(template, generic)
    if escaped:
        found = sorted(found + _outside(escaped, found), key=lambda placeholder: placeholder.start)
    return found, problems


def _outside(
    inner: list[grammar.Placeholder], outer: list[grammar.Placeholder]
) -> list[grammar.Placeholder]:
    """The placeholders of ``inner`` that start outside every one of ``outer`` (both sorted)."""
    kept, index = [], 0
    for placeholder in inner:
        while index < len(outer) and outer[index].end <= placeholder.start:
            index += 1
        if index == len(outer) or placeholder.start < outer[index].start:
            kept.append(placeholder)
    return kept


def _decoded_template(value: str) -> str | None:
    """A Secret value that is the base64 of placeholder text (§3.5), decoded; else None.

    AVP decodes when the text holds any ``<...>``; a ``<path:`` without ``>`` counts too, so
    that its near miss is reported, and so does JSON-escaped text (``toJson | b64enc``).
    """
    decoded = decode_base64(value)
    if decoded is None:
        return None
    candidate = (
        grammar.might_contain_placeholder(decoded)
        or "<path:" in decoded
        or grammar.might_contain_escaped(decoded)
    )
    return decoded if candidate else None


def _ref_for(placeholder: grammar.Placeholder, directives: Directives) -> SecretRef | None:
    inline = placeholder.inline
    if inline is not None:
        return SecretRef(inline.path, inline.key, inline.version)
    if not directives.path:
        return None  # the annotation is present but empty: every <key> is missing (§3.2)
    return SecretRef(directives.path, placeholder.keyspec, directives.secret_version)


def _slot_problems(slot: Slot, rules: ReferenceRules, check_generic: bool) -> Iterator[str]:
    for planned in slot.placeholders:
        placeholder = planned.placeholder
        for index, call in enumerate(placeholder.modifiers):
            problem = modifiers.check_call(call.name, call.args, first=index == 0)
            if problem:
                yield f"{problem} for placeholder {placeholder.keyspec}"
        ref = planned.ref
        if ref is None or not (check_generic or placeholder.inline):
            continue
        if "<" in ref.path or "<" in ref.key:
            yield f"nested placeholders are not supported: {placeholder.text}"
            continue
        reason = rules.ref_problem(ref)
        if reason:
            yield f"{reason} (placeholder {placeholder.keyspec})"


def _key_problems(document: Document, directives: Directives) -> Iterator[Problem]:
    text = document.chunk.text
    if "<" not in text and "\\" not in text:
        return  # no key can hold a placeholder (an escape could spell '<')
    for path, key in iter_keys(document.body, wanted=_has_angle):
        if "<path:" in key or grammar.find_placeholders(key, directives.generic):
            yield Problem(document, f"placeholders in keys are never replaced: {key}", path)


def _has_angle(key: str) -> bool:
    return "<" in key


def decode_base64(value: str) -> str | None:
    """Go's StdEncoding decode (padded, CR/LF ignored) as text, or None if not base64."""
    if len(value) < 4 or value.isspace():
        return None
    compact = value.replace("\r", "").replace("\n", "")
    if len(compact) % 4:
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return modifiers.from_bytes(raw)
