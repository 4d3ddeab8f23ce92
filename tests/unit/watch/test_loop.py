"""The watch loop outlives configuration problems (an optional watcher beside the render
sidecars must never exit: the pod would not be Ready). The end-to-end loop is in
tests/azure/test_watch.py; here the loop's own rules, without waiting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from avp_py.errors import ConfigError
from avp_py.watch import loop
from avp_py.watch.cycle import Watcher


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """The watch logger's records (its own handler: "avp_py" may not propagate)."""
    logger = logging.getLogger("avp_py.watch")
    level = logger.level
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class CountingStop(threading.Event):
    """A stop event whose waits return at once and record how long they were asked to be;
    it is set after ``cycles`` waits."""

    def __init__(self, cycles: int) -> None:
        super().__init__()
        self.cycles = cycles
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        if len(self.waits) >= self.cycles:
            self.set()
        return self.is_set()


def test_a_configuration_problem_is_an_error_line_every_cycle_and_the_loop_goes_on(
    logged: list[logging.LogRecord],
) -> None:
    builds: list[int] = []

    def build() -> Watcher:
        builds.append(1)
        raise ConfigError("ARGOCD_AUTH_TOKEN must be set: the API token", ["see docs/argocd.md"])

    stop = CountingStop(cycles=3)
    loop.run_forever(build, lambda: 7.0, stop, verbose=False, draw=lambda: 0.5)
    assert len(builds) == 3  # built again every cycle: the problem may have been fixed
    assert stop.waits == [7.0, 7.0, 7.0]  # the fallback interval, jittered (draw 0.5: none)
    lines = [r.getMessage() for r in logged]
    assert (
        lines
        == [
            "Error: ARGOCD_AUTH_TOKEN must be set: the API token; see docs/argocd.md;"
            " trying again in about 7 s"
        ]
        * 3
    )
    assert all(r.levelno == logging.ERROR for r in logged)


def test_a_bug_while_building_is_an_internal_error_line_not_an_exit(
    logged: list[logging.LogRecord],
) -> None:
    def build() -> Watcher:
        raise KeyError("sentinel-not-in-the-log")

    stop = CountingStop(cycles=2)
    loop.run_forever(build, lambda: 3.0, stop, verbose=False, draw=lambda: 0.5)
    lines = [r.getMessage() for r in logged]
    assert len(lines) == 2
    internal = "Error: internal error in a watch cycle: KeyError"
    assert all(line.startswith(internal) for line in lines)
    assert not [line for line in lines if "sentinel" in line]
