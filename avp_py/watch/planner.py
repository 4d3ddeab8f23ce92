"""One cycle's decisions: the records, the secrets' current versions and the refreshes already
asked for, in; which Applications to refresh (and why), out. Pure: no clock, no files, no
network, so every rule of issue 14, item 4 is unit-tested here.

* An Application is behind when a secret it read at "latest" has a newer version now; it is
  refreshed once, whichever and however many of its secrets (and sources) changed.
* Asked once, it is not asked again for the same versions until one of its renders is recorded
  after the request (no refresh storm while a render is pending, and a render that keeps
  failing is not retried in a loop); a still newer version is a new change and asks again.
* A watched secret that no longer exists, or whose latest version is disabled, is reported,
  never a reason to refresh: the render would fail, or drop the key, and Argo CD would keep
  showing the error. A secret missing at render time (``remove-missing``) that now exists is
  a change.
* A record older than the maximum age is dropped: every Application that still exists is
  rendered again at least when Argo CD's manifest cache expires (24 h by default).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from avp_py.backends.base import VersionInfo, latest_candidates
from avp_py.model import SecretRef
from avp_py.watch.records import AppRecord
from avp_py.watch.refreshes import Requested


@dataclass(frozen=True, slots=True)
class Current:
    """What a secret's metadata says now.

    ``versions``: the ids that may be the latest version (one, or several created in the same
    second); empty when the secret does not exist. ``enabled``: whether they are enabled, None
    when they disagree.
    """

    versions: frozenset[str]
    enabled: bool | None = True


@dataclass(frozen=True, slots=True)
class Unknown:
    """The secret could not be looked up this cycle; ``reason`` says why (never a value)."""

    reason: str


Observation = Current | Unknown


def current_of(versions: Sequence[VersionInfo]) -> Observation:
    """What a listing of a secret's versions says about its latest version."""
    candidates = latest_candidates(versions)
    if candidates is None:
        return Unknown("the backend gave a version without a creation time")
    states = {item.enabled for item in candidates}
    enabled = states.pop() if len(states) == 1 else None if states else True
    return Current(frozenset(item.version.lower() for item in candidates), enabled)


@dataclass(frozen=True, slots=True, order=True)
class Change:
    """A watched secret whose latest version is no longer the one served."""

    ref: SecretRef
    served: str | None  # None: the secret was missing when rendered
    current: frozenset[str] = field(compare=False)

    def describe(self) -> str:
        """``VAULT#SECRET OLD -> NEW`` (version ids only)."""
        new = "|".join(sorted(self.current))
        return f"{self.ref.path}#{self.ref.key} {self.served or '(missing)'} -> {new}"


@dataclass(frozen=True, slots=True)
class Refresh:
    """Ask Argo CD to hard-refresh ``application`` because of ``changes``."""

    application: str
    project: str
    changes: tuple[Change, ...]

    def targets(self) -> dict[SecretRef, frozenset[str]]:
        """What to remember of this refresh: the version(s) each changed secret had."""
        return {change.ref: change.current for change in self.changes}


@dataclass(frozen=True)
class Plan:
    """What one cycle does, and what it found."""

    refreshes: tuple[Refresh, ...] = ()
    awaiting: tuple[str, ...] = ()  # behind, already asked, no render recorded since
    settled: tuple[str, ...] = ()  # refresh notes to forget: rendered since, or no record left
    expired: tuple[AppRecord, ...] = ()  # records older than the maximum age
    unusable: Mapping[SecretRef, str] = field(default_factory=dict)  # missing, disabled...
    unknown: Mapping[SecretRef, str] = field(default_factory=dict)  # lookups that failed
    applications: int = 0  # Applications watched (with a current record)


def live_records(records: Iterable[AppRecord], now: float, max_age: float) -> list[AppRecord]:
    """The records young enough to be watched."""
    return [record for record in records if now - record.rendered_at <= max_age]


def watched_secrets(records: Iterable[AppRecord]) -> list[SecretRef]:
    """Every distinct secret the records read at "latest": one lookup each per cycle."""
    return sorted({item.ref for record in records for item in record.latest})


def plan(
    records: Sequence[AppRecord],
    observations: Mapping[SecretRef, Observation],
    requested: Mapping[str, Requested],
    now: float,
    max_age: float,
) -> Plan:
    """Decide the cycle (see the module docs for the rules)."""
    live = live_records(records, now, max_age)
    expired = tuple(record for record in records if record not in live)
    by_application: dict[str, list[AppRecord]] = defaultdict(list)
    for record in live:
        by_application[record.application].append(record)
    findings = _Findings()
    refreshes: list[Refresh] = []
    awaiting: list[str] = []
    settled = [name for name in requested if name not in by_application]
    for application, its_records in sorted(by_application.items()):
        note = requested.get(application)
        if note is not None and max(r.rendered_at for r in its_records) > note.requested_at:
            settled.append(application)  # rendered since it was asked: its record is current
            note = None
        changes = findings.changes(its_records, observations)
        if not changes:
            continue
        if note is not None and all(note.targets.get(c.ref) == c.current for c in changes):
            awaiting.append(application)
            continue
        project = max(its_records, key=lambda r: r.rendered_at).project
        refreshes.append(Refresh(application, project, changes))
    return Plan(
        tuple(refreshes),
        tuple(awaiting),
        tuple(sorted(settled)),
        expired,
        dict(findings.unusable),
        dict(findings.unknown),
        len(by_application),
    )


class _Findings:
    """The changes of each Application, collecting unusable and unknown secrets on the way."""

    def __init__(self) -> None:
        self.unusable: dict[SecretRef, str] = {}
        self.unknown: dict[SecretRef, str] = {}

    def changes(
        self, records: Iterable[AppRecord], observations: Mapping[SecretRef, Observation]
    ) -> tuple[Change, ...]:
        found: set[Change] = set()
        for record in records:
            for item in record.latest:
                observation = observations.get(item.ref, Unknown("not looked up"))
                if isinstance(observation, Unknown):
                    self.unknown[item.ref] = observation.reason
                    continue
                outcome = compare(item.ref, item.version, observation)
                if isinstance(outcome, Change):
                    found.add(outcome)
                elif outcome is not None:
                    self.unusable[item.ref] = outcome
        return tuple(sorted(found))


def compare(ref: SecretRef, served: str | None, current: Current) -> Change | str | None:
    """None if ``served`` is current; why the secret is unusable now; or the change."""
    if not current.versions:
        return None if served is None else "not found"
    if current.enabled is False:
        return "its latest version is disabled"
    if served is not None and served.lower() in current.versions:
        return None
    if current.enabled is None:
        return "its newest versions were created in the same second and disagree on enabled"
    return Change(ref, served, current.versions)
