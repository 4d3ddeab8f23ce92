"""Forking a child of the render server (a render, or a token refresh), safely.

Why fork is safe here, and how that is kept true:

* no other thread exists: the loop is the only thread and nothing it calls starts one (the
  Azure SDK, which does, runs only in children); :func:`fork` asserts
  ``threading.active_count() == 1`` before every fork;
* no network connection exists: the server makes no HTTP request. Tokens are fetched in a
  short-lived child that sends back data over a pipe (:mod:`avp_py.server.warm`);
* the sockets and pipes the server does hold (the listener, other clients' connections,
  other renders' pipes) are closed in a child before it does anything else
  (:func:`_forget_in_child`): a client must see its connection close when the server dies,
  not when some other render ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from avp_py.server.connections import Connection
from avp_py.server.state import ServerState

EXIT_INTERNAL = 1  # a child whose body returned or raised


def fork(
    state: ServerState,
    body: Callable[[], NoReturn],
    keep: Connection | None,
    keep_fds: set[int],
) -> int:
    """Fork a child that runs ``body`` with only ``keep``'s descriptors and ``keep_fds`` of
    the server's; returns the child's pid (OSError if the fork failed)."""
    assert threading.active_count() == 1, "the render server must stay single-threaded"
    for stream in (sys.stdout, sys.stderr):  # a child must not inherit buffered bytes
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    pid = os.fork()
    if pid == 0:
        try:
            _forget_in_child(state, keep, keep_fds)
            body()
        finally:
            os._exit(EXIT_INTERNAL)
    return pid


def _forget_in_child(state: ServerState, keep: Connection | None, keep_fds: set[int]) -> None:
    """Close every socket and pipe of the server in a new child, first thing."""
    signal.set_wakeup_fd(-1)
    state.selector.close()
    if state.listener is not None:
        state.listener.close(unlink=False)
    for conn in state.connections:
        if conn is keep:
            conn.sock.close()  # its descriptors stay: the render needs them
        else:
            conn.close()
    for render in state.renders.values():
        render.close_control()
    if state.warmth.refresh is not None:
        with contextlib.suppress(OSError):
            os.close(state.warmth.refresh.fd)
    for fd in set(state.wakeup) - keep_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
