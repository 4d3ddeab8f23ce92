"""A render process, forked from the warm server: becomes its client's ``avp-py generate``.

It takes the client's stdin, stdout and stderr (dup2 onto 0, 1, 2), working directory, umask,
argv and whole environment (``os.environ`` is replaced: nothing of the server's own
environment reaches a render, and D5's ``ARGOCD_ENV_*`` rules see exactly what the client
had), rebuilds Python's text streams with the client interpreter's encodings, and runs the
same command line as in-process: the command line's own entry, handed to the server by
:mod:`avp_py.cli.serve` (:data:`Generate`), so this package never imports :mod:`avp_py.cli`.
Its exit code is the one ``generate`` exits with; the server reports it to the client once
this process has ended.

This process dies with the server (PR_SET_PDEATHSIG): a render whose server was killed must
not write its output late to a client that already reported the failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from avp_py.model import Deadline

_PR_SET_PDEATHSIG = 1

Generate = Callable[[list[str], str, float, Callable[[Deadline], None]], None]
"""Runs the command line ``args`` (``sys.argv[1:]``) as ``avp-py`` does in-process, given the
``--verbose`` note, when the request arrived (``time.monotonic()``; the deadline counts from
it) and whom to tell the deadline; raises SystemExit as the command line does."""

ABORT_WHEN: str | None = None
"""Tests only: a render whose environment has this variable calls ``os.abort()`` before it
renders. Set by Python code in a test's server process; no input or setting can set it."""


@dataclass(frozen=True)
class RenderRequest:
    """What a client sent: validated by the server before it forks."""

    argv: list[str]
    env: dict[str, str]
    umask: int
    stdio: list[tuple[str, str]]
    fds: tuple[int, int, int, int]  # stdin, stdout, stderr, working directory

    @classmethod
    def parse(cls, message: dict[str, Any], fds: Sequence[int]) -> RenderRequest:
        """ValueError if a field has the wrong shape."""
        argv, env, umask, stdio = (message.get(k) for k in ("argv", "env", "umask", "stdio"))
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            raise ValueError("argv must be a non-empty list of strings")
        if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
            raise ValueError("env must map names to strings")
        if not (isinstance(umask, int) and 0 <= umask <= 0o777):
            raise ValueError("umask must be a file mode")
        if not (isinstance(stdio, list) and len(stdio) == 3 and all(_pair(s) for s in stdio)):
            raise ValueError("stdio must hold three [encoding, errors] pairs")
        if len(fds) != 4:
            raise ValueError("a render needs four file descriptors")
        pairs = [(str(s[0]), str(s[1])) for s in stdio]
        return cls(argv, env, umask, pairs, (fds[0], fds[1], fds[2], fds[3]))

    @property
    def app(self) -> str:
        """The Application's name, for the server's log (Argo CD sets it; may be empty)."""
        return self.env.get("ARGOCD_APP_NAME", "")


def _pair(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)


@dataclass(frozen=True)
class ChildSetup:
    """What the server gives the child besides the request."""

    server_pid: int
    control_fd: int  # this render's pipe to the server (data only: deadline, learned state)
    arrived: float  # time.monotonic() when the request reached the server
    note: str  # the --verbose line
    generate: Generate
    install_warm: Callable[[dict[str, str]], None]  # given the render's environment
    learned: Callable[[], dict[str, Any]]


def run(request: RenderRequest, setup: ChildSetup) -> NoReturn:
    """Become the client's render and exit with its code (never returns)."""
    code = 1
    try:
        _die_with_server(setup.server_pid)
        _take_process_state(request)
        if ABORT_WHEN is not None and ABORT_WHEN in request.env:
            os.abort()
        setup.install_warm(request.env)
        code = _generate(request.argv, setup)
    finally:
        _flush()
        _report(setup.control_fd, {"learned": _safe(setup.learned)})
        os._exit(code)


def _die_with_server(server_pid: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the server still kills its renders when it stops normally
    if os.getppid() != server_pid:  # the server died before the prctl took effect
        os._exit(1)


def _take_process_state(request: RenderRequest) -> None:
    stdin, stdout, stderr, cwd = request.fds
    for target, fd in ((0, stdin), (1, stdout), (2, stderr)):
        os.dup2(fd, target)
    os.fchdir(cwd)
    for fd in set(request.fds) - {0, 1, 2}:
        os.close(fd)
    os.umask(request.umask)
    os.environ.clear()  # unsetenv/putenv too: subprocesses (az, kubectl) see the same
    os.environ.update(request.env)
    tempfile.tempdir = None  # recomputed from the client's TMPDIR if a render needs it
    sys.argv = list(request.argv)
    _standard_streams(request.stdio)
    for name in ("SIGINT", "SIGTERM", "SIGCHLD", "SIGHUP"):
        number = getattr(signal, name)
        signal.signal(number, signal.default_int_handler if name == "SIGINT" else signal.SIG_DFL)


def _standard_streams(stdio: list[tuple[str, str]]) -> None:
    """New text streams on 0, 1, 2, configured as Python configures them at start."""
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = stdio
    streams = {
        "stdin": _stream(0, "rb", in_enc, in_err, False),
        "stdout": _stream(1, "wb", out_enc, out_err, os.isatty(1)),
        "stderr": _stream(2, "wb", err_enc, err_err, True),
    }
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)  # the originals wrapped the server's streams


def _stream(fd: int, mode: str, encoding: str, errors: str, line: bool) -> io.TextIOWrapper:
    raw = io.FileIO(fd, mode, closefd=False)
    buffered = io.BufferedReader(raw) if "r" in mode else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, encoding=encoding, errors=errors, line_buffering=line)


def _generate(argv: list[str], setup: ChildSetup) -> int:
    """``generate`` exactly as in-process; its SystemExit becomes the exit code."""

    def tell_deadline(deadline: Deadline) -> None:
        _report(setup.control_fd, {"deadline": deadline.expires_at})

    try:
        setup.generate(argv[1:], setup.note, setup.arrived, tell_deadline)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except BaseException:  # noqa: BLE001 - what the interpreter would print, then exit 1
        traceback.print_exc()
        return 1
    return 0


def _exit_code(value: object) -> int:
    """Python's rules for an exit value, except that a value that is not a number is never
    printed (it could quote a secret): the command line already turns one into an ``Error:``
    line (:func:`avp_py.cli.app.run`), so this is only a last guard."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _safe(learned: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return learned()
    except Exception:  # noqa: BLE001 - learning is optional; the render's result is not
        return {}


def _report(fd: int, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the server is gone; PR_SET_PDEATHSIG ends this process
        os.write(fd, (json.dumps(message) + "\n").encode("utf-8"))
