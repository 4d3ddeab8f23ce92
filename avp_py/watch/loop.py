"""The watch loop: a cycle every ``AVP_WATCH_INTERVAL_SECONDS`` (jittered), until stopped.

The loop never ends on its own. It runs in the repo-server pod beside the render sidecars,
where a container that exits is restarted and, while it is down, keeps the whole pod from
being Ready: an optional watcher must not take manifest generation down. So a configuration
problem (a missing token or server, an unusable state directory, a bad interval) is one
``Error:`` line per cycle, and the watcher is built again next cycle; a cycle that fails as a
whole (the state directory became unusable, a bug) is an ``Error:`` line too. Only
``--once`` stops on them (exit 2, :func:`run_once`), so that cron and CI notice.

The wait between cycles varies by up to :data:`JITTER` either way, so that the watchers of
several repo-server replicas, started together, do not ask Key Vault and Argo CD in the same
instant.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from avp_py.errors import ISSUES_URL, AvpError, ConfigError, unexpected
from avp_py.watch.cycle import Watcher
from avp_py.watch.report import CycleReport, summary
from avp_py.watch.store import StateUnavailable

log = logging.getLogger("avp_py.watch")

JITTER = 0.1


def run_once(watcher: Watcher, verbose: bool) -> CycleReport:
    """One cycle. An unusable state directory is a ConfigError; a backend that cannot be
    built raises its AvpError: the whole cycle failed."""
    try:
        report = watcher.cycle()
    except StateUnavailable as exc:
        raise ConfigError(str(exc)) from None
    if verbose:
        log.info("%s", summary(report))
    return report


def run_forever(
    build: Callable[[], Watcher],
    fallback_interval: Callable[[], float],
    stop: threading.Event,
    verbose: bool,
    draw: Callable[[], float] = random.random,
) -> None:
    """Cycle until ``stop`` is set (SIGTERM, SIGINT), building the watcher until it builds.

    ``fallback_interval`` is the wait while the watcher cannot be built (the configured
    interval if it can be read, else the default)."""
    watcher: Watcher | None = None
    while not stop.is_set():
        interval = watcher.interval if watcher is not None else fallback_interval()
        try:
            if watcher is None:
                watcher = build()
                interval = watcher.interval
            run_once(watcher, verbose)
        except AvpError as exc:
            log.error("Error: %s; trying again in about %g s", _one_line(exc), interval)
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a bug; type and place only
            log.error(
                "Error: internal error in a watch cycle: %s; please report it at %s; trying"
                " again in about %g s",
                unexpected(exc),
                ISSUES_URL,
                interval,
            )
        stop.wait(next_wait(interval, draw()))


def _one_line(exc: AvpError) -> str:
    return "; ".join([str(exc), *exc.details()])


def next_wait(interval: float, draw: float) -> float:
    """``interval`` ± :data:`JITTER` for a ``draw`` in [0, 1)."""
    return interval * (1 + JITTER * (2 * draw - 1))
