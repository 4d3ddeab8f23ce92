"""``avp-py serve``: the render server's event loop (issue 13).

One thread, one ``selectors`` loop: it accepts clients (:mod:`~avp_py.server.incoming`), forks
one process per render and reports each end to its client (:mod:`~avp_py.server.renders`),
keeps the server's own token fresh (:mod:`~avp_py.server.refreshes`), and reaps children. It
never runs render code. Why its forks are safe: :mod:`avp_py.server.forking`.

Stopping: the first SIGTERM/SIGINT stops listening and lets the running and queued renders
finish; the second kills them. Either way every render is reaped before :meth:`Server.run`
returns.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import time

from avp_py.server import incoming, refreshes, renders
from avp_py.server.child import Generate
from avp_py.server.config import ServerConfig
from avp_py.server.listener import Listener
from avp_py.server.reaping import ended_children
from avp_py.server.state import ServerState, log
from avp_py.server.status import Counters
from avp_py.server.warm import Warmth

__all__ = ["Server", "log"]

TICK_SECONDS = 1.0  # the loop wakes at least this often (timers, token refreshes)


class Server:
    """The loop. :meth:`run` serves until SIGTERM/SIGINT and returns the exit code.

    ``generate`` is what each render process runs (:data:`~avp_py.server.child.Generate`):
    the command line hands in its own entry, so the server never imports the command line."""

    def __init__(self, config: ServerConfig, warmth: Warmth, generate: Generate) -> None:
        self.state = ServerState(
            config,
            warmth,
            Listener(config.socket_path),
            Counters(restarts=config.restarts),
            generate,
        )

    def run(self) -> int:
        state = self.state
        self._install_signals()
        assert state.listener is not None
        state.selector.register(
            state.listener.sock, selectors.EVENT_READ, lambda _s: incoming.accept(state)
        )
        state.selector.register(state.wakeup[0], selectors.EVENT_READ, self._drain_wakeup)
        log(
            f"listening on {state.config.socket_path} (pid {os.getpid()}, at most"
            f" {state.config.max_renders} renders at once)"
        )
        try:
            while not self._finished():
                for key, _ in state.selector.select(self._timeout()):
                    key.data(key.fileobj)
                self._reap()
                renders.enforce_deadlines(state)
                refreshes.enforce_limit(state)
                renders.start_queued(state)
                refreshes.start_due(state)
        finally:
            self._shutdown()
        return 0

    def _finished(self) -> bool:
        state = self.state
        busy = state.renders or state.queue or state.warmth.refresh is not None
        return bool(state.stopping >= 2 or (state.stopping and not busy))

    def _timeout(self) -> float:
        now = time.monotonic()
        running = [r.kill_at for r in self.state.renders.values() if not r.stopped]
        return max(0.0, min(TICK_SECONDS, min(running, default=now + 1) - now))

    def _reap(self) -> None:
        for pid, status, cpu in ended_children():
            render = self.state.renders.pop(pid, None)
            if render is not None:
                renders.finish(self.state, render, os.waitstatus_to_exitcode(status), cpu)
            elif refreshes.is_refresh(self.state, pid):
                refreshes.finish(self.state)

    # -- signals ----------------------------------------------------------------------------
    def _install_signals(self) -> None:
        for fd in self.state.wakeup:
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.state.wakeup[1], warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd does the work
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)

    def _on_stop(self, signum: int, _frame: object) -> None:
        self.state.stopping += 1
        if self.state.stopping == 1:
            log(f"{signal.Signals(signum).name}: no new renders; finishing the running ones")
            self.state.stop_listening()
        else:
            log("stopping now: killing the running renders")
            for render in self.state.renders.values():
                renders.kill(render, "stopped")

    def _drain_wakeup(self, _fd: object) -> None:
        with contextlib.suppress(OSError):
            while os.read(self.state.wakeup[0], 4096):
                pass

    # -- shutdown -----------------------------------------------------------------------------
    def _shutdown(self) -> None:
        state = self.state
        state.stop_listening()
        for render in list(state.renders.values()):
            renders.kill(render, "stopped")
        for conn in list(state.connections):
            state.drop(conn)
        while state.renders or state.warmth.refresh is not None:
            try:
                pid, _status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            ended = state.renders.pop(pid, None)
            if ended is not None:
                ended.close_control()
            elif refreshes.is_refresh(state, pid):
                state.warmth.refresh = None
        signal.set_wakeup_fd(-1)
        state.selector.close()
        log("stopped")
