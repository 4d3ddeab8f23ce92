"""The limit model and the yardsticks it is built from, all measured in the same run.

Limit model (issue 5): the least time any Python implementation with avp-py's dependencies
could take for an input =

    interpreter start with the runtime dependencies imported
    + ⌈distinct secrets / concurrency⌉ × latency
    + one token fetch

The start is measured as ``python -c "import click, yaml, azure.identity,
azure.keyvault.secrets"`` in the same virtualenv; for an input with nothing to fetch, nothing
from Azure is needed, so its start is ``python -c "import click, yaml"``. It is measured paired
with avp-py's runs (one before each measured render of the scenario), so that both see the
same machine load. The token fetch is
timed against the test server's managed identity endpoint. The model leaves out reading,
parsing and emitting the input and Key Vault's authentication challenge (one round trip that
the SDK always makes first), so it is a floor that no real run reaches.
"""

from __future__ import annotations

import math
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import BenchError, Job, Run, launch, median

CONCURRENCY = 16  # avp-py's default AVP_MAX_CONCURRENCY; the runs set it explicitly
CLICK_YAML = "import click, yaml"
RUNTIME_IMPORTS = "import click, yaml, azure.identity, azure.keyvault.secrets"


@dataclass(frozen=True)
class Startup:
    """Median wall, CPU and peak memory of one ``python -c`` command."""

    code: str
    wall: float
    cpu: float
    maxrss_mb: float

    @classmethod
    def of(cls, code: str, runs: Sequence[Run]) -> Startup:
        return cls(
            code,
            median([r.wall for r in runs]),
            median([r.cpu for r in runs]),
            median([r.maxrss_mb for r in runs]),
        )


@dataclass(frozen=True)
class Yardsticks:
    """The suite-wide parts of the limit model."""

    token_fetch: float
    latency: float

    def limit_seconds(self, start: float, distinct: int) -> float:
        """The limit model for an input referencing ``distinct`` secrets, given the measured
        interpreter start (with the Azure SDK imported if anything must be fetched)."""
        if distinct == 0:
            return start
        rounds = math.ceil(distinct / CONCURRENCY)
        return start + rounds * self.latency + self.token_fetch


def startup_code(distinct: int) -> str:
    """The interpreter-start yardstick for an input: Azure's SDK only if it must fetch."""
    return RUNTIME_IMPORTS if distinct else CLICK_YAML


def run_python(python: Path, code: str, env: Mapping[str, str], workdir: Path) -> Run:
    """One measured ``python -c code``."""
    job = Job([str(python), "-c", code], None, workdir / "start.out", workdir / "start.err")
    [run] = launch([job], env)
    if run.returncode != 0:
        raise BenchError(f"python -c {code!r} failed: {job.stderr.read_text()[-500:]}")
    return run


def measure_token_fetch(endpoint: str, header: str, repeat: int) -> float:
    """Median seconds of one managed identity token request (after a warm-up)."""
    url = f"{endpoint}?api-version=2019-08-01&resource=https://vault.azure.net"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    times: list[float] = []
    for attempt in range(repeat + 1):
        request = urllib.request.Request(url, headers={"X-IDENTITY-HEADER": header})
        begin = time.perf_counter()
        with opener.open(request, timeout=10) as response:
            response.read()
        if attempt:
            times.append(time.perf_counter() - begin)
    return median(times)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.inf
