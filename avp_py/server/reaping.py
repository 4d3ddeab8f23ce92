"""Reaping ended children without waiting (server and supervisor alike). Standard library."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


def ended_children() -> Iterator[tuple[int, int, float]]:
    """(pid, wait status, CPU seconds) of every child that has ended, until none is left to
    reap now. The CPU time is the child's own, user and system (``os.wait4``)."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:  # no children at all
            return
        if pid == 0:
            return
        yield pid, status, usage.ru_utime + usage.ru_stime
