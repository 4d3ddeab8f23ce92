"""``avp-py sidecar -- COMMAND...``: the sidecar's PID 1, running COMMAND beside the server.

COMMAND is ``/var/run/argocd/argocd-cmp-server``; the sidecar lives exactly as long as it:

* COMMAND and ``avp-py serve`` are started at once (clients render in-process until the
  server listens, so nothing waits for it);
* the server is restarted when it dies, after 0.5 s doubling to 30 s while it keeps dying
  within a minute; a server that stops answering ``status`` for 30 s is killed (and so
  restarted);
* every child is reaped, the orphans a PID 1 inherits too (also when it is not PID 1: it
  makes itself the child subreaper of its descendants);
* SIGTERM and SIGINT go to COMMAND and to the server (which finishes its renders); SIGHUP,
  SIGQUIT, SIGUSR1 and SIGUSR2 go to COMMAND;
* when COMMAND ends, the server is asked to stop (and killed after 10 s), and the sidecar
  exits with COMMAND's status (128 + N if a signal N ended it).

``AVP_SERVER_SOCKET=''`` turns the server off: COMMAND runs alone, still supervised.
Standard library only: this process stays small for the life of the pod.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import time

from avp_py.server import protocol
from avp_py.server.reaping import ended_children
from avp_py.server.status import request_status

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_SECONDS = 60.0  # a server that ran this long restarts without delay
STOP_TIMEOUT = 10.0
PROBE_EVERY = 10.0
PROBE_TIMEOUT = 3.0
PROBE_FAILURES = 3
FORWARDED = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
STOPPING = (signal.SIGTERM, signal.SIGINT)
_PR_SET_CHILD_SUBREAPER = 36


def log(message: str) -> None:
    sys.stderr.write(f"avp-py sidecar: {message}\n")
    sys.stderr.flush()


def _spawn(argv: list[str], env: dict[str, str]) -> int:
    # Python ignores SIGPIPE and SIGXFSZ; the programs started here must not inherit that.
    defaults = [getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name)]
    return os.posix_spawnp(argv[0], argv, env, setsigdef=defaults, setsigmask=())


def _become_subreaper() -> None:
    """Orphaned descendants (a plugin's background process) are reparented to this process
    and reaped here, as they would be by PID 1."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def exit_status(status: int) -> int:
    """A wait status as a shell reports it: the exit code, or 128 + the signal."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


class Supervisor:
    """COMMAND, the server, and the signals between them."""

    def __init__(self, command: list[str], with_server: bool) -> None:
        self.command = command
        self.with_server = with_server
        self.command_pid = 0
        self.command_status: int | None = None
        self.server_pid = 0
        self.server_started = 0.0
        self.restarts = 0
        self.quick_deaths = 0
        self.restart_at: float | None = None
        self.stop_deadline: float | None = None
        self.probe_at = 0.0
        self.probe_failures = 0
        self.answered = False
        self.pending: list[int] = []
        self._wake_read, self._wake_write = os.pipe()

    def run(self) -> int:
        _become_subreaper()
        self._install_signals()
        self.command_pid = _spawn(self.command, dict(os.environ))
        if self.with_server:
            self._start_server()
        while self.command_status is None or self.server_pid:
            self._wait()
            self._handle_signals()
            self._reap()
            self._timers()
        return self.command_status

    # -- plumbing ---------------------------------------------------------------------------
    def _install_signals(self) -> None:
        for fd in (self._wake_read, self._wake_write):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self._wake_write, warn_on_full_buffer=False)
        for number in (*FORWARDED, signal.SIGCHLD):
            signal.signal(number, lambda signum, _frame: self.pending.append(signum))

    def _wait(self) -> None:
        timeout = PROBE_EVERY
        for moment in (self.restart_at, self.stop_deadline):
            if moment is not None:
                timeout = min(timeout, max(0.0, moment - time.monotonic()))
        ready, _, _ = select.select([self._wake_read], [], [], timeout)
        if ready:
            try:
                while os.read(self._wake_read, 4096):
                    pass
            except BlockingIOError:
                pass

    def _handle_signals(self) -> None:
        pending, self.pending = self.pending, []
        for number in pending:
            if number == signal.SIGCHLD:
                continue
            self._send(self.command_pid, number)
            if number in STOPPING:
                log(f"{signal.Signals(number).name}: stopping")
                self.with_server = False  # no more restarts
                self._stop_server(number)

    def _send(self, pid: int, number: int) -> None:
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    # -- children ---------------------------------------------------------------------------
    def _reap(self) -> None:
        for pid, status, _cpu in ended_children():  # orphans too: they are reaped and forgotten
            if pid == self.command_pid:
                self.command_status = exit_status(status)
                self.command_pid = 0
                log(f"{self.command[0]} exited with status {self.command_status}")
                self.with_server = False
                self._stop_server(signal.SIGTERM)
            elif pid == self.server_pid:
                self._server_died(status)

    def _server_died(self, status: int) -> None:
        self.server_pid = 0
        self.stop_deadline = None
        if not self.with_server:
            return
        ran = time.monotonic() - self.server_started
        self.quick_deaths = 0 if ran >= STABLE_SECONDS else self.quick_deaths + 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, self.quick_deaths - 1))
        delay = 0.0 if self.quick_deaths == 0 else delay
        log(
            f"the render server exited with status {exit_status(status)} after {ran:.1f} s;"
            f" restarting it in {delay:g} s"
        )
        self.restart_at = time.monotonic() + delay

    def _start_server(self) -> None:
        env = {**os.environ, "AVP_SERVER_RESTARTS": str(self.restarts)}
        argv = [sys.executable, "-m", "avp_py", "serve"]
        try:
            self.server_pid = _spawn(argv, env)
        except OSError as exc:
            log(f"cannot start the render server: {exc.strerror}")
            self.restart_at = time.monotonic() + BACKOFF_MAX
            return
        self.server_started = time.monotonic()
        self.probe_at = self.server_started + PROBE_EVERY
        self.probe_failures = 0
        self.answered = False

    def _stop_server(self, number: int) -> None:
        self.restart_at = None
        if self.server_pid and self.stop_deadline is None:
            self._send(self.server_pid, number)
            self.stop_deadline = time.monotonic() + STOP_TIMEOUT

    def _timers(self) -> None:
        now = time.monotonic()
        if self.restart_at is not None and now >= self.restart_at and self.with_server:
            self.restart_at = None
            self.restarts += 1
            self._start_server()
        if self.stop_deadline is not None and now >= self.stop_deadline and self.server_pid:
            log("the render server did not stop in time: killing it")
            self._send(self.server_pid, signal.SIGKILL)
            self.stop_deadline = now + STOP_TIMEOUT
        if self.server_pid and self.with_server and now >= self.probe_at:
            self._probe(now)

    def _probe(self, now: float) -> None:
        """Is the server answering? One that stops answering is killed (and restarted)."""
        self.probe_at = now + PROBE_EVERY
        path = protocol.socket_path(os.environ, os.geteuid())
        try:
            request_status(path or "", PROBE_TIMEOUT)
        except (OSError, protocol.ProtocolError):
            if self.answered or now - self.server_started > STABLE_SECONDS:
                self.probe_failures += 1
        else:
            self.answered, self.probe_failures = True, 0
        if self.probe_failures >= PROBE_FAILURES:
            log("the render server stopped answering: killing it")
            self._send(self.server_pid, signal.SIGKILL)
            self.probe_failures = 0


def main(args: list[str]) -> int:
    """``avp-py sidecar [--] COMMAND [ARG...]``; COMMAND's exit status."""
    command = args[1:] if args[:1] == ["--"] else list(args)
    if not command:
        sys.stderr.write(
            "Error: avp-py sidecar needs the command to run, e.g.\n"
            "  avp-py sidecar -- /var/run/argocd/argocd-cmp-server\n"
        )
        return 2
    with_server = os.environ.get(protocol.SOCKET_VARIABLE) != ""
    try:
        return Supervisor(command, with_server).run()
    except OSError as exc:
        sys.stderr.write(f"Error: cannot start {command[0]}: {exc.strerror}\n")
        return 127 if isinstance(exc, FileNotFoundError) else 126
