"""The library entry point: read → plan → resolve → substitute → write, for one run.

Nothing is written anywhere: the caller gets the whole output text, or an exception. Failures
of every document are collected and raised together, so one run reports everything wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field

from avp_py import backends, documents, output
from avp_py.backends import cache
from avp_py.backends.base import BackendContext, BackendStats, SecretBackend
from avp_py.budget import Budget
from avp_py.directives import parse_directives
from avp_py.documents import Document
from avp_py.errors import InputError, PlaceholderError, UnresolvedPlaceholdersError
from avp_py.model import Deadline, LatestVersion, Outcome, SecretRef, SecretValue, YamlNode
from avp_py.planner import DocumentPlan, Problem, plan_document
from avp_py.resolver import Resolver
from avp_py.settings import Settings
from avp_py.settings.policy import ReferenceRules
from avp_py.sources import Source
from avp_py.substitute import substitute

log = logging.getLogger(__name__)

BackendBuilder = Callable[[Settings, BackendContext], SecretBackend]


@dataclass(frozen=True, slots=True)
class RenderStats:
    """What ``--verbose`` summarises at the end of a run."""

    documents: int
    placeholders: int
    distinct_secrets: int
    backend_requests: int
    cache_hits: int
    # What the backend did to get there (issue 10 item 6): counts only, never values.
    retries: int = 0
    throttled: int = 0
    token_requests: int = 0
    cache_misses: int = 0


@dataclass(frozen=True, slots=True)
class RenderResult:
    """The output stream, the run's figures, and what ``avp-py watch`` records of the run.

    ``latest``: every reference resolved at "latest" whose served version is known (or that
    was missing), sorted; pinned references cannot change and are left out (issue 14).
    """

    text: str = field(repr=False)  # holds the filled values
    stats: RenderStats
    latest: tuple[LatestVersion, ...] = ()


def default_backend(settings: Settings, context: BackendContext) -> SecretBackend:
    """Build the backend named by ``AVP_TYPE`` through the registry, behind the cache if set."""
    backend = backends.load_factory(settings.backend)(context)
    if settings.cache is None:
        return backend
    # A cached value is valid for the backend identity it was read under, and only for it.
    namespace = backends.entry(settings.backend).identity(settings.options).namespace
    return cache.wrap(backend, settings.cache, namespace, context.stats, context.deadline)


def render(
    sources: Iterable[Source],
    settings: Settings,
    deadline: Deadline,
    *,
    directory_mode: bool = False,
    build_backend: BackendBuilder = default_backend,
    budget: Budget | None = None,
) -> RenderResult:
    """Render every document of ``sources``; raises an AvpError subclass on any failure.

    ``budget``: the run's (issue 11), if the caller already spent some of it reading the
    input; by default one from ``settings`` and ``deadline``."""
    budget = budget or settings.budget(deadline)
    docs = read_documents(sources, settings, directory_mode=directory_mode)
    plans, rollouts = _plan(docs, settings.reference_rules)
    refs = set().union(*(plan.refs() for plan in plans.values()))
    stats = BackendStats()
    context = BackendContext(settings.options, deadline, settings.max_concurrency, stats)
    outcomes = _resolve(refs, plans, settings, context, build_backend)
    replaced = _substitute(plans, outcomes, budget)
    if rollouts:
        from avp_py import rollout  # only renders that ask for it pay for importing it

        replaced = rollout.annotate(docs, plans, outcomes, replaced, rollouts)
    placeholders = sum(len(slot.placeholders) for plan in plans.values() for slot in plan.slots)
    figures = RenderStats(
        len(docs),
        placeholders,
        len(refs),
        stats.get("requests"),
        stats.get("cache_hits"),
        *(stats.get(name) for name in ("retries", "throttled", "token_requests", "cache_misses")),
    )
    text = output.write(docs, replaced, budget)
    return RenderResult(text, figures, latest_versions(outcomes))


def latest_versions(outcomes: Mapping[SecretRef, Outcome]) -> tuple[LatestVersion, ...]:
    """The "latest" references and the versions they were served; a backend that does not know
    a concrete version (the file backend) gives nothing to compare later, so none is kept."""
    found = []
    for ref, outcome in outcomes.items():
        if ref.version:
            continue
        if isinstance(outcome, SecretValue):
            if outcome.version:
                found.append(LatestVersion(ref, outcome.version))
        else:
            found.append(LatestVersion(ref, None))
    return tuple(sorted(found))


def read_documents(
    sources: Iterable[Source], settings: Settings, *, directory_mode: bool, load_all: bool = False
) -> list[Document]:
    """The read step of ``generate`` and ``check``: every document within the settings' limits,
    and no input at all refused unless allowed (decision D8)."""
    docs = documents.load(sources, settings.limits, directory_mode, load_all)
    if not docs and not settings.allow_empty:
        raise InputError(
            "the input holds no Kubernetes documents, and an empty render makes Argo CD prune the"
            " application: refused (use --allow-empty or AVP_ALLOW_EMPTY=true if intended)"
        )
    return docs


def _plan(
    docs: Sequence[Document], rules: ReferenceRules
) -> tuple[dict[int, DocumentPlan], list[int]]:
    """The plans of the documents with placeholders, and the positions asking for a rollout
    checksum; every problem of every document raised at once, before anything is fetched."""
    plans: dict[int, DocumentPlan] = {}
    rollouts: list[int] = []
    problems: list[Problem] = []
    for position, document in enumerate(docs):
        if document.body is None:
            continue
        try:
            directives = parse_directives(document.body)
        except PlaceholderError as exc:
            problems.append(Problem(document, str(exc)))
            continue
        if directives.ignore:
            log.info("%s: ignored (avp.kubernetes.io/ignore)", document.describe())
            continue
        result = plan_document(document, directives, rules)
        problems.extend(result.problems)
        if result.plan.slots:
            plans[position] = result.plan
        if directives.rollout_on_change:
            rollouts.append(position)
            from avp_py import rollout  # only renders that ask for it pay for importing it

            problem = rollout.kind_problem(document)  # refused before anything is fetched
            if problem:
                problems.append(Problem(document, problem))
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        lines = [f"{problem.where}: {problem.message}" for problem in problems]
        raise PlaceholderError(f"{len(problems)} placeholder {noun}; nothing was fetched", lines)
    return plans, rollouts


def _resolve(
    refs: set[SecretRef],
    plans: Mapping[int, DocumentPlan],
    settings: Settings,
    context: BackendContext,
    build_backend: BackendBuilder,
) -> Mapping[SecretRef, Outcome]:
    if not refs:
        return {}
    backend = build_backend(settings, context)
    with closing(backend):
        invalid = [
            f"{_first_site(ref, plans)}: {problem}"
            for ref in sorted(refs)
            if (problem := backend.validate(ref))
        ]
        if invalid:
            message = f"{len(invalid)} invalid secret reference(s); nothing was fetched"
            raise PlaceholderError(message, invalid)
        return Resolver(backend, settings.max_concurrency, context.deadline).resolve(refs)


def _first_site(ref: SecretRef, plans: Mapping[int, DocumentPlan]) -> str:
    for plan in plans.values():
        for slot in plan.slots:
            if any(p.ref == ref for p in slot.placeholders):
                return f"{plan.where(slot)} ({ref.describe()})"
    return ref.describe()


def _substitute(
    plans: Mapping[int, DocumentPlan], outcomes: Mapping[SecretRef, Outcome], budget: Budget
) -> dict[int, YamlNode]:
    replaced: dict[int, YamlNode] = {}
    failures: list[str] = []
    for position, plan in plans.items():
        result = substitute(plan, outcomes.__getitem__, budget)
        failures.extend(result.failures)
        if result.body is not None:
            replaced[position] = result.body
    if failures:
        raise UnresolvedPlaceholdersError(failures)
    return replaced


def start_deadline(seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
    """A deadline ``seconds`` from now."""
    return Deadline(seconds, clock() + seconds)
