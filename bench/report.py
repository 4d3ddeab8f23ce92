"""Markdown tables for a suite run, and the issue's targets with MET / MISSED."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bench.limits import CONCURRENCY, ratio
from bench.measure import Sample
from bench.scenarios import (
    DEADLINE_SECONDS,
    RATE_LIMIT,
    RATE_WINDOW,
    RENDERS_AT_ONCE,
    Outcome,
)
from bench.suite import Suite

MB = 2**20


@dataclass(frozen=True)
class Target:
    """One target of issue 5, evaluated on the run's medians."""

    name: str
    goal: str
    measured: str
    met: bool | None  # None: could not be measured in this run

    @property
    def result(self) -> str:
        return "n/a" if self.met is None else "MET" if self.met else "MISSED"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def times(value: float) -> str:
    """A ratio: ``1,234×``, ``2.82×``, ``0.35×``, ``0.0012×``."""
    if math.isinf(value) or math.isnan(value):
        return "—"
    if value >= 100:
        return f"{value:,.0f}×"
    return f"{value:.2f}×" if value >= 0.01 else f"{value:.2g}×"


def size(nbytes: int) -> str:
    return f"{nbytes / MB:.1f} MiB" if nbytes >= MB else f"{nbytes / 1024:.1f} KiB"


# -- sections -------------------------------------------------------------------------------------
def header(suite: Suite, command: str) -> str:
    m, o = suite.machine, suite.options
    busy = m.load_before > m.cpus
    warning = (
        [
            f"- **warning**: load average {m.load_before:.1f} > {m.cpus} CPUs before the run: other"
            " processes competed for the CPUs, so wall times are inflated"
        ]
        if busy
        else []
    )
    return "\n".join(
        [
            "## avp-py benchmark",
            "",
            f"- command: `{command}` ({suite.seconds:.0f} s in all)",
            f"- machine: {m.cpus} CPUs ({m.cpu_model}), {m.memory_gib:.1f} GiB RAM,"
            f" Python {m.python}; load average {m.load_before:.2f} before,"
            f" {m.load_after:.2f} after",
            f"- code: commit {m.commit}",
            f"- Key Vault test server: {o.latency * 1000:.0f} ms per request (vault API and"
            f" token endpoint); avp-py with AVP_AZURE_CREDENTIAL=managed,"
            f" AVP_MAX_CONCURRENCY={CONCURRENCY}",
            f"- figures: medians of {o.repeat} runs after one unmeasured warm-up run"
            f" (throttling: {o.batches} batches of {RENDERS_AT_ONCE} renders)",
            *warning,
        ]
    )


def yardsticks_table(suite: Suite) -> str:
    rows = [
        [o.name, f'`python -c "{o.start.code}"`', ms(o.start.wall), ms(o.start.cpu)]
        + [f"{o.start.maxrss_mb:.0f}"]
        for o in suite.outcomes.values()
        if o.start is not None
    ]
    token = suite.yardsticks.token_fetch
    rows.append(["all", "token fetch (managed identity endpoint, from the suite)", ms(token)])
    rows[-1] += ["—", "—"]
    return table(["paired with", "yardstick", "wall ms", "CPU ms", "peak MB"], rows)


def _limit(suite: Suite, outcome: Outcome) -> float:
    if outcome.start is None:
        return math.nan
    return suite.yardsticks.limit_seconds(outcome.start.wall, len(outcome.pattern.refs))


def _requests(sample: Sample) -> list[str]:
    r = sample.requests
    return [str(r.key_vault), f"{r.challenges}/{r.gets}/{r.lists}", str(r.tokens), str(r.throttled)]


def measured_table(suite: Suite) -> str:
    rows: list[list[str]] = []
    for outcome in suite.outcomes.values():
        s, m = outcome.median, outcome.manifests
        name = outcome.name if outcome.parallel == 1 else f"{outcome.name} (×{outcome.parallel})"
        rows.append(
            [
                name,
                size(m.size),
                str(m.documents),
                str(m.placeholders),
                str(len(outcome.pattern.refs)),
                ms(s.wall),
                ms(s.cpu),
                f"{s.maxrss_mb:.0f}",
                *_requests(s),
                ms(s.server_cpu),
            ]
        )
    head = ["scenario", "input", "docs", "placeholders", "distinct", "wall ms", "CPU ms"]
    head += ["peak MB", "KV requests", "challenge/GET/list", "tokens", "429s", "server CPU ms"]
    return table(head, rows)


def _warm_cells(outcome: Outcome, least: float) -> list[str]:
    warm = outcome.warm
    if warm is None:
        return ["—", "—", "—"]
    if warm.sample is None:
        return [warm.note, "—", "—"]
    return [
        ms(warm.sample.wall),
        str(warm.sample.requests.key_vault),
        times(warm.sample.wall / least),
    ]


def models_table(suite: Suite) -> str:
    rows: list[list[str]] = []
    for outcome in suite.outcomes.values():
        if outcome.parallel != 1:
            continue
        wall, pattern = outcome.median.wall, outcome.pattern
        least = pattern.least_seconds(suite.options.latency)
        limit = _limit(suite, outcome)
        rows.append(
            [
                outcome.name,
                f"{pattern.round_trips:,}",
                f"{pattern.challenges:,}/{pattern.list_pages:,}/{pattern.gets:,}",
                ms(least),
                ms(limit),
                ms(wall),
                times(wall / least),
                times(ratio(least, wall)),
                times(wall / limit),
                *_warm_cells(outcome, least),
            ]
        )
    head = ["scenario", "AVP round trips", "AVP challenge/list/GET", "AVP least ms", "limit ms"]
    head += ["avp-py ms"]
    head += ["avp-py/AVP", "AVP/avp-py", "avp-py/limit", "warm cache ms", "warm requests"]
    head += ["warm/AVP"]
    return table(head, rows)


def comparisons_table(suite: Suite) -> str:
    rows: list[list[str]] = []
    passthrough = suite.outcomes.get("passthrough")
    if passthrough and passthrough.pyyaml:
        load, dump = passthrough.pyyaml
        avp = passthrough.median.wall
        rows.append(
            [
                f"passthrough: PyYAML CSafeLoader load + CDumper dump, in-process"
                f" (load {ms(load)} + dump {ms(dump)})",
                ms(load + dump),
                ms(avp),
                times(ratio(load + dump, avp)) + " faster",
            ]
        )
    empty = suite.outcomes.get("no-placeholders")
    if empty and empty.start:
        start, run = empty.start, empty.median
        rows.append(
            [f'no placeholders: `python -c "{start.code}"` (CPU {ms(start.cpu)} ms)']
            + [ms(start.wall), f"{ms(run.wall)} (CPU {ms(run.cpu)})"]
            + [times(run.wall / start.wall) + " the yardstick"]
        )
    if not rows:
        return ""
    return table(["yardstick", "yardstick ms", "avp-py ms", "avp-py vs yardstick"], rows)


def throttling_table(suite: Suite) -> str:
    outcome = suite.outcomes.get("throttling")
    if outcome is None:
        return ""
    rows = [
        [
            f"batch {i + 1}",
            ms(s.wall),
            ms(s.cpu),
            f"{s.maxrss_mb:.0f}",
            str(s.requests.key_vault),
            str(s.requests.throttled),
        ]
        for i, s in enumerate(outcome.samples)
    ]
    title = (
        f"{RENDERS_AT_ONCE} renders at once, vault limited to {RATE_LIMIT} requests per"
        f" {RATE_WINDOW:.0f} s; {outcome.failures} of"
        f" {RENDERS_AT_ONCE * len(outcome.samples)} renders failed or passed the"
        f" {DEADLINE_SECONDS:.0f} s deadline"
    )
    head = ["throttling", "slowest render ms", "CPU ms (sum)", "peak MB (max)"]
    head += ["KV requests", "429s"]
    return title + "\n\n" + table(head, rows)


# -- targets --------------------------------------------------------------------------------------
def _memory_targets(suite: Suite) -> Iterator[Target]:
    for outcome in suite.outcomes.values():
        budget = 3 * outcome.manifests.size / MB + 80
        peak = outcome.median.maxrss_mb
        yield Target(
            f"{outcome.name}: peak memory",
            f"≤ 3 × input + 80 MB = {budget:.0f} MB",
            f"{peak:.0f} MB",
            peak <= budget,
        )


def _big_chart_targets(suite: Suite, outcome: Outcome) -> Iterator[Target]:
    s, refs = outcome.median, len(outcome.pattern.refs)
    least = outcome.pattern.least_seconds(suite.options.latency)
    limit = _limit(suite, outcome)
    r = s.requests
    yield Target(
        "big chart: GET requests = distinct references",
        f"{refs}",
        f"{r.gets} GETs (+{r.challenges} challenge, {r.lists} list, {r.tokens} token)",
        r.gets == refs and r.lists == 0,
    )
    speedup = ratio(least, s.wall)
    yield Target(
        "big chart: faster than AVP's least time", "≥ 1,000×", times(speedup), speedup >= 1000
    )
    yield Target(
        "big chart: vs the limit model", "≤ 1.5×", times(s.wall / limit), s.wall <= 1.5 * limit
    )


def _small_app_targets(suite: Suite, outcome: Outcome) -> Iterator[Target]:
    least = outcome.pattern.least_seconds(suite.options.latency)
    cold = outcome.median.wall / least
    yield Target("small app: cold, vs AVP's least time", "≤ 0.6×", times(cold), cold <= 0.6)
    warm = outcome.warm
    if warm is None or warm.sample is None:
        note = warm.note if warm else "not run"
        yield Target("small app: warm cache, vs AVP's least time", "≤ 0.25×", note, None)
        return
    value = warm.sample.wall / least
    yield Target(
        "small app: warm cache, vs AVP's least time", "≤ 0.25×", times(value), value <= 0.25
    )


def _cache_targets(suite: Suite) -> Iterator[Target]:
    for outcome in suite.outcomes.values():
        warm = outcome.warm
        if warm is None:
            continue
        name = f"{outcome.name}: warm cache requests"
        if warm.sample is None:
            yield Target(name, "0", warm.note, None)
        else:
            count = warm.sample.requests.key_vault
            yield Target(name, "0", str(count), count == 0)


def _other_targets(suite: Suite) -> Iterator[Target]:
    empty = suite.outcomes.get("no-placeholders")
    if empty and empty.start:
        value = empty.median.wall / empty.start.wall
        goal = '≤ 2× `python -c "import click, yaml"`'
        yield Target("no placeholders: cold start", goal, times(value), value <= 2)
    passthrough = suite.outcomes.get("passthrough")
    if passthrough and passthrough.pyyaml:
        value = ratio(sum(passthrough.pyyaml), passthrough.median.wall)
        goal = "≥ 30× faster than PyYAML C load + dump"
        yield Target("passthrough", goal, times(value), value >= 30)
    throttling = suite.outcomes.get("throttling")
    if throttling:
        total = RENDERS_AT_ONCE * len(throttling.samples)
        ok = total - throttling.failures
        goal = f"all succeed within {DEADLINE_SECONDS:.0f} s"
        yield Target("throttling: 20 renders at once", goal, f"{ok}/{total}", ok == total)


def targets(suite: Suite) -> list[Target]:
    found: list[Target] = []
    if "big-chart" in suite.outcomes:
        found += _big_chart_targets(suite, suite.outcomes["big-chart"])
    if "small-app" in suite.outcomes:
        found += _small_app_targets(suite, suite.outcomes["small-app"])
    found += _cache_targets(suite)
    found += _other_targets(suite)
    found += _memory_targets(suite)
    return found


def targets_table(suite: Suite) -> str:
    rows = [[t.name, t.goal, t.measured, f"**{t.result}**"] for t in targets(suite)]
    return table(["target", "goal", "measured", "result"], rows)


def notes(suite: Suite) -> str:
    lines = [
        f"- {o.name}: avp-py's own count (warm-up run, --verbose): {o.summary}"
        for o in suite.outcomes.values()
    ]
    for outcome in suite.outcomes.values():
        lines += [f"- {outcome.name}: {note}" for note in outcome.notes]
    return "\n".join(lines)


def render_report(suite: Suite, command: str) -> str:
    from bench.served_report import sections as served_sections  # it imports this module

    sections = [
        header(suite, command),
        "### Yardsticks\n\n" + yardsticks_table(suite),
        "### avp-py (`avp-py generate -`, a new process per render)\n\n" + measured_table(suite),
        "### Against AVP's access pattern and the limit model\n\n" + models_table(suite),
        "### Against the other yardsticks\n\n" + comparisons_table(suite),
        "### Throttling under load\n\n" + throttling_table(suite),
        "### Targets (issue 5)\n\n" + targets_table(suite),
        "### Notes\n\n" + notes(suite),
        *served_sections(suite),
    ]
    if not suite.outcomes:  # the burst alone
        sections = [header(suite, command), *served_sections(suite)]
    return "\n\n".join(section for section in sections if not section.endswith("\n\n")) + "\n"
