"""Reaping ended children without waiting (server and supervisor alike). Standard library."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


def ended_children() -> Iterator[tuple[int, int]]:
    """(pid, wait status) of every child that has ended, until none is left to reap now."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no children at all
            return
        if pid == 0:
            return
        yield pid, status
