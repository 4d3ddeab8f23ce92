"""Where avp-py's time goes for one scenario's input: imports and a cProfile of the render.

    python -m bench.profiling [--scenario big-chart] [--top 20] [--quick]

Builds the scenario's input against the Key Vault test server (same latency as the suite),
then runs ``avp-py generate -`` twice as a subprocess: once under ``python -X importtime``
(printed: the slowest imports, cumulative and self) and once under ``bench/threadprof.py``, a
cProfile of the CPU time of every thread, worker threads included (printed: avp-py's functions
by cumulative time, and every function by own time). With
``--warm-cache`` the runs use an opt-in cross-run cache that the unmeasured first run fills.
"""

from __future__ import annotations

import argparse
import io
import pstats
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import BenchError, Job, launch
from bench.scenarios import (
    CACHE_KEY,
    CACHE_TTL_SECONDS,
    Context,
    Options,
    Workload,
    big_chart_input,
    no_placeholders_input,
    passthrough_input,
    small_app_input,
)
from bench.suite import avp_command, child_env
from tests.kvserver import KeyVaultServer

INPUTS: dict[str, Callable[[Context], Workload]] = {
    "big-chart": big_chart_input,
    "small-app": small_app_input,
    "passthrough": passthrough_input,
    "no-placeholders": no_placeholders_input,
}
THREADPROF = Path(__file__).with_name("threadprof.py")
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


@dataclass(frozen=True)
class Import:
    own_us: int
    cumulative_us: int
    depth: int
    name: str


def parse_importtime(text: str) -> list[Import]:
    """The entries of ``-X importtime`` output (depth 0 = imported by the program itself)."""
    found = []
    for match in _IMPORT_LINE.finditer(text):
        own, cumulative, indent, name = match.groups()
        found.append(Import(int(own), int(cumulative), (len(indent) - 1) // 2, name))
    return found


def imports_report(entries: Sequence[Import], top: int) -> str:
    total = sum(e.cumulative_us for e in entries if e.depth == 0)
    lines = [f"imports: {total / 1000:.0f} ms in all (sum of top-level cumulative times)"]
    lines.append("\nslowest imports, cumulative (depth ≤ 3):")
    shallow = sorted((e for e in entries if e.depth <= 3), key=lambda e: -e.cumulative_us)
    lines += [
        f"  {e.cumulative_us / 1000:7.1f} ms  {'  ' * e.depth}{e.name}" for e in shallow[:top]
    ]
    lines.append("\nslowest imports, own time:")
    own = sorted(entries, key=lambda e: -e.own_us)
    lines += [f"  {e.own_us / 1000:7.1f} ms  {e.name}" for e in own[:top]]
    return "\n".join(lines)


def _run(ctx: Context, workload: Workload, prefix: Sequence[str], tag: str) -> Job:
    out = ctx.workdir / f"profile.{tag}.out"
    err = ctx.workdir / f"profile.{tag}.err"
    argv = [str(ctx.python), *prefix, str(ctx.avp), "generate", "-"]
    job = Job(argv, workload.path, out, err)
    [run] = launch([job], ctx.env)
    print(f"{tag}: {run.wall * 1000:.0f} ms wall, {run.cpu * 1000:.0f} ms CPU", file=sys.stderr)
    if run.returncode != 0:
        raise BenchError(f"profiling run failed: {err.read_text()[-1500:]}")
    return job


def cprofile_report(path: Path, top: int) -> str:
    """avp-py's own functions by cumulative CPU time, then everything by own CPU time."""
    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer)
    buffer.write("CPU time of every thread, avp_py functions by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats("/avp_py/", top)
    buffer.write("\nall functions by own time:\n")
    stats.sort_stats("tottime").print_stats(top)
    return _shorten(buffer.getvalue())


def _shorten(text: str) -> str:
    """Drop pstats' header lines and the directories of file names."""
    text = re.sub(r"(?m)^.*(?:\.prof$|function calls|Ordered by|List reduced).*\n", "", text)
    text = re.sub(r"(?m)^\s*\n(?=\s*\n)", "", text)
    return re.sub(r"/\S*/(?=[^/\s]+\.py:\d+)", "", text)


def profile(scenario: str, top: int, quick: bool, warm_cache: bool) -> str:
    """The report for one scenario (with ``warm_cache``: of a render from a filled cache)."""
    options = Options(repeat=1, quick=quick)
    python = Path(sys.executable)
    with tempfile.TemporaryDirectory(prefix="avp-profile-") as tmp, KeyVaultServer() as kv:
        kv.faults.latency = kv.faults.token_latency = options.latency
        env = child_env(kv)
        if warm_cache:
            (Path(tmp) / "cache").mkdir(mode=0o700)
            env |= {"AVP_CACHE_DIR": f"{tmp}/cache", "AVP_CACHE_KEY": CACHE_KEY}
            env["AVP_CACHE_TTL_SECONDS"] = CACHE_TTL_SECONDS
        ctx = Context(kv, Path(tmp), avp_command(python), python, env, options)
        workload = INPUTS[scenario](ctx)
        _run(ctx, workload, [], "warmup")
        job = _run(ctx, workload, ["-X", "importtime"], "importtime")
        imports = imports_report(parse_importtime(job.stderr.read_text()), top)
        prof = ctx.workdir / "render.prof"
        _run(ctx, workload, [str(THREADPROF), str(prof)], "cprofile")
        title = f"{scenario} (warm cache)" if warm_cache else scenario
        return f"# {title}\n\n{imports}\n\n{cprofile_report(prof, top)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__)
    parser.add_argument("--scenario", choices=list(INPUTS), default="big-chart")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2 MiB passthrough stream")
    parser.add_argument(
        "--warm-cache", action="store_true", help="profile a render served by a filled cache"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(profile(args.scenario, args.top, args.quick, args.warm_cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
