"""The scenarios: build an input, render it with the real ``avp-py generate -``, measure.

Every scenario renders its input once unmeasured (``--verbose``, to warm the page cache and
keep avp-py's own summary line), then ``repeat`` measured times; the report quotes medians.
Counters are reset before every measured run, so each sample's requests are that run's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bench import inputs
from bench.avp_model import AvpPattern, avp_pattern
from bench.limits import Startup, run_python, startup_code
from bench.measure import (
    BenchError,
    Job,
    Run,
    Sample,
    Server,
    launch,
    median,
    median_sample,
    own_cpu,
    read_requests,
)
from bench.served import RenderServer, Served, with_render_cpu

CACHE_KEY = "avp-py-benchmark-cache-key-not-a-secret-0123456789"  # ≥ 32 characters
CACHE_TTL_SECONDS = "3600"  # longer than the suite: "latest" lookups stay warm too
RENDERS_AT_ONCE = 20
RATE_LIMIT = 300  # Key Vault requests per window for the throttled vault (real: 4,000 / 10 s)
RATE_WINDOW = 10.0
MAX_BATCHES = 3
THROTTLE_VAULT = "bench-throttle"  # the rate-limited vault
DEADLINE_SECONDS = 45.0  # avp-py's default AVP_TIMEOUT_SECONDS, inside Argo CD's 60 s
PASSTHROUGH_BYTES = 20 * 2**20
PASSTHROUGH_QUICK_BYTES = 2 * 2**20

_LEFTOVER = re.compile(rb"<(?:path:|secret-\d)")
_SUMMARY = re.compile(r"\d+ documents, .*")


class KeyVault(Server, inputs.SecretSink, Protocol):
    """The parts of ``tests.kvserver.KeyVaultServer`` the scenarios use."""

    def vault_faults(self, vault: str) -> RateLimited: ...


class RateLimited(Protocol):
    def rate_limit(self, requests: int | None, window: float = 10.0) -> None: ...


@dataclass(frozen=True)
class Options:
    repeat: int = 5
    quick: bool = False
    latency: float = 0.020
    baseline_repeat: int = 1
    """Runs of the PyYAML yardstick (each takes seconds on the full stream)."""

    @property
    def batches(self) -> int:
        """Throttling batches of 20 renders each: at most 3, for the suite's time budget."""
        return min(self.repeat, MAX_BATCHES)


@dataclass
class Context:
    """What every scenario needs: the server, a scratch directory, the command, the env."""

    kv: KeyVault
    workdir: Path
    avp: Path
    python: Path
    env: dict[str, str]
    options: Options


@dataclass(frozen=True)
class Workload:
    """A generated input on disk and the vaults it reads."""

    name: str
    manifests: inputs.Manifests
    path: Path
    enabled: Mapping[str, int]


@dataclass
class Warm:
    """The warm cross-run cache variant: a filling run, then warm runs (or n/a)."""

    fill: Sample
    sample: Sample | None
    note: str = ""


@dataclass
class Outcome:
    """Everything measured for one scenario."""

    name: str
    manifests: inputs.Manifests
    pattern: AvpPattern
    samples: list[Sample]
    summary: str
    start: Startup | None = None
    """The paired interpreter-start yardstick (not for the throttling batches)."""
    warm: Warm | None = None
    pyyaml: tuple[float, float] | None = None
    """Passthrough only: median seconds of PyYAML's load and dump of the same stream."""
    parallel: int = 1
    failures: int = 0
    notes: list[str] = field(default_factory=list)
    workload: Workload | None = None
    served: Served | None = None
    """The same renders through the render server (issue 13): bench/served_runs.py."""

    @property
    def median(self) -> Sample:
        return median_sample(self.samples)


# -- workloads ------------------------------------------------------------------------------------
def _write(
    ctx: Context, name: str, manifests: inputs.Manifests, vault: inputs.Vault | None = None
) -> Workload:
    path = ctx.workdir / f"{name}.yaml"
    path.write_text(manifests.text, encoding="utf-8")
    enabled = {vault.name: vault.enabled} if vault else {}
    return Workload(name, manifests, path, enabled)


def big_chart_input(ctx: Context) -> Workload:
    vault = inputs.seed_vault(ctx.kv, "bench-big", inputs.BIG_VAULT_SIZE, inputs.BIG_PINNED)
    return _write(ctx, "big-chart", inputs.big_chart(vault), vault)


def small_app_input(ctx: Context) -> Workload:
    vault = inputs.seed_vault(ctx.kv, "bench-small", inputs.SMALL_VAULT_SIZE, inputs.SMALL_PINNED)
    return _write(ctx, "small-app", inputs.small_app(vault), vault)


def passthrough_input(ctx: Context) -> Workload:
    vault = inputs.seed_vault(ctx.kv, "bench-pass", inputs.PASS_VAULT_SIZE)
    size = PASSTHROUGH_QUICK_BYTES if ctx.options.quick else PASSTHROUGH_BYTES
    return _write(ctx, "passthrough", inputs.passthrough(vault, size), vault)


def no_placeholders_input(ctx: Context) -> Workload:
    return _write(ctx, "no-placeholders", inputs.no_placeholders())


def throttling_input(ctx: Context) -> Workload:
    vault = inputs.seed_vault(ctx.kv, THROTTLE_VAULT, inputs.THROTTLE_VAULT_SIZE)
    return _write(ctx, "throttling", inputs.throttle_app(vault), vault)


# -- one render -----------------------------------------------------------------------------------
def _job(ctx: Context, workload: Workload, tag: str, *flags: str) -> Job:
    out = ctx.workdir / f"{workload.name}.{tag}.out"
    err = ctx.workdir / f"{workload.name}.{tag}.err"
    return Job([str(ctx.avp), "generate", *flags, "-"], workload.path, out, err)


def _check(run: Run, job: Job) -> None:
    if run.returncode != 0:
        tail = job.stderr.read_text(errors="replace")[-1500:]
        raise BenchError(f"avp-py exited {run.returncode} on {job.stdin}:\n{tail}")
    if _LEFTOVER.search(job.stdout.read_bytes()):
        raise BenchError(f"avp-py left a placeholder in its output for {job.stdin}")


def render(
    ctx: Context, workload: Workload, env: Mapping[str, str] | None = None, tag: str = "run"
) -> Sample:
    """One measured render; the server's counters are reset first."""
    job = _job(ctx, workload, tag)
    ctx.kv.reset_counters()
    before = own_cpu()
    [run] = launch([job], env or ctx.env)
    server_cpu = own_cpu() - before
    _check(run, job)
    return Sample(run.wall, run.cpu, run.maxrss_mb, read_requests(ctx.kv), server_cpu)


def warm_up(ctx: Context, workload: Workload) -> str:
    """One unmeasured render with ``--verbose``; returns avp-py's summary line."""
    job = _job(ctx, workload, "warmup", "--verbose")
    [run] = launch([job], ctx.env)
    _check(run, job)
    found = _SUMMARY.findall(job.stderr.read_text(errors="replace"))
    return found[-1] if found else "(no summary line)"


def repeat(ctx: Context, workload: Workload, code: str) -> tuple[list[Sample], Startup]:
    """``repeat`` renders, each right after a run of the interpreter-start yardstick ``code``
    (paired, so that both see the same machine load)."""
    samples: list[Sample] = []
    starts: list[Run] = []
    for _ in range(ctx.options.repeat):
        starts.append(run_python(ctx.python, code, ctx.env, ctx.workdir))
        samples.append(render(ctx, workload))
    return samples, Startup.of(code, starts)


# -- variants -------------------------------------------------------------------------------------
def warm_cache(ctx: Context, workload: Workload) -> Warm:
    """Fill an opt-in cache with one render, then measure warm renders.

    If the first warm render still makes Key Vault requests, the cache settings had no
    effect (the cache is not there): the variant is reported as n/a.
    """
    directory = ctx.workdir / f"cache-{workload.name}"
    directory.mkdir(mode=0o700)
    env = {
        **ctx.env,
        "AVP_CACHE_DIR": str(directory),
        "AVP_CACHE_KEY": CACHE_KEY,
        "AVP_CACHE_TTL_SECONDS": CACHE_TTL_SECONDS,
    }
    fill = render(ctx, workload, env, "fill")
    first = render(ctx, workload, env, "warm")
    if first.requests.key_vault > 0:
        note = f"n/a (cache not available: the warm run made {first.requests.key_vault} requests)"
        return Warm(fill, None, note)
    rest = [render(ctx, workload, env, "warm") for _ in range(ctx.options.repeat - 1)]
    return Warm(fill, median_sample([first, *rest]))


def pyyaml_yardstick(ctx: Context, workload: Workload) -> tuple[float, float]:
    """Median (load, dump) seconds of PyYAML's C loader and dumper, timed in-process."""
    script = Path(__file__).with_name("pyyaml_baseline.py")
    out, err = ctx.workdir / "pyyaml.out", ctx.workdir / "pyyaml.err"
    job = Job([str(ctx.python), str(script), str(workload.path)], None, out, err)
    loads: list[float] = []
    dumps: list[float] = []
    for _ in range(max(1, ctx.options.baseline_repeat)):
        [run] = launch([job], ctx.env)
        if run.returncode != 0:
            raise BenchError(f"PyYAML yardstick failed: {err.read_text()[-1000:]}")
        times = json.loads(out.read_text())
        loads.append(times["load"])
        dumps.append(times["dump"])
    return median(loads), median(dumps)


def throttled_batch(
    ctx: Context, workload: Workload, vault: str, server: RenderServer | None = None
) -> tuple[Sample, list[str]]:
    """20 renders at once against a rate-limited vault: (batch sample, failures).

    The batch's wall time is its slowest render's, CPU time the sum, memory the largest.
    A render fails if it exits non-zero (its ``Error:`` line is kept) or passes the deadline.
    """
    faults = ctx.kv.vault_faults(vault)
    faults.rate_limit(RATE_LIMIT, RATE_WINDOW)
    try:
        ctx.kv.reset_counters()
        jobs = [_job(ctx, workload, f"parallel{i}") for i in range(RENDERS_AT_ONCE)]
        before = own_cpu()
        runs = launch(jobs, server.client_env(ctx.env) if server else ctx.env)
        server_cpu = own_cpu() - before
        requests = read_requests(ctx.kv)
    finally:
        faults.rate_limit(None)
    failures = [_failure(run, job) for run, job in zip(runs, jobs, strict=True)]
    sample = Sample(
        wall=max(run.wall for run in runs),
        cpu=sum(run.cpu for run in runs),
        maxrss_mb=max(run.maxrss_mb for run in runs),
        requests=requests,
        server_cpu=server_cpu,
    )
    if server is not None:
        sample = with_render_cpu(sample, server.ended(), RENDERS_AT_ONCE)
    return sample, [failure for failure in failures if failure]


def _failure(run: Run, job: Job) -> str:
    """Why a render of a batch failed ("" if it did not)."""
    if run.returncode != 0:
        lines = job.stderr.read_text(errors="replace").splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), None)
        error = " / ".join(lines[start : start + 2]) if start is not None else "no Error: line"
        return f"exit {run.returncode} after {run.wall:.1f} s: {error[:400]}"
    _check(run, job)
    if run.wall > DEADLINE_SECONDS:
        return f"took {run.wall:.1f} s, past the {DEADLINE_SECONDS:.0f} s deadline"
    return ""


# -- scenarios ------------------------------------------------------------------------------------
def measured(ctx: Context, workload: Workload) -> Outcome:
    """Warm-up, then the paired measured renders: the common part of every scenario."""
    pattern = avp_pattern(workload.manifests.text, workload.enabled)
    summary = warm_up(ctx, workload)
    samples, start = repeat(ctx, workload, startup_code(len(pattern.refs)))
    outcome = Outcome(workload.name, workload.manifests, pattern, samples, summary, start)
    outcome.workload = workload
    return outcome


def _with_cache(build: Callable[[Context], Workload]) -> Callable[[Context], Outcome]:
    def run(ctx: Context) -> Outcome:
        workload = build(ctx)
        outcome = measured(ctx, workload)
        outcome.warm = warm_cache(ctx, workload)
        return outcome

    return run


def passthrough(ctx: Context) -> Outcome:
    workload = passthrough_input(ctx)
    outcome = measured(ctx, workload)
    outcome.pyyaml = pyyaml_yardstick(ctx, workload)
    return outcome


def no_placeholders(ctx: Context) -> Outcome:
    return measured(ctx, no_placeholders_input(ctx))


def throttling(ctx: Context) -> Outcome:
    workload = throttling_input(ctx)
    pattern = avp_pattern(workload.manifests.text, workload.enabled)
    summary = warm_up(ctx, workload)
    vault = THROTTLE_VAULT
    batches = [throttled_batch(ctx, workload, vault) for _ in range(ctx.options.batches)]
    samples = [sample for sample, _ in batches]
    outcome = Outcome(workload.name, workload.manifests, pattern, samples, summary)
    outcome.parallel = RENDERS_AT_ONCE
    failures = [failure for _, found in batches for failure in found]
    outcome.failures = len(failures)
    outcome.notes += [f"failed render: {failure}" for failure in failures]
    outcome.workload = workload
    return outcome


SCENARIOS: dict[str, Callable[[Context], Outcome]] = {
    "big-chart": _with_cache(big_chart_input),
    "small-app": _with_cache(small_app_input),
    "passthrough": passthrough,
    "no-placeholders": no_placeholders,
    "throttling": throttling,
}
