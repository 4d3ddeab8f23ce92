"""The burst scenario (issue 13): small-app renders submitted all at once to one server
pinned to one CPU, against the same number of in-process renders on that CPU.

After a repository-wide commit or a "hard refresh all", Argo CD starts hundreds of renders at
once in one sidecar. Here everything runs on one CPU (``taskset``): the server, its render
processes, the clients, and the in-process renders; the Key Vault test server runs in the
benchmark's process on the other CPUs. A batch's time runs from the launcher's start to the
last render's end; its rate is the renders that succeeded within the deadline per second.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from bench import inputs
from bench.measure import launch
from bench.scenarios import Context, Workload, _failure, _job, _write
from bench.served import RenderServer

BURST = "burst"  # its name for `python -m bench --only`
SERVED_BURSTS = (50, 200)
IN_PROCESS_BURST = 200


@dataclass(frozen=True)
class Batch:
    """One burst: ``renders`` at once, how long all took, how many made it."""

    mode: str
    renders: int
    seconds: float
    slowest: float
    cpu: float
    """Client processes plus (through the server) the render processes, seconds."""
    failures: tuple[str, ...]

    @property
    def succeeded(self) -> int:
        return self.renders - len(self.failures)

    @property
    def rate(self) -> float:
        """Renders that succeeded within the deadline, per second."""
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0

    @property
    def ended_rate(self) -> float:
        """Renders that ended, whatever their exit code, per second: the throughput even
        when the deadline fails them all (as it fails 200 in-process renders on one CPU)."""
        return self.renders / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Burst:
    cpu: int
    max_renders: int
    batches: tuple[Batch, ...]


def burst_input(ctx: Context) -> Workload:
    vault = inputs.seed_vault(ctx.kv, "bench-burst", inputs.SMALL_VAULT_SIZE, inputs.SMALL_PINNED)
    return _write(ctx, "burst", inputs.small_app(vault), vault)


def run_burst(ctx: Context) -> Burst:
    cpu = max(os.sched_getaffinity(0))
    workload = burst_input(ctx)
    batches: list[Batch] = []
    with RenderServer(ctx.avp, ctx.env, ctx.workdir / "burst-server", cpu) as server:
        env = server.client_env(ctx.env)
        _batch(ctx, workload, env, 1, cpu, "warm-up")  # the server learns the vault's challenge
        server.wait_warm()  # and holds its token, as a sidecar's server soon after its start
        server.ended()
        max_renders = int(_status_field(server, "max_renders"))
        for count in SERVED_BURSTS:
            batch = _batch(ctx, workload, env, count, cpu, "via the server")
            ended = server.ended()
            batches.append(
                Batch(
                    batch.mode,
                    batch.renders,
                    batch.seconds,
                    batch.slowest,
                    batch.cpu + sum(e.cpu for e in ended),
                    batch.failures,
                )
            )
    batches.append(_batch(ctx, workload, ctx.env, IN_PROCESS_BURST, cpu, "in-process"))
    return Burst(cpu, max_renders, tuple(batches))


def _status_field(server: RenderServer, name: str) -> object:
    from avp_py.server.status import request_status

    return request_status(server.socket)[name]


def _batch(
    ctx: Context, workload: Workload, env: dict[str, str], count: int, cpu: int, mode: str
) -> Batch:
    jobs = [_job(ctx, workload, f"burst{i}") for i in range(count)]
    begin = time.perf_counter()
    runs = launch(jobs, env, cpu=cpu)
    seconds = time.perf_counter() - begin
    failures = tuple(f for f in (_failure(r, j) for r, j in zip(runs, jobs, strict=True)) if f)
    slowest = max(run.wall for run in runs)
    return Batch(mode, count, seconds, slowest, sum(run.cpu for run in runs), failures)
