"""The server's token refreshes: one short-lived child at a time fetches a token ahead of its
expiry and sends it back over a pipe (the server itself never opens a connection)."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from avp_py.server.forking import fork
from avp_py.server.state import ServerState, log
from avp_py.server.warm import REFRESH_LIMIT_SECONDS, Refresh


def start_due(state: ServerState) -> None:
    """Start a refresh child if a token is due and none runs."""
    if state.stopping:
        return
    key = state.warmth.due(time.monotonic())
    if key is None:
        return
    read_fd, write_fd = os.pipe()
    try:
        pid = fork(state, lambda: state.warmth.refresh_body(key, write_fd), None, {write_fd})
    except OSError as exc:
        os.close(read_fd)
        log(f"cannot start a token refresh: {exc.strerror}")
        return
    finally:
        os.close(write_fd)
    state.warmth.refresh = Refresh(pid, read_fd, key, time.monotonic())


def enforce_limit(state: ServerState) -> None:
    """Kill a refresh child that takes too long (its own request has a deadline too)."""
    refresh = state.warmth.refresh
    if refresh is not None and time.monotonic() - refresh.started > REFRESH_LIMIT_SECONDS:
        with contextlib.suppress(ProcessLookupError):
            os.kill(refresh.pid, signal.SIGKILL)


def is_refresh(state: ServerState, pid: int) -> bool:
    return state.warmth.refresh is not None and state.warmth.refresh.pid == pid


def finish(state: ServerState) -> None:
    """The refresh child ended (reaped): take what it sent."""
    refresh = state.warmth.refresh
    assert refresh is not None
    with contextlib.suppress(OSError):
        while chunk := os.read(refresh.fd, 1 << 16):
            refresh.output += chunk
    os.close(refresh.fd)
    log(state.warmth.refreshed(time.monotonic()))
