"""The watch loop: a cycle every ``AVP_WATCH_INTERVAL_SECONDS`` (jittered), until stopped.

A cycle that fails as a whole (the state directory became unusable, a bug) is logged and the
loop goes on: the watcher never crashes on what the network, the files or Argo CD do. The wait
between cycles varies by up to :data:`JITTER` either way, so that the watchers of several
repo-server replicas, started together, do not ask Key Vault and Argo CD in the same instant.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from avp_py.errors import AvpError, unexpected
from avp_py.watch.cycle import CycleReport, Watcher, summary
from avp_py.watch.store import StateUnavailable

log = logging.getLogger("avp_py.watch")

JITTER = 0.1


def run_once(watcher: Watcher, verbose: bool) -> CycleReport | None:
    """One cycle; None if it failed as a whole (logged)."""
    try:
        report = watcher.cycle()
    except (StateUnavailable, AvpError) as exc:
        log.warning("%s; trying again next cycle", exc)
        return None
    except Exception as exc:  # noqa: BLE001 - the loop must outlive a bug; type and place only
        log.error("internal error in a watch cycle: %s; trying again next cycle", unexpected(exc))
        return None
    if verbose:
        log.info("%s", summary(report))
    return report


def run_forever(
    watcher: Watcher,
    interval: float,
    stop: threading.Event,
    verbose: bool,
    draw: Callable[[], float] = random.random,
) -> None:
    """Cycle until ``stop`` is set (SIGTERM, SIGINT)."""
    while not stop.is_set():
        run_once(watcher, verbose)
        stop.wait(next_wait(interval, draw()))


def next_wait(interval: float, draw: float) -> float:
    """``interval`` ± :data:`JITTER` for a ``draw`` in [0, 1)."""
    return interval * (1 + JITTER * (2 * draw - 1))
