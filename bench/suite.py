"""One benchmark run: start the Key Vault test server, measure the yardsticks, run scenarios."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.burst import BURST, Burst, run_burst
from bench.limits import (
    CLICK_YAML,
    CONCURRENCY,
    RUNTIME_IMPORTS,
    Yardsticks,
    measure_token_fetch,
    run_python,
)
from bench.measure import BenchError, clean_env
from bench.scenarios import SCENARIOS, Context, Options, Outcome
from bench.served import RenderServer
from bench.served_runs import attach
from tests.kvserver import KeyVaultServer

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Machine:
    """Where the suite ran."""

    cpus: int
    cpu_model: str
    memory_gib: float
    python: str
    commit: str
    load_before: float
    load_after: float


@dataclass
class Suite:
    """A whole run: settings, machine, yardsticks and one outcome per scenario."""

    options: Options
    machine: Machine
    yardsticks: Yardsticks
    outcomes: dict[str, Outcome]
    seconds: float
    burst: Burst | None = None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return float("nan")
    return pages * size / 2**30


def commit() -> str:
    """The measured commit (read-only git commands; no optional index locks)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=all")
    return f"{head} + uncommitted changes" if dirty else head


def avp_command(python: Path) -> Path:
    """``avp-py`` next to the interpreter (the virtualenv's console script)."""
    candidate = python.parent / "avp-py"
    if not candidate.exists():
        raise BenchError(f"{candidate} not found: run with the virtualenv's python")
    return candidate


def child_env(kv: KeyVaultServer) -> dict[str, str]:
    return clean_env(
        {
            **kv.client_env("managed"),
            "AVP_TYPE": "azurekeyvault",
            "AVP_AZURE_CREDENTIAL": "managed",
            "AVP_MAX_CONCURRENCY": str(CONCURRENCY),
            # In-process: never a render server (server mode sets its own socket).
            "AVP_SERVER_SOCKET": "",
        }
    )


def _yardsticks(ctx: Context, kv: KeyVaultServer) -> Yardsticks:
    for code in (CLICK_YAML, RUNTIME_IMPORTS):  # warm the page cache and bytecode
        run_python(ctx.python, code, ctx.env, ctx.workdir)
    token = measure_token_fetch(kv.identity_endpoint, kv.identity_header, ctx.options.repeat)
    return Yardsticks(token, ctx.options.latency)


def _scenarios(ctx: Context, names: Sequence[str]) -> dict[str, Outcome]:
    """The named scenarios, each in-process and through one warm render server."""
    chosen = [name for name in SCENARIOS if name in names]
    if not chosen:
        return {}
    outcomes: dict[str, Outcome] = {}
    with RenderServer(ctx.avp, ctx.env, ctx.workdir / "server") as server:
        for name in chosen:
            outcomes[name] = SCENARIOS[name](ctx)
            attach(ctx, server, outcomes[name])
    return outcomes


def run_suite(options: Options, names: Sequence[str], avp: Path | None = None) -> Suite:
    """Run the named scenarios (in the order of ``SCENARIOS``)."""
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    python = Path(sys.executable)
    with tempfile.TemporaryDirectory(prefix="avp-bench-") as tmp, KeyVaultServer() as kv:
        kv.faults.latency = options.latency
        kv.faults.token_latency = options.latency
        ctx = Context(kv, Path(tmp), avp or avp_command(python), python, child_env(kv), options)
        yardsticks = _yardsticks(ctx, kv)
        outcomes = _scenarios(ctx, names)
        burst = run_burst(ctx) if BURST in names else None
        if kv.errors:
            raise BenchError("the Key Vault test server raised:\n" + "\n".join(kv.errors))
    machine = Machine(
        cpus=os.cpu_count() or 0,
        cpu_model=cpu_model(),
        memory_gib=memory_gib(),
        python=platform.python_version(),
        commit=commit(),
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )
    return Suite(options, machine, yardsticks, outcomes, time.perf_counter() - began, burst)
