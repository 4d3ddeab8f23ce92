"""Run a Python script under a CPU-time profile of every thread, merged into one stats file.

    python bench/threadprof.py OUT.prof SCRIPT [ARGS...]
    python bench/threadprof.py OUT.prof -m MODULE [ARGS...]

``python -m cProfile`` sees the main thread only, but avp-py fetches secrets in worker threads.
Here every thread (the main one and each started later) gets its own ``cProfile.Profile``
timed with ``time.thread_time`` (CPU time of that thread, so waiting for the GIL or the network
is not counted); they are merged and written to OUT.prof when the script exits, even through
``sys.exit``.
"""

from __future__ import annotations

import cProfile
import pstats
import runpy
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _new_profile() -> cProfile.Profile:
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _profiles.append(profile)
    return profile


def _profiled_run(run: Callable[[threading.Thread], None]) -> Callable[[threading.Thread], None]:
    def wrapper(self: threading.Thread) -> None:
        profile = _new_profile()
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()

    return wrapper


def _write(path: str) -> None:
    with _lock:
        profiles = list(_profiles)
    stats: Any = None
    for profile in profiles:
        profile.create_stats()
        if not getattr(profile, "stats", None):
            continue
        if stats is None:
            stats = pstats.Stats(profile)
        else:
            stats.add(profile)
    if stats is not None:
        stats.dump_stats(path)


def main() -> int:
    out, target, *args = sys.argv[1:]
    module = target == "-m"
    if module:
        target, *args = args
    threading.Thread.run = _profiled_run(threading.Thread.run)  # type: ignore[assignment,method-assign]
    sys.argv = [target, *args]
    main_profile = _new_profile()
    main_profile.enable()
    code: object = 0
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    finally:
        main_profile.disable()
        _write(out)
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
