"""Server mode of every scenario (issue 13): after its in-process runs, the same renders
through the suite's warm ``avp-py serve`` (:mod:`bench.served`)."""

from __future__ import annotations

from bench.limits import Startup, run_python
from bench.measure import Run, Sample
from bench.scenarios import THROTTLE_VAULT, Context, Outcome, Workload, render, throttled_batch
from bench.served import RenderServer, Served, with_render_cpu

PASS = "pass"  # the interpreter's own start: server mode's yardstick
CLIENT_IMPORTS = "import avp_py.cli, avp_py.server.client"  # what a served generate imports


def attach(ctx: Context, server: RenderServer, outcome: Outcome) -> None:
    """Run ``outcome``'s scenario through ``server`` too and keep the result in it."""
    if outcome.workload is None:
        return
    if outcome.parallel == 1:
        outcome.served = served(ctx, server, outcome.workload)
    else:
        outcome.served = served_batches(ctx, server, outcome.workload)


def served(ctx: Context, server: RenderServer, workload: Workload) -> Served:
    """An unmeasured render through the server (it learns the vault's challenge, as the
    sidecar's server does from its first render), then ``repeat`` measured ones, each right
    after the yardsticks ``python -c pass`` and the client's imports."""
    env = server.client_env(ctx.env)
    render(ctx, workload, env, "served")
    notes = [] if server.wait_warm() else ["the server held no warm token: renders fetched own"]
    server.ended()
    samples: list[Sample] = []
    starts: dict[str, list[Run]] = {PASS: [], CLIENT_IMPORTS: []}
    for _ in range(ctx.options.repeat):
        for code, runs in starts.items():
            runs.append(run_python(ctx.python, code, ctx.env, ctx.workdir))
        sample = render(ctx, workload, env, "served")
        samples.append(with_render_cpu(sample, server.ended(), 1))
    return Served(samples, [Startup.of(code, runs) for code, runs in starts.items()], 0, notes)


def served_batches(ctx: Context, server: RenderServer, workload: Workload) -> Served:
    """The throttling batches again, through the server, after one unmeasured render (the
    in-process batches follow one too)."""
    render(ctx, workload, server.client_env(ctx.env), "served")
    server.ended()
    batches = range(ctx.options.batches)
    through = [throttled_batch(ctx, workload, THROTTLE_VAULT, server) for _ in batches]
    lost = [failure for _, found in through for failure in found]
    notes = [f"failed render via the server: {failure}" for failure in lost]
    return Served([sample for sample, _ in through], [], len(lost), notes)
