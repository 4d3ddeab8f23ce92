"""Look up the state of every referenced secret through the backend, never keeping a value.

A backend that implements :class:`~avp_py.backends.base.MetadataBackend` is asked for the
state of each reference (``fetch_state``: exists, enabled, concrete version, validity window)
and no value is read; any other backend is asked to ``fetch`` it and the value is dropped on
the spot. Either way the run's resolver does the work: each distinct reference once, in
parallel, within the deadline, a missing secret recorded per reference and any other backend
failure ending the run (exit 5).

A usable secret can still be wrong: expired (``exp`` in the past) or not yet valid (``nbf`` in
the future). Key Vault serves such a secret all the same (its window is informational), so
``generate`` would render it; the check reports it. A SecretProviderClass object of type
``cert`` must be a certificate: its secret is the one Key Vault manages for it.

A secret that does not exist gets "did you mean" from the names in its vault when the backend
can list them (:class:`~avp_py.backends.base.NameListingBackend`, metadata only), among the
names the naming policy lets the app read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from avp_py.backends.base import MetadataBackend, NameListingBackend, SecretBackend, SecretState
from avp_py.check.findings import Code, Finding, Severity, Usage
from avp_py.check.suggest import closest, did_you_mean
from avp_py.errors import SecretNotFoundError
from avp_py.model import Deadline, Missing, MissingReason, Outcome, SecretRef, SecretValue
from avp_py.resolver import Resolver

REMOVE_MISSING_NOTE = " (avp.kubernetes.io/remove-missing will drop the key)"


class ValueFreeBackend:
    """A :class:`SecretBackend` view whose ``fetch`` returns a state, never a value.

    The states of usable references are kept (:meth:`state`) for the checks that need more
    than "exists": the validity window and whether a secret is a certificate's.
    """

    def __init__(self, backend: SecretBackend) -> None:
        self._backend = backend
        self._states: dict[SecretRef, SecretState] = {}
        self._lock = threading.Lock()

    def fetch(self, ref: SecretRef) -> SecretValue:
        """No value: only the concrete version; SecretNotFoundError if missing or disabled."""
        backend = self._backend
        if isinstance(backend, MetadataBackend):
            state = backend.fetch_state(ref)
            if not state.usable:
                raise SecretNotFoundError(ref, state.reason or MissingReason.NOT_FOUND)
            with self._lock:
                self._states[ref] = state
            return SecretValue(None, state.version)
        return SecretValue(None, backend.fetch(ref).version)  # the value is dropped here

    def state(self, ref: SecretRef) -> SecretState | None:
        """The state ``fetch`` saw for a usable ``ref`` (None: the backend has no metadata)."""
        with self._lock:
            return self._states.get(ref)

    def validate(self, ref: SecretRef) -> str | None:
        """The backend's own naming rules."""
        return self._backend.validate(ref)

    def close(self) -> None:
        """Close the backend."""
        self._backend.close()


Allowed = Callable[[SecretRef], bool]


def lookup(
    usages: Sequence[Usage],
    backend: SecretBackend,
    max_workers: int,
    deadline: Deadline,
    now: float | None = None,
    allowed: Allowed | None = None,
) -> list[Finding]:
    """A finding for every usage whose reference is invalid, missing, disabled, outside its
    validity window at ``now`` (default: the current time), or not the object type asked for.
    Names are suggested only among those ``allowed`` accepts (default: none)."""
    refs = sorted({usage.ref for usage in usages})
    invalid = {ref: problem for ref in refs if (problem := backend.validate(ref))}
    wanted = [ref for ref in refs if ref not in invalid]
    view = ValueFreeBackend(backend)
    outcomes: Mapping[SecretRef, Outcome] = {}
    if wanted:
        outcomes = Resolver(view, max_workers, deadline).resolve(wanted)
    hints = _hints(outcomes, backend, allowed)
    moment = time.time() if now is None else now
    findings: list[Finding] = []
    for usage in usages:
        if usage.ref in invalid:
            message = invalid[usage.ref]
            findings.append(Finding(Severity.ERROR, Code.INVALID_REFERENCE, usage.site, message))
            continue
        outcome = outcomes[usage.ref]
        if isinstance(outcome, Missing):
            findings.append(missing_finding(usage, outcome.reason, hints.get(usage.ref, "")))
            continue
        state = view.state(usage.ref)
        if state is not None:
            findings.extend(state_findings(usage, state, moment))
    return findings


def _hints(
    outcomes: Mapping[SecretRef, Outcome], backend: SecretBackend, allowed: Allowed | None
) -> dict[SecretRef, str]:
    """ "Did you mean" for each secret that does not exist, one listing per vault."""
    missing = [
        ref
        for ref, outcome in outcomes.items()
        if isinstance(outcome, Missing) and classify(ref, outcome.reason) is Code.NOT_FOUND
    ]
    if not missing or allowed is None or not isinstance(backend, NameListingBackend):
        return {}
    names: dict[str, Sequence[str]] = {}
    hints: dict[SecretRef, str] = {}
    for ref in missing:
        if ref.path not in names:
            names[ref.path] = backend.list_names(ref)

        def readable(name: str, ref: SecretRef = ref) -> bool:
            return allowed(SecretRef(ref.path, name, ref.version))

        hints[ref] = did_you_mean(closest(ref.key, names[ref.path], readable))
    return hints


def state_findings(usage: Usage, state: SecretState, now: float) -> list[Finding]:
    """What is wrong with a usable secret: its validity window, or its object type."""
    ref, site = usage.ref, usage.site
    found: list[Finding] = []
    version = f"version {state.version}" if state.version else "the latest version"
    if state.expires is not None and state.expires <= now:
        message = f"secret {ref.key} in {ref.path} expired at {_utc(state.expires)} ({version})"
        found.append(Finding(Severity.ERROR, Code.EXPIRED, site, message))
    if state.not_before is not None and state.not_before > now:
        message = (
            f"secret {ref.key} in {ref.path} is not valid before {_utc(state.not_before)}"
            f" ({version})"
        )
        found.append(Finding(Severity.ERROR, Code.NOT_YET_VALID, site, message))
    if usage.object_type == "cert" and state.managed is False:
        message = (
            f"object {ref.key} has objectType cert, but {ref.key} in {ref.path} is a secret, not"
            " a certificate: the provider would not find it (use objectType: secret)"
        )
        found.append(Finding(Severity.ERROR, Code.SPC_OBJECT_TYPE, site, message))
    return found


def missing_finding(usage: Usage, reason: MissingReason, hint: str = "") -> Finding:
    """The finding for a reference the backend has no usable value for (``hint``: a
    "did you mean" for a secret that does not exist)."""
    severity = Severity.WARNING if usage.missing_ok else Severity.ERROR
    code = classify(usage.ref, reason)
    note = REMOVE_MISSING_NOTE if usage.missing_ok else ""
    message = _MESSAGES[code](usage.ref, reason) + hint + note
    return Finding(severity, code, usage.site, message)


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


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
