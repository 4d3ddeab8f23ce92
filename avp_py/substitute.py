"""Fill a planned document with resolved values: modifiers, kind rules, remove-missing. Pure.

Per string (avp-behaviour.md §3.4): each placeholder is replaced by its value when that is a
string; a non-string result (a number from ``jsonParse``, a map) replaces the *whole* field.
``Secret`` values that were base64 templates are re-encoded (§3.5); ``ConfigMap`` values are
stringified (§3.6); ``remove-missing`` deletes a mapping key whose value is missing (§3.8).
This is the only module that reveals secret values, and it never puts one in a message.

Every value put in is counted against the run's ``AVP_MAX_OUTPUT_BYTES`` as it is made (issue
11 item 3): the output holds each of them at least once, so an input that would amplify one
large secret into gigabytes is refused at the placeholder where the limit was passed, before
those gigabytes exist.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from avp_py import gocompat, modifiers
from avp_py.budget import Budget, utf8_size
from avp_py.errors import ModifierError
from avp_py.model import Missing, Outcome, SecretRef, YamlNode
from avp_py.planner import DocumentPlan, PlannedPlaceholder, Slot
from avp_py.walk import DELETE, Delete, FieldPath, apply_edits

Lookup = Callable[[SecretRef], Outcome]


@dataclass(frozen=True, slots=True)
class Substitution:
    """The filled body (None if nothing changed) and every failure, located.

    The body holds secret values, so it is left out of the ``repr``.
    """

    body: YamlNode | None = field(repr=False)
    failures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Filled:
    value: YamlNode = field(repr=False)
    missing: tuple[str, ...]
    errors: tuple[str, ...]


class _Failed(Exception):
    """One placeholder could not be filled (``missing`` tells which kind)."""

    def __init__(self, message: str, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def substitute(plan: DocumentPlan, lookup: Lookup, budget: Budget | None = None) -> Substitution:
    """Apply every slot of ``plan``; the document is unchanged if any slot failed.

    InputError as soon as the values put in pass the ``budget``'s output limit."""
    edits: dict[FieldPath, YamlNode | Delete] = {}
    failures: list[str] = []
    kind = plan.document.kind
    for slot in plan.slots:
        filled = _fill(plan, slot, lookup, budget)
        if filled.missing and plan.directives.remove_missing and slot.in_mapping:
            edits[slot.path] = DELETE
            problems = filled.errors
        else:
            problems = filled.missing + filled.errors
            if not problems:
                problems = _kind_rule(kind, slot, filled.value, edits)
        if problems:
            where = plan.where(slot)
            failures.extend(f"{where}: {problem}" for problem in problems)
    if failures or not edits:
        return Substitution(None, tuple(failures))
    return Substitution(apply_edits(plan.document.body, edits), ())


def _fill(plan: DocumentPlan, slot: Slot, lookup: Lookup, budget: Budget | None) -> _Filled:
    pieces: list[str] = []
    whole: list[YamlNode] = []
    missing: list[str] = []
    errors: list[str] = []
    cursor = 0
    for planned in slot.placeholders:
        placeholder = planned.placeholder
        pieces.append(slot.template[cursor : placeholder.start])
        cursor = placeholder.end
        try:
            value, size = _evaluate(planned, lookup)
            if placeholder.escaped:
                value = _json_escaped(planned, value)
        except _Failed as exc:
            (missing if exc.missing else errors).append(str(exc))
            pieces.append(slot.template[placeholder.start : placeholder.end])
            continue
        if budget is not None and budget.add_value(
            utf8_size(value) if isinstance(value, str) else size
        ):
            raise budget.output_too_large(f"{plan.where(slot)} placeholder {placeholder.keyspec}")
        if isinstance(value, str):
            pieces.append(value)
        else:
            whole.append(value)  # the last non-string result wins, as in AVP
            pieces.append(placeholder.text)
    pieces.append(slot.template[cursor:])
    value = whole[-1] if whole else "".join(pieces)
    return _Filled(value, tuple(missing), tuple(errors))


def _json_escaped(planned: PlannedPlaceholder, value: YamlNode) -> str:
    """A value for a placeholder Helm's toJson wrote JSON-escaped: JSON-escaped the same way
    (``json.Marshal``: HTML-safe), so the JSON text around it stays valid."""
    if isinstance(value, str):
        return gocompat.json_string(value)[1:-1]
    raise _Failed(
        f"a value of type {gocompat.type_name(value)} cannot be written into the JSON string"
        f" of the JSON-escaped placeholder {planned.placeholder.keyspec} (as Helm's toJson"
        " writes it): end the placeholder with a string result, e.g. without jsonParse",
        missing=False,
    )


def _evaluate(planned: PlannedPlaceholder, lookup: Lookup) -> tuple[YamlNode, int]:
    """The placeholder's value, and the size of the secret's text (what a value that is not a
    string, e.g. a ``jsonParse`` result, is counted as in the output limit)."""
    placeholder, ref = planned.placeholder, planned.ref
    if ref is None:
        raise _Failed(
            f"missing Vault value for placeholder {placeholder.keyspec}"
            " (the avp.kubernetes.io/path annotation is empty)",
            missing=True,
        )
    outcome = lookup(ref)
    if isinstance(outcome, Missing):
        raise _Failed(
            f"missing Vault value for placeholder {placeholder.keyspec}"
            f" ({ref.describe()}: {outcome.reason.text(ref)})",
            missing=True,
        )
    value = outcome.reveal()
    size = utf8_size(value) if isinstance(value, str) else 0
    content_type = outcome.content_type  # what the backend served; only the first call sees it
    for call in placeholder.modifiers:
        try:
            value = modifiers.apply(call.name, call.args, value, content_type)
            content_type = None
        except ModifierError as exc:
            raise _Failed(f"{exc} for placeholder {placeholder.keyspec}", missing=False) from None
    return normalize(value), size


def _kind_rule(
    kind: str, slot: Slot, value: YamlNode, edits: dict[FieldPath, YamlNode | Delete]
) -> tuple[str, ...]:
    if slot.base64 or kind == "ConfigMap":
        text = stringify(value)
        if text is None:
            where = "a base64-encoded Secret value" if slot.base64 else "a ConfigMap value"
            return (f"a {gocompat.type_name(value)} cannot be written into {where}",)
        value = base64.b64encode(modifiers.to_bytes(text)).decode("ascii") if slot.base64 else text
    if isinstance(value, str):
        # Bytes that are not UTF-8 (from base64decode) become U+FFFD, as Go's JSON step does.
        value = gocompat.json_text(value)
    edits[slot.path] = value
    return ()


def stringify(value: YamlNode) -> str | None:
    """AVP's ConfigMap rule: strings as is, ints in decimal, bools; None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    return None


def normalize(value: object) -> YamlNode:
    """A modifier/backend result as it reaches the manifest after AVP's JSON step.

    Integral float64 values become integers (``jsonParse`` of ``2`` gives ``replicas: 2``) with
    the digits Go's ``json.Marshal`` writes: ``4611686018427388000``, not the float's exact value
    ``4611686018427387904`` (issue 10, item 5).
    """
    if isinstance(value, float):
        return gocompat.json_number(value)
    if isinstance(value, dict):
        return {str(key): normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
