"""The report's server-mode sections (issue 13): every scenario in-process and through
``avp-py serve`` side by side, the client's own start, the burst, and the issue's targets."""

from __future__ import annotations

from collections.abc import Iterator

from bench.burst import Burst
from bench.limits import ratio
from bench.report import Target, ms, table, times
from bench.scenarios import DEADLINE_SECONDS, Outcome
from bench.served_runs import CLIENT_IMPORTS, PASS
from bench.suite import Suite


def _start(outcome: Outcome, code: str) -> float:
    assert outcome.served is not None
    found = [s for s in outcome.served.starts if s.code == code]
    return found[0].wall if found else float("nan")


def served_table(suite: Suite) -> str:
    rows: list[list[str]] = []
    for outcome in suite.outcomes.values():
        if outcome.served is None:
            continue
        local, via = outcome.median, outcome.served.median
        least = outcome.pattern.least_seconds(suite.options.latency)
        r = via.requests
        name = outcome.name if outcome.parallel == 1 else f"{outcome.name} (×{outcome.parallel})"
        rows.append(
            [
                name,
                ms(least),
                ms(local.wall),
                ms(local.cpu),
                ms(via.wall),
                ms(via.cpu),
                f"{r.challenges}/{r.gets}/{r.lists}",
                str(r.tokens),
                times(via.wall / least) if outcome.parallel == 1 else "—",
                times(via.wall / local.wall),
            ]
        )
    head = ["scenario", "AVP least ms", "in-process wall ms", "in-process CPU ms"]
    head += ["served wall ms", "served CPU ms", "served challenge/GET/list", "served tokens"]
    head += ["served/AVP least", "served/in-process wall"]
    return table(head, rows)


def client_start_table(suite: Suite) -> str:
    """The client's imports against the bare interpreter, paired with the served renders."""
    rows: list[list[str]] = []
    for outcome in suite.outcomes.values():
        if outcome.served is None or not outcome.served.starts:
            continue
        by_code = {s.code: s for s in outcome.served.starts}
        bare, client = by_code[PASS], by_code[CLIENT_IMPORTS]
        rows.append(
            [outcome.name, ms(bare.wall), ms(bare.cpu), ms(client.wall), ms(client.cpu)]
            + [f"{(client.cpu - bare.cpu) * 1000:+.1f}"]
        )
    head = ["paired with", '`python -c "pass"` wall ms', "CPU ms"]
    head += [f'`python -c "{CLIENT_IMPORTS}"` wall ms', "CPU ms", "client's own CPU ms"]
    return table(head, rows)


def burst_table(burst: Burst) -> str:
    rows = [
        [
            b.mode,
            str(b.renders),
            f"{b.seconds:.1f}",
            f"{b.rate:.1f}",
            f"{b.ended_rate:.1f}",
            ms(b.slowest),
            str(len(b.failures)),
            f"{b.cpu:.1f}",
        ]
        for b in burst.batches
    ]
    title = (
        f"Everything on CPU {burst.cpu} (`taskset`): the server (AVP_SERVER_MAX_RENDERS"
        f" {burst.max_renders}, its default for one CPU), its renders, the clients, and the"
        f" in-process renders; the Key Vault test server on the other CPUs. Rates: renders that"
        f" succeeded within {DEADLINE_SECONDS:.0f} s, and renders that ended at all, per second"
        f" of the whole burst."
    )
    head = ["burst", "renders", "seconds", "renders/s (succeeded)", "renders/s (ended)"]
    head += ["slowest render ms", "failed"]
    head += ["CPU s (clients + renders)"]
    return title + "\n\n" + table(head, rows)


def burst_notes(burst: Burst) -> str:
    lines = [f"- burst {b.mode} ({b.renders}): {f}" for b in burst.batches for f in b.failures[:5]]
    return "\n".join(lines)


def served_targets(suite: Suite) -> Iterator[Target]:
    small = suite.outcomes.get("small-app")
    if small and small.served:
        least = small.pattern.least_seconds(suite.options.latency)
        via = small.served.median
        value = via.wall / least
        yield Target(
            "small app via the server, vs AVP's least time", "≤ 0.15×", times(value), value <= 0.15
        )
        yield Target(
            "small app via the server: CPU per render (client + render)",
            "≤ 80 ms",
            f"{ms(via.cpu)} ms",
            via.cpu <= 0.080,
        )
    big = suite.outcomes.get("big-chart")
    if big and big.served:
        value = big.served.median.wall / big.median.wall
        yield Target(
            "big chart via the server, vs in-process wall", "≤ 0.5×", times(value), value <= 0.5
        )
    empty = suite.outcomes.get("no-placeholders")
    if empty and empty.served:
        value = ratio(empty.served.median.wall, _start(empty, PASS))
        goal = '≤ 2× `python -c "pass"`'
        yield Target("no placeholders via the server", goal, times(value), value <= 2)
    if suite.burst is not None:
        yield from _burst_targets(suite.burst)


def _burst_targets(burst: Burst) -> Iterator[Target]:
    """Throughput against the in-process renders that *ended* (not only those that made the
    deadline: when none does, any served throughput would be infinitely better)."""
    local = [b for b in burst.batches if b.mode == "in-process"]
    for batch in burst.batches:
        if batch.mode == "in-process" or not local:
            continue
        value = ratio(batch.rate, local[0].ended_rate)
        inside = batch.succeeded == batch.renders
        yield Target(
            f"burst of {batch.renders} via the server, vs {local[0].renders} in-process:"
            " renders per second",
            "≥ 5×",
            f"{times(value)} ({batch.rate:.1f}/s vs {local[0].ended_rate:.1f}/s ended,"
            f" {local[0].rate:.1f}/s within the deadline)",
            value >= 5,
        )
        yield Target(
            f"burst of {batch.renders} via the server: every render within"
            f" {DEADLINE_SECONDS:.0f} s",
            f"{batch.renders}/{batch.renders}",
            f"{batch.succeeded}/{batch.renders} (slowest {ms(batch.slowest)} ms)",
            inside,
        )


def sections(suite: Suite) -> list[str]:
    """The server-mode sections of the report (empty if the run had no server)."""
    found: list[str] = []
    if any(o.served for o in suite.outcomes.values()):
        found += [
            "### Via the render server (issue 13): in-process and `avp-py serve` side by side\n\n"
            + served_table(suite),
            "### The client's start (issue 13)\n\n" + client_start_table(suite),
        ]
    if suite.burst is not None:
        found.append("### Burst on one CPU (issue 13)\n\n" + burst_table(suite.burst))
    rows = [[t.name, t.goal, t.measured, f"**{t.result}**"] for t in served_targets(suite)]
    if rows:
        found.append(
            "### Targets (issue 13)\n\n" + table(["target", "goal", "measured", "result"], rows)
        )
    notes = [
        f"- {o.name}: {n}" for o in suite.outcomes.values() if o.served for n in o.served.notes
    ]
    if suite.burst is not None and burst_notes(suite.burst):
        notes.append(burst_notes(suite.burst))
    if notes:
        found.append("### Notes (issue 13)\n\n" + "\n".join(notes))
    return found
