"""Look up the state of every referenced secret through the backend, never keeping a value.

A backend that implements :class:`~avp_py.backends.base.MetadataBackend` is asked for the
state of each reference (``fetch_state``: exists, enabled, concrete version) and no value is
read; any other backend is asked to ``fetch`` it and the value is dropped on the spot. Either
way the run's resolver does the work: each distinct reference once, in parallel, within the
deadline, a missing secret recorded per reference and any other backend failure ending the run
(exit 5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from avp_py.backends.base import MetadataBackend, SecretBackend
from avp_py.check.findings import Code, Finding, Severity, Usage
from avp_py.errors import SecretNotFoundError
from avp_py.model import Deadline, Missing, MissingReason, Outcome, SecretRef, SecretValue
from avp_py.resolver import Resolver

REMOVE_MISSING_NOTE = " (avp.kubernetes.io/remove-missing will drop the key)"


class ValueFreeBackend:
    """A :class:`SecretBackend` view whose ``fetch`` returns a state, never a value."""

    def __init__(self, backend: SecretBackend) -> None:
        self._backend = backend

    def fetch(self, ref: SecretRef) -> SecretValue:
        """No value: only the concrete version; SecretNotFoundError if missing or disabled."""
        backend = self._backend
        if isinstance(backend, MetadataBackend):
            state = backend.fetch_state(ref)
            if not state.usable:
                raise SecretNotFoundError(ref, state.reason or MissingReason.NOT_FOUND)
            return SecretValue(None, state.version)
        return SecretValue(None, backend.fetch(ref).version)  # the value is dropped here

    def validate(self, ref: SecretRef) -> str | None:
        """The backend's own naming rules."""
        return self._backend.validate(ref)

    def close(self) -> None:
        """Close the backend."""
        self._backend.close()


def lookup(
    usages: Sequence[Usage], backend: SecretBackend, max_workers: int, deadline: Deadline
) -> list[Finding]:
    """A finding for every usage whose reference is invalid, missing or disabled."""
    refs = sorted({usage.ref for usage in usages})
    invalid = {ref: problem for ref in refs if (problem := backend.validate(ref))}
    wanted = [ref for ref in refs if ref not in invalid]
    outcomes: Mapping[SecretRef, Outcome] = {}
    if wanted:
        outcomes = Resolver(ValueFreeBackend(backend), max_workers, deadline).resolve(wanted)
    findings: list[Finding] = []
    for usage in usages:
        if usage.ref in invalid:
            message = invalid[usage.ref]
            findings.append(Finding(Severity.ERROR, Code.INVALID_REFERENCE, usage.site, message))
            continue
        outcome = outcomes[usage.ref]
        if isinstance(outcome, Missing):
            findings.append(missing_finding(usage, outcome.reason))
    return findings


def missing_finding(usage: Usage, reason: MissingReason) -> Finding:
    """The finding for a reference the backend has no usable value for."""
    severity = Severity.WARNING if usage.missing_ok else Severity.ERROR
    code = classify(usage.ref, reason)
    note = REMOVE_MISSING_NOTE if usage.missing_ok else ""
    return Finding(severity, code, usage.site, _MESSAGES[code](usage.ref, reason) + note)


def _not_found(ref: SecretRef, reason: MissingReason) -> str:
    detail = "" if reason is MissingReason.NOT_FOUND else f" ({reason.text(ref)})"
    return f"secret {ref.key} does not exist in {ref.path}{detail}"


def _version_not_found(ref: SecretRef, reason: MissingReason) -> str:
    return f"secret {ref.key} has no version {ref.version} in {ref.path}"


def _disabled(ref: SecretRef, reason: MissingReason) -> str:
    version = f"version {ref.version}" if ref.version else "the latest version"
    return f"secret {ref.key} is disabled in {ref.path} ({version})"


_MESSAGES: Mapping[Code, Callable[[SecretRef, MissingReason], str]] = {
    Code.NOT_FOUND: _not_found,
    Code.VERSION_NOT_FOUND: _version_not_found,
    Code.DISABLED: _disabled,
}


def classify(ref: SecretRef, reason: MissingReason) -> Code:
    """The finding code for why a backend has no usable value."""
    if reason is MissingReason.DISABLED:
        return Code.DISABLED
    if ref.version and reason is MissingReason.VERSION_NOT_FOUND:
        return Code.VERSION_NOT_FOUND
    return Code.NOT_FOUND
