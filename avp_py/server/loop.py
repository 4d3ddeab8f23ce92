"""``avp-py serve``: the render server's event loop (issue 13).

One thread, one ``selectors`` loop: it accepts clients, reads their requests, forks one
process per render (at most ``AVP_SERVER_MAX_RENDERS`` at once; the rest wait in arrival
order), reaps them and reports each exit code to its client. It never runs render code.

Why fork is safe here, and how that is kept true:

* no other thread exists: the loop is the only thread and nothing it calls starts one (the
  Azure SDK, which does, runs only in children); :meth:`Server._fork` asserts
  ``threading.active_count() == 1`` before every fork;
* no network connection exists: the server makes no HTTP request. Tokens are fetched in a
  short-lived child that sends back data over a pipe (:mod:`avp_py.server.warm`);
* the sockets and pipes the server does hold (the listener, other clients' connections,
  other renders' pipes) are closed in a child before it does anything else
  (:meth:`Server._forget_in_child`): a client must see its connection close when the server
  dies, not when some other render ends.

Cancellation: a client that goes away (Argo CD kills the command's process group at its
deadline) closes its connection; the server kills that render at once (SIGKILL) and reaps it.
A render that outlives its own deadline (``AVP_TIMEOUT_SECONDS``, reported by the render,
counted from the request's arrival) plus :data:`GRACE_SECONDS` is killed the same way.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

from avp_py.server import child, protocol
from avp_py.server.config import ServerConfig
from avp_py.server.connections import (
    ACCEPTED,
    CEILING_SECONDS,
    GRACE_SECONDS,
    QUEUED,
    READING,
    RUNNING,
    Connection,
    Render,
)
from avp_py.server.listener import Listener
from avp_py.server.reaping import ended_children
from avp_py.server.status import Counters
from avp_py.server.warm import REFRESH_LIMIT_SECONDS, Refresh, Warmth

TICK_SECONDS = 1.0  # the loop wakes at least this often (timers, token refreshes)
EXIT_TIMEOUT = 5  # the client's exit code for a render stopped at its deadline (backend)
EXIT_INTERNAL = 1


def log(message: str) -> None:
    """One line on the server's own stderr (never a value: names, counts, durations)."""
    try:
        sys.stderr.write(f"avp-py serve: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class Server:
    """The loop's state. :meth:`run` serves until SIGTERM/SIGINT and returns the exit code."""

    def __init__(self, config: ServerConfig, warmth: Warmth) -> None:
        self.config = config
        self.warmth = warmth
        self.counters = Counters(restarts=config.restarts)
        self.selector = selectors.DefaultSelector()
        self.listener: Listener | None = Listener(config.socket_path)
        self.connections: set[Connection] = set()
        self.queue: collections.deque[Connection] = collections.deque()
        self.renders: dict[int, Render] = {}
        self.stopping = 0
        self._wakeup_read, self._wakeup_write = os.pipe()

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> int:
        self._install_signals()
        assert self.listener is not None
        self.selector.register(self.listener.sock, selectors.EVENT_READ, self._accept)
        self.selector.register(self._wakeup_read, selectors.EVENT_READ, self._drain_wakeup)
        log(
            f"listening on {self.config.socket_path} (pid {os.getpid()}, at most"
            f" {self.config.max_renders} renders at once)"
        )
        try:
            while not self._finished():
                for key, _ in self.selector.select(self._timeout()):
                    key.data(key.fileobj)
                self._reap()
                self._enforce_deadlines()
                self._start_queued()
                self._refresh_tokens()
        finally:
            self._shutdown()
        return 0

    def _finished(self) -> bool:
        busy = self.renders or self.queue or self.warmth.refresh is not None
        return bool(self.stopping >= 2 or (self.stopping and not busy))

    def _timeout(self) -> float:
        now = time.monotonic()
        soonest = min((r.kill_at for r in self.renders.values() if not r.stopped), default=now + 1)
        return max(0.0, min(TICK_SECONDS, soonest - now))

    # -- signals ----------------------------------------------------------------------------
    def _install_signals(self) -> None:
        for fd in (self._wakeup_read, self._wakeup_write):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self._wakeup_write, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd does the work
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)

    def _on_stop(self, signum: int, _frame: object) -> None:
        self.stopping += 1
        if self.stopping == 1:
            log(f"{signal.Signals(signum).name}: no new renders; finishing the running ones")
            self._stop_listening()
        else:
            log("stopping now: killing the running renders")
            for render in self.renders.values():
                self._kill(render, "stopped")

    def _drain_wakeup(self, _fd: object) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._wakeup_read, 4096):
                pass

    def _stop_listening(self) -> None:
        if self.listener is not None:
            self.selector.unregister(self.listener.sock)
            self.listener.close()
            self.listener = None
        for conn in [c for c in self.connections if c.state == READING]:
            self._drop(conn)  # not accepted yet: its client renders in-process

    # -- clients ----------------------------------------------------------------------------
    def _accept(self, _sock: object) -> None:
        for _ in range(64):  # then let the others run
            if self.listener is None or (sock := self.listener.accept()) is None:
                return
            conn = Connection(sock)
            self.connections.add(conn)
            self.selector.register(
                conn.sock, selectors.EVENT_READ, lambda _s, c=conn: self._read(c)
            )

    def _read(self, conn: Connection) -> None:
        max_fds = protocol.FDS_PER_RENDER if conn.state == READING and not conn.fds else 0
        try:
            data, fds = protocol.receive(conn.sock, conn.decoder, max_fds)
            conn.fds += fds
            messages = conn.decoder.feed(data) if data else None
        except (BlockingIOError, InterruptedError):
            return
        except (OSError, protocol.ProtocolError):
            messages = None
        if messages is None:  # end of stream, or a peer that broke the protocol
            self._gone(conn)
            return
        for message in messages:
            if conn.open:
                self._handle(conn, message)

    def _handle(self, conn: Connection, message: dict[str, Any]) -> None:
        kind = message["type"]
        if conn.state == READING and kind in ("status", "render"):
            if message.get("version") != protocol.VERSION:
                self._refuse(
                    conn,
                    f"protocol version {message.get('version')!r}; this server"
                    f" speaks {protocol.VERSION}",
                )
            elif kind == "status":
                conn.send({"type": "status", **self.status()})
                self._drop(conn)
            else:
                self._take_request(conn, message)
        elif conn.state == ACCEPTED and kind == "go":
            conn.state = QUEUED
            self.queue.append(conn)
        else:
            self._gone(conn)

    def _take_request(self, conn: Connection, message: dict[str, Any]) -> None:
        try:
            conn.request = child.RenderRequest.parse(message, conn.fds)
        except ValueError as exc:
            self._refuse(conn, str(exc))
            return
        conn.fds = []  # the request owns them now
        if self.stopping:
            self._refuse(conn, "the server is stopping")
        elif conn.send({"type": "accepted"}):
            conn.state = ACCEPTED
        else:
            self._gone(conn)

    def _refuse(self, conn: Connection, reason: str) -> None:
        self.counters.refused += 1
        conn.send({"type": "refused", "reason": reason})
        self._drop(conn)

    def _gone(self, conn: Connection) -> None:
        """The client closed its connection (or broke the protocol)."""
        if conn.state == QUEUED:
            self.queue.remove(conn)
            self.counters.abandoned += 1
        if conn.state == RUNNING:
            for render in self.renders.values():
                if render.conn is conn:
                    self._kill(render, "client")
        self._drop(conn)

    def _drop(self, conn: Connection) -> None:
        if conn.open:
            self.selector.unregister(conn.sock)
        conn.close()
        self.connections.discard(conn)

    # -- renders ----------------------------------------------------------------------------
    def _start_queued(self) -> None:
        while self.queue and len(self.renders) < self.config.max_renders:
            conn = self.queue.popleft()
            try:
                self._start(conn)
            except OSError as exc:  # fork or pipe failed: out of processes or descriptors
                log(f"cannot start a render: {exc.strerror}")
                conn.send(
                    {
                        "type": "failed",
                        "code": EXIT_INTERNAL,
                        "message": f"the avp-py server could not start the render ({exc.strerror})",
                    }
                )
                self._drop(conn)

    def _start(self, conn: Connection) -> None:
        request = conn.request
        assert request is not None
        read_fd, write_fd = os.pipe()
        setup = child.ChildSetup(
            server_pid=os.getpid(),
            control_fd=write_fd,
            arrived=conn.arrived,
            note=f"rendered by the avp-py server at {self.config.socket_path}",
            install_warm=self.warmth.install,
            learned=self.warmth.learned,
        )
        try:
            pid = self._fork(lambda: child.run(request, setup), keep=conn, keep_fds={write_fd})
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
        self.renders[pid] = render
        self.selector.register(read_fd, selectors.EVENT_READ, lambda _f, r=render: self._report(r))

    def _report(self, render: Render) -> None:
        if not render.read_reports():
            self._close_control(render)

    def _close_control(self, render: Render) -> None:
        if render.control is not None:
            self.selector.unregister(render.control)
            render.close_control()

    def _kill(self, render: Render, why: str) -> None:
        if render.stopped is None:
            render.stopped = why
            with contextlib.suppress(ProcessLookupError):
                os.kill(render.pid, signal.SIGKILL)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for render in self.renders.values():
            if render.stopped is None and now >= render.kill_at:
                self._kill(render, "timeout")
        refresh = self.warmth.refresh
        if refresh is not None and now - refresh.started > REFRESH_LIMIT_SECONDS:
            with contextlib.suppress(ProcessLookupError):
                os.kill(refresh.pid, signal.SIGKILL)

    def _reap(self) -> None:
        for pid, status in ended_children():
            render = self.renders.pop(pid, None)
            if render is not None:
                self._finish(render, os.waitstatus_to_exitcode(status))
            elif self.warmth.refresh is not None and self.warmth.refresh.pid == pid:
                self._refreshed()

    def _finish(self, render: Render, code: int) -> None:
        render.read_reports()  # what it wrote before it ended
        self._close_control(render)
        self.warmth.learn(render.learned)
        reply, outcome = self._outcome(render, code)
        if reply is not None:
            render.conn.send(reply)
        if render.conn.open:
            self._drop(render.conn)
        seconds = time.monotonic() - render.started
        waited = render.started - render.conn.arrived
        log(
            f"render pid {render.pid} app {_app_name(render.app)}: {outcome},"
            f" {seconds:.3f} s (waited {waited:.3f} s)"
        )

    def _outcome(self, render: Render, code: int) -> tuple[dict[str, Any] | None, str]:
        """The message for the client and the words for the log."""
        counters = self.counters
        if render.stopped is None and code >= 0:
            counters.served += 1
            counters.failed += code != 0
            return {"type": "exit", "code": code}, f"exit {code}"
        counters.failed += 1
        if render.stopped == "client":
            counters.abandoned += 1
            return None, "killed: its client went away"
        if render.stopped == "timeout":
            counters.timed_out += 1
            limit = render.deadline_seconds or CEILING_SECONDS - GRACE_SECONDS
            message = (
                f"the render did not finish within its deadline (AVP_TIMEOUT_SECONDS,"
                f" {limit:g} s) plus {GRACE_SECONDS:g} s; the avp-py server stopped it"
            )
            return {"type": "failed", "code": EXIT_TIMEOUT, "message": message}, "killed: deadline"
        if render.stopped == "stopped":
            message = "the avp-py server was stopped before the render finished"
            return {
                "type": "failed",
                "code": EXIT_INTERNAL,
                "message": message,
            }, "killed: server stopped"
        counters.crashed += 1
        name = _signal_name(-code)
        message = (
            f"the render process (pid {render.pid}) died of {name} before it finished;"
            " the avp-py server is still running"
        )
        return {"type": "failed", "code": EXIT_INTERNAL, "message": message}, f"crashed: {name}"

    # -- token refreshes ----------------------------------------------------------------------
    def _refresh_tokens(self) -> None:
        if self.stopping:
            return
        key = self.warmth.due(time.monotonic())
        if key is None:
            return
        read_fd, write_fd = os.pipe()
        try:
            pid = self._fork(lambda: self.warmth.refresh_body(key, write_fd), None, {write_fd})
        except OSError as exc:
            os.close(read_fd)
            log(f"cannot start a token refresh: {exc.strerror}")
            return
        finally:
            os.close(write_fd)
        self.warmth.refresh = Refresh(pid, read_fd, key, time.monotonic())

    def _refreshed(self) -> None:
        refresh = self.warmth.refresh
        assert refresh is not None
        with contextlib.suppress(OSError):
            while chunk := os.read(refresh.fd, 1 << 16):
                refresh.output += chunk
        os.close(refresh.fd)
        log(self.warmth.refreshed(time.monotonic()))

    # -- fork ---------------------------------------------------------------------------------
    def _fork(
        self, body: Callable[[], NoReturn], keep: Connection | None, keep_fds: set[int]
    ) -> int:
        """Fork a child that runs ``body``; see the module docstring for why this is safe."""
        assert threading.active_count() == 1, "the render server must stay single-threaded"
        for stream in (sys.stdout, sys.stderr):  # a child must not inherit buffered bytes
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        pid = os.fork()
        if pid == 0:
            try:
                self._forget_in_child(keep, keep_fds)
                body()
            finally:
                os._exit(EXIT_INTERNAL)
        return pid

    def _forget_in_child(self, keep: Connection | None, keep_fds: set[int]) -> None:
        """Close every socket and pipe of the server in a new child, first thing."""
        signal.set_wakeup_fd(-1)
        self.selector.close()
        if self.listener is not None:
            self.listener.close(unlink=False)
        for conn in self.connections:
            if conn is keep:
                conn.sock.close()  # its descriptors stay: the render needs them
            else:
                conn.close()
        for render in self.renders.values():
            render.close_control()
        if self.warmth.refresh is not None:
            with contextlib.suppress(OSError):
                os.close(self.warmth.refresh.fd)
        for fd in {self._wakeup_read, self._wakeup_write} - keep_fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- status and shutdown --------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counters and the running renders (names and durations only)."""
        now = time.monotonic()
        return {
            "pid": os.getpid(),
            "version": protocol.VERSION,
            "socket": self.config.socket_path,
            "uptime_seconds": round(time.time() - self.counters.started, 1),
            "max_renders": self.config.max_renders,
            "running": len(self.renders),
            "queued": len(self.queue),
            **{k: v for k, v in self.counters.as_dict().items() if k != "started"},
            "token_refreshes": self.warmth.refreshes,
            "token_refresh_failures": self.warmth.failures,
            "warm_tokens": self.warmth.usable_tokens(),
            "warm_vaults": len(self.warmth.state.challenges),
            "renders": [
                {"pid": r.pid, "app": _app_name(r.app), "seconds": round(now - r.started, 3)}
                for r in self.renders.values()
            ],
        }

    def _shutdown(self) -> None:
        self._stop_listening()
        for render in list(self.renders.values()):
            self._kill(render, "stopped")
        for conn in list(self.connections):
            self._drop(conn)
        while self.renders or self.warmth.refresh is not None:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            ended = self.renders.pop(pid, None)
            if ended is not None:
                ended.close_control()
            elif self.warmth.refresh is not None and self.warmth.refresh.pid == pid:
                self.warmth.refresh = None
        signal.set_wakeup_fd(-1)
        self.selector.close()
        log("stopped")


def _app_name(name: str) -> str:
    """The Application's name as the log shows it: Kubernetes name characters only."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/")
    cleaned = "".join(c if c in allowed else "?" for c in name[:253])
    return cleaned or "-"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
