"""Running processes and reading the Key Vault test server's counters.

Each measured process is started by ``bench/launch.py`` (see there why), which reports wall
time from spawn to reaping, user + system CPU time and peak RSS of that process alone
(``os.wait4``). Requests are read from the server's counters, reset before every run.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

from tests.isolation import clean_environment

LAUNCHER = Path(__file__).with_name("launch.py")

# Inherited variables that would change what a child does or how it is measured.


class BenchError(RuntimeError):
    """A measured process failed, or the suite could not run."""


class Server(Protocol):
    """What the measurement needs from ``tests.kvserver.KeyVaultServer``."""

    def stats(self) -> dict[str, int]: ...

    def reset_counters(self) -> None: ...


@dataclass(frozen=True)
class Job:
    """One process to start: its argv, and the files for its standard streams."""

    argv: Sequence[str]
    stdin: Path | None
    stdout: Path
    stderr: Path


@dataclass(frozen=True)
class Run:
    """What the launcher measured for one process."""

    wall: float
    cpu: float
    maxrss_mb: float
    returncode: int


@dataclass(frozen=True)
class Requests:
    """Requests the server saw during one run (a throttled retry counts twice)."""

    challenges: int = 0
    gets: int = 0
    lists: int = 0
    other: int = 0
    tokens: int = 0
    throttled: int = 0

    @property
    def key_vault(self) -> int:
        """Key Vault API requests: challenges, GETs, list pages and anything else."""
        return self.challenges + self.gets + self.lists + self.other


@dataclass(frozen=True)
class Sample:
    """One measured render (or one batch of parallel renders, summed/maximised)."""

    wall: float
    cpu: float
    maxrss_mb: float
    requests: Requests
    server_cpu: float = 0.0
    """CPU time of the benchmark process (the in-process Key Vault test server) meanwhile."""


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The benchmark's environment without inherited Azure/AVP/proxy/Python settings."""
    # PYTHON*: the measured interpreters must start as the sidecar's would (bytecode cached).
    env = clean_environment(extra_prefixes=("PYTHON",))
    env.update(extra)
    return env


def launch(jobs: Sequence[Job], env: Mapping[str, str], cpu: int | None = None) -> list[Run]:
    """Start ``jobs`` at once (through the launcher) and wait for all of them; with ``cpu``,
    the launcher and the jobs run on that CPU only (``taskset``)."""
    spec = {
        "jobs": [
            {
                "argv": list(job.argv),
                "stdin": str(job.stdin) if job.stdin else None,
                "stdout": str(job.stdout),
                "stderr": str(job.stderr),
            }
            for job in jobs
        ]
    }
    argv = [sys.executable, "-S", "-E", str(LAUNCHER), json.dumps(spec)]
    if cpu is not None:
        argv = ["taskset", "--cpu-list", str(cpu), *argv]
    done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"launcher failed: {done.stderr.strip()[-2000:]}")
    return [_run(item) for item in json.loads(done.stdout)["runs"]]


def _run(item: Mapping[str, float]) -> Run:
    return Run(
        wall=item["wall"],
        cpu=item["user"] + item["sys"],
        maxrss_mb=item["maxrss_kb"] / 1024,
        returncode=int(item["returncode"]),
    )


def read_requests(server: Server) -> Requests:
    """Sum the server's per-vault counters (``vault/NAME/OP``) by operation."""
    by_op: dict[str, int] = {}
    tokens = throttled = 0
    for key, value in server.stats().items():
        parts = key.split("/")
        if parts[0] == "vault" and len(parts) == 3:
            by_op[parts[2]] = by_op.get(parts[2], 0) + value
        elif parts[0] == "token":
            tokens += value
        elif parts == ["status", "429"]:
            throttled += value
    known = ("challenge", "get", "list")
    return Requests(
        challenges=by_op.get("challenge", 0),
        gets=by_op.get("get", 0),
        lists=by_op.get("list", 0),
        other=sum(v for op, v in by_op.items() if op not in known),
        tokens=tokens,
        throttled=throttled,
    )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def median_sample(samples: Sequence[Sample]) -> Sample:
    """Field-wise median (requests too: they should not vary between runs)."""

    def med(get: Callable[[Sample], float]) -> float:
        return median([get(s) for s in samples])

    counts = {
        f.name: round(median([getattr(s.requests, f.name) for s in samples]))
        for f in fields(Requests)
    }
    return Sample(
        wall=med(lambda s: s.wall),
        cpu=med(lambda s: s.cpu),
        maxrss_mb=med(lambda s: s.maxrss_mb),
        requests=Requests(**counts),
        server_cpu=med(lambda s: s.server_cpu),
    )


def own_cpu() -> float:
    """CPU time of this process so far (the test server's threads run here)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
