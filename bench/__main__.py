"""``python -m bench``: run the benchmark suite and print its tables (see docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.burst import BURST
from bench.measure import BenchError
from bench.report import render_report
from bench.scenarios import SCENARIOS, Options

WATCH = "watch"  # avp-py watch's requests per cycle (bench/watch.py), reported after the rest
RENDERS = [*SCENARIOS, BURST]  # the burst (bench/burst.py) has its own shape and report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark avp-py against AVP's access pattern and the limit model.",
    )
    parser.add_argument("--repeat", type=int, help="measured runs per scenario (default 5)")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*RENDERS, WATCH],
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join([*RENDERS, WATCH])}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 run each and a 2 MiB passthrough stream (CI)"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per request (default 20)")
    parser.add_argument("--avp", type=Path, help="avp-py executable (default: the venv's)")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 5)
    if repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    return Options(repeat=repeat, quick=args.quick, latency=args.latency_ms / 1000.0)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = options_from(args)
    selected = args.only or [*RENDERS, WATCH]
    renders = [name for name in selected if name in RENDERS]
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    try:
        report = _renders_report(options, renders, args.avp, command) if renders else ""
        if WATCH in selected:
            report += _watch_report(options, args.avp, command, standalone=not renders)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    return 0


def _renders_report(options: Options, names: list[str], avp: Path | None, command: str) -> str:
    from bench.suite import run_suite  # imports the test server: only when running

    return render_report(run_suite(options, names, avp), command)


def _watch_report(options: Options, avp: Path | None, command: str, standalone: bool) -> str:
    from bench.suite import avp_command
    from bench.watch import run_watch, watch_table

    outcome = run_watch(avp or avp_command(Path(sys.executable)), options.latency)
    title = f"## avp-py benchmark: watch\n\nCommand: `{command}`\n\n" if standalone else "\n"
    return f"{title}### avp-py watch: requests per cycle (issue 14)\n\n{watch_table(outcome)}\n"


if __name__ == "__main__":
    sys.exit(main())
