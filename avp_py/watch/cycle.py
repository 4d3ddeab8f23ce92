"""One watch cycle: read the records, look the secrets up, decide, ask Argo CD, write it down.

Nothing here raises for what the network or the files do: a damaged record is removed with a
warning, a lookup that fails leaves its secret unknown until the next cycle, Argo CD refusing
or unreachable is a warning and the request is made again next cycle. Logging is the output:
one line per refresh (the Application, the secrets that changed, old -> new version ids),
warnings for what needs an operator, and with ``--verbose`` one summary line per cycle. No
line holds a value or the Argo CD token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

from avp_py import backends
from avp_py.backends.base import (
    BackendContext,
    BackendStats,
    SecretBackend,
    VersionInfo,
    VersionListingBackend,
)
from avp_py.errors import ConfigError
from avp_py.model import Deadline, SecretRef
from avp_py.settings import Settings
from avp_py.settings.load import for_project
from avp_py.settings.watch import WatchSettings
from avp_py.watch import lookup, planner
from avp_py.watch.argocd import Answer, ArgoCdClient, Outcome
from avp_py.watch.planner import Current, Observation, Plan, Refresh
from avp_py.watch.records import AppRecord, Identity, identity_of
from avp_py.watch.refreshes import Requested
from avp_py.watch.report import CycleReport
from avp_py.watch.store import StateDirectory

log = logging.getLogger("avp_py.watch")

# Refresh requests in flight at once: Argo CD answers each only once the render is done, and
# the repo-server renders them all; a few at a time keeps a rotation from queueing 200 renders.
REFRESH_CONCURRENCY = 4

BackendBuilder = Callable[[BackendContext], "lookup.ListingBackend"]


def listing_backend(settings: Settings) -> BackendBuilder:
    """The factory of ``AVP_TYPE``'s backend; ConfigError unless it can list versions."""
    factory = backends.load_factory(settings.backend)

    def build(context: BackendContext) -> lookup.ListingBackend:
        backend = factory(context)
        if not isinstance(backend, VersionListingBackend):
            backend.close()
            raise ConfigError(
                f"AVP_TYPE={settings.backend} cannot be watched: the backend does not list"
                " secret versions (avp-py watch reads metadata only)"
            )
        return _Listing(backend)

    return build


class _Listing:
    """A backend seen through what the watcher uses of it."""

    def __init__(self, backend: SecretBackend) -> None:
        self._backend = backend

    def validate(self, ref: SecretRef) -> str | None:
        return self._backend.validate(ref)

    def list_versions(self, ref: SecretRef) -> Sequence[VersionInfo]:
        assert isinstance(self._backend, VersionListingBackend)
        return self._backend.list_versions(ref)

    def close(self) -> None:
        self._backend.close()


class Watcher:
    """The watcher's state across cycles: settings, the Argo CD client, what was reported."""

    def __init__(
        self,
        settings: Settings,
        watch: WatchSettings,
        build_backend: BackendBuilder,
        client: ArgoCdClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._watch = watch
        self._build_backend = build_backend
        self._client = client
        self._clock = clock
        self._projects: dict[str, Settings | None] = {}
        self._reported: set[tuple[SecretRef, str]] = set()
        self._said_empty = False

    def _for_project(self, project: str) -> Settings | None:
        """The settings a render of ``project`` has (its identity: AVP_AZURE_IDENTITIES);
        None when the sidecar's settings would refuse that project."""
        if project not in self._projects:
            try:
                self._projects[project] = for_project(self._settings, project)
            except ConfigError as exc:
                log.warning("watch records of AppProject %r are not watched: %s", project, exc)
                self._projects[project] = None
        return self._projects[project]

    def _identity(self, record: AppRecord) -> Identity | None:
        settings = self._for_project(record.project)
        return None if settings is None else identity_of(settings.backend, settings.options)

    @property
    def interval(self) -> float:
        """Seconds between cycles (``AVP_WATCH_INTERVAL_SECONDS``)."""
        return self._watch.interval_seconds

    def cycle(self) -> CycleReport:
        """Run one cycle (see the module docs)."""
        started = time.monotonic()
        state = StateDirectory(self._watch.state_dir).open()
        state.remove_stale_temporaries()
        loaded = state.load_records()
        for problem in loaded.problems:
            log.warning("damaged watch record %s", problem)
        records = self._own(loaded.records)
        self._say_if_empty(loaded.records)
        report = CycleReport(records=len(records), foreign=len(loaded.records) - len(records))
        now = self._clock()
        live = planner.live_records(records, now, self._watch.record_max_age_seconds)
        observations = self._look_up(live, report)
        report.plan = planner.plan(
            records, observations, state.load_requests(), now, self._watch.record_max_age_seconds
        )
        self._tidy(state, report.plan)
        report.answers = self._refresh(state, report.plan.refreshes, records)
        self._report_problems(report.plan)
        report.seconds = time.monotonic() - started
        return report

    def _say_if_empty(self, records: Sequence[AppRecord]) -> None:
        """Once, while there is no record: the state directory of a new pod is empty."""
        if records:
            self._said_empty = False
        elif not self._said_empty:
            self._said_empty = True
            log.info(
                "no watch records in %s yet: nothing is watched until Argo CD renders the"
                " Applications (after a pod restart, at the latest when its manifest cache"
                " expires; see docs/argocd.md)",
                self._watch.state_dir,
            )

    def _own(self, records: Sequence[AppRecord]) -> list[AppRecord]:
        """The records rendered with this watcher's backend identity; the others are left."""
        own = [record for record in records if record.identity == self._identity(record)]
        if len(own) < len(records):
            log.warning(
                "%d watch record(s) were rendered with another backend or identity than this"
                " watcher's (AVP_TYPE, AVP_AZURE_*, AZURE_*): not watched; give the watcher"
                " the sidecars' settings",
                len(records) - len(own),
            )
        return own

    def _look_up(
        self, live: Sequence[AppRecord], report: CycleReport
    ) -> dict[SecretRef, Observation]:
        """The current version of every secret the live records read, each looked up with the
        identity of a project that reads it (one backend per identity)."""
        report.secrets = len(planner.watched_secrets(live))
        groups: dict[Identity, tuple[Settings, list[AppRecord]]] = {}
        for record in live:
            settings = self._for_project(record.project)
            if settings is not None:
                groups.setdefault(record.identity, (settings, []))[1].append(record)
        seconds = self._settings.timeout_seconds
        deadline = Deadline(seconds, time.monotonic() + seconds)
        stats = BackendStats()
        found: dict[SecretRef, Observation] = {}
        for settings, records in groups.values():
            refs = planner.watched_secrets(records)
            context = BackendContext(settings.options, deadline, settings.max_concurrency, stats)
            with closing(self._build_backend(context)) as backend:
                seen = lookup.current_versions(backend, refs, settings.max_concurrency)
            for ref, observation in seen.items():  # a version is the same whoever reads it
                if ref not in found or isinstance(observation, Current):
                    found[ref] = observation
        report.requests = stats.get("requests")
        return found

    def _tidy(self, state: StateDirectory, plan: Plan) -> None:
        for record in plan.expired:
            state.remove_record(record)
        if plan.expired:
            log.info(
                "removed %d watch record(s) older than AVP_WATCH_RECORD_MAX_AGE_SECONDS",
                len(plan.expired),
            )
        for application in plan.settled:
            state.remove_request(application)

    def _refresh(
        self, state: StateDirectory, refreshes: Sequence[Refresh], records: Sequence[AppRecord]
    ) -> dict[str, Answer]:
        if not refreshes:
            return {}
        workers = min(REFRESH_CONCURRENCY, len(refreshes))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avp-refresh") as pool:
            answers = list(
                pool.map(lambda r: self._client.hard_refresh(r.application, r.project), refreshes)
            )
        now = self._clock()
        for refresh, answer in zip(refreshes, answers, strict=True):
            self._settle(state, refresh, answer, records, now)
        return {r.application: a for r, a in zip(refreshes, answers, strict=True)}

    def _settle(
        self,
        state: StateDirectory,
        refresh: Refresh,
        answer: Answer,
        records: Iterable[AppRecord],
        now: float,
    ) -> None:
        """Write down and log what became of one refresh request."""
        changes = "; ".join(change.describe() for change in refresh.changes)
        if answer.asked:
            state.write_request(Requested(refresh.application, now, refresh.targets()))
            extra = f" ({answer.detail}; Argo CD acts on it anyway)" if answer.detail else ""
            log.info("hard refresh of %s: %s%s", refresh.application, changes, extra)
        elif answer.outcome is Outcome.GONE:
            for record in records:
                if record.application == refresh.application:
                    state.remove_record(record)
            state.remove_request(refresh.application)
            log.warning(
                "Application %s no longer exists in Argo CD (project %s): %s; its watch records"
                " were removed",
                refresh.application,
                refresh.project or "(none)",
                answer.detail,
            )
        else:
            log.warning(
                "hard refresh of %s failed, asking again next cycle: %s%s (changed: %s)",
                refresh.application,
                answer.detail,
                _hint(answer, refresh),
                changes,
            )

    def _report_problems(self, plan: Plan) -> None:
        """Unusable secrets once each (until they change), lookups that failed every cycle."""
        current = {(ref, reason) for ref, reason in plan.unusable.items()}
        for ref, reason in sorted(current - self._reported):
            log.warning(
                "watched secret %s is unusable (%s): the Applications that read it are not"
                " refreshed for it",
                ref.describe(),
                reason,
            )
        self._reported = current
        if plan.unknown:
            log.warning(
                "%d watched secret(s) could not be looked up, trying again next cycle: %s",
                len(plan.unknown),
                _grouped(plan.unknown),
            )


def _hint(answer: Answer, refresh: Refresh) -> str:
    if answer.outcome is Outcome.UNAUTHORIZED:
        return " (check ARGOCD_AUTH_TOKEN: missing, wrong or expired)"
    if answer.outcome is Outcome.DENIED:
        project = refresh.project or "its project"
        return f" (the account needs 'applications, get' on {project})"
    return ""


def _grouped(failures: Mapping[SecretRef, str]) -> str:
    """Each distinct reason once, with how many secrets it hit (the first few named)."""
    by_reason: dict[str, list[SecretRef]] = {}
    for ref, reason in sorted(failures.items()):
        by_reason.setdefault(reason, []).append(ref)
    parts = []
    for reason, refs in by_reason.items():
        names = ", ".join(ref.describe() for ref in refs[:3])
        more = f" and {len(refs) - 3} more" if len(refs) > 3 else ""
        parts.append(f"{reason} ({names}{more})")
    return "; ".join(parts)
