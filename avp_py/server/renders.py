"""The render server's render processes: start them from the queue, read what they report,
kill them (client gone, deadline, server stopping), and report each end to its client.

Cancellation: a client that goes away (Argo CD kills the command's process group at its
deadline) closes its connection; the server kills that render at once (SIGKILL) and reaps it.
A render that outlives its own deadline (``AVP_TIMEOUT_SECONDS``, reported by the render,
counted from the request's arrival) plus :data:`~avp_py.server.connections.GRACE_SECONDS` is
killed the same way. At most ``AVP_SERVER_MAX_RENDERS`` run at once; the rest wait in
arrival order.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import time

from avp_py.server import child
from avp_py.server.connections import CEILING_SECONDS, RUNNING, Connection, Render
from avp_py.server.forking import fork
from avp_py.server.outcome import EXIT_INTERNAL, outcome
from avp_py.server.state import ServerState, app_name, log


def start_queued(state: ServerState) -> None:
    while state.queue and len(state.renders) < state.config.max_renders:
        conn = state.queue.popleft()
        try:
            _start(state, conn)
        except OSError as exc:  # fork or pipe failed: out of processes or descriptors
            log(f"cannot start a render: {exc.strerror}")
            conn.send(
                {
                    "type": "failed",
                    "code": EXIT_INTERNAL,
                    "message": f"the avp-py server could not start the render ({exc.strerror})",
                }
            )
            state.drop(conn)


def _start(state: ServerState, conn: Connection) -> None:
    request = conn.request
    assert request is not None
    read_fd, write_fd = os.pipe()
    setup = child.ChildSetup(
        server_pid=os.getpid(),
        control_fd=write_fd,
        arrived=conn.arrived,
        note=f"rendered by the avp-py server at {state.config.socket_path}",
        generate=state.generate,
        install_warm=state.warmth.install,
        learned=state.warmth.learned,
    )
    try:
        pid = fork(state, lambda: child.run(request, setup), keep=conn, keep_fds={write_fd})
    except OSError:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    conn.release_fds()  # the render has them; the server must not keep the client's stdout
    conn.state = RUNNING
    os.set_blocking(read_fd, False)
    render = Render(pid, conn, read_fd, request.app)
    render.kill_at = conn.arrived + CEILING_SECONDS
    state.renders[pid] = render
    state.selector.register(read_fd, selectors.EVENT_READ, lambda _f, r=render: _report(state, r))


def _report(state: ServerState, render: Render) -> None:
    if not render.read_reports():
        _close_control(state, render)


def _close_control(state: ServerState, render: Render) -> None:
    if render.control is not None:
        state.selector.unregister(render.control)
        render.close_control()


def kill(render: Render, why: str) -> None:
    """SIGKILL the render (once); ``why`` decides what its client is told."""
    if render.stopped is None:
        render.stopped = why
        with contextlib.suppress(ProcessLookupError):
            os.kill(render.pid, signal.SIGKILL)


def enforce_deadlines(state: ServerState) -> None:
    now = time.monotonic()
    for render in state.renders.values():
        if render.stopped is None and now >= render.kill_at:
            kill(render, "timeout")


def finish(state: ServerState, render: Render, code: int, cpu: float) -> None:
    """The render process ended with ``code`` after ``cpu`` seconds of CPU (reaped): log one
    line, then tell its client (so that the line is there when the client exits)."""
    render.read_reports()  # what it wrote before it ended
    _close_control(state, render)
    state.warmth.learn(render.learned)
    reply, words = outcome(render, code, state.counters)
    seconds = time.monotonic() - render.started
    waited = render.started - render.conn.arrived
    log(
        f"render pid {render.pid} app {app_name(render.app)}: {words},"
        f" {seconds:.3f} s, cpu {cpu:.3f} s (waited {waited:.3f} s)"
    )
    if reply is not None:
        render.conn.send(reply)
    if render.conn.open:
        state.drop(render.conn)
