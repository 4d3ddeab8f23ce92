"""Start processes, wait for them, and print their wall time and resource usage as JSON.

Run as a script with ``python -S -E bench/launch.py SPEC`` (standard library only, no site),
with the children's environment as its own. SPEC is JSON: ``{"jobs": [{"argv": [...],
"stdin": PATH or null, "stdout": PATH, "stderr": PATH}, ...]}``; every job starts at once and
the output is ``{"runs": [{"wall": s, "user": s, "sys": s, "maxrss_kb": n, "returncode": n}]}``
in job order.

Why a separate small process: Linux records the peak RSS of the address space a process was
started from into its ``ru_maxrss`` at exec, so a child of the benchmark (which holds the Key
Vault test server and a 20 MB stream) would report at least the benchmark's own peak. A child
of this small launcher reports its own.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _file_actions(job: dict[str, object]) -> list[tuple[object, ...]]:
    stdin = job.get("stdin") or os.devnull
    write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    return [
        (os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, job["stdout"], write, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, job["stderr"], write, 0o600),
    ]


def run(jobs: list[dict[str, object]]) -> list[dict[str, float]]:
    """Start every job, reap them all; one result per job, in order."""
    started: dict[int, tuple[int, float]] = {}
    for index, job in enumerate(jobs):
        argv = [str(arg) for arg in job["argv"]]  # type: ignore[attr-defined]
        begin = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=_file_actions(job))
        started[pid] = (index, begin)
    results: list[dict[str, float]] = [{} for _ in jobs]
    while started:
        pid, status, usage = os.wait4(-1, 0)
        end = time.perf_counter()
        if pid not in started:
            continue
        index, begin = started.pop(pid)
        results[index] = {
            "wall": end - begin,
            "user": usage.ru_utime,
            "sys": usage.ru_stime,
            "maxrss_kb": usage.ru_maxrss,
            "returncode": os.waitstatus_to_exitcode(status),
        }
    return results


def main() -> int:
    spec = json.loads(sys.argv[1])
    json.dump({"runs": run(spec["jobs"])}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
