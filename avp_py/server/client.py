"""The client fast path of ``avp-py generate``: hand the run to a warm ``avp-py serve``.

Imported by :func:`avp_py.cli.main` before click or anything else of avp-py (issue 13), so it
uses the standard library only. :func:`render_via_server` either returns the render's exit
code (the server ran it; its output went straight to this process's stdout and stderr) or a
reason to render in-process: no socket, a stale one, one owned by someone else, a server that
speaks another protocol version or does not answer. Once the server has accepted the render
the client never falls back: the render may already have read stdin.

Fail closed: stdout is written only by the render, once, at its end; the exit code is the one
the server reports after the render process ended. A connection that closes before that
report (server or render killed) is an ``Error:`` line and a non-zero exit, never success.
"""

from __future__ import annotations

import os
import socket
import sys

from avp_py.server import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

CONNECT_TIMEOUT = 2.0
ANSWER_TIMEOUT = 10.0  # the server answers at once; a wedged one must not hold the render
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


class Fallback(Exception):  # noqa: N818 - a reason, not a failure
    """Render in-process instead; ``str()`` says why (for ``--verbose``)."""


def render_via_server(args: Sequence[str], environ: Mapping[str, str]) -> int | str:
    """Run ``generate ARGS`` in the server: its exit code, or why to render in-process."""
    uid = os.geteuid()
    path = protocol.socket_path(environ, uid)
    if path is None:
        return f"rendering in-process: {protocol.SOCKET_VARIABLE} is empty"
    try:
        problem = protocol.socket_problem(path, uid)
        if problem:
            raise Fallback(problem)
        with _connect(path, uid) as sock:
            _offer(sock, args, environ, path)
            return _wait(sock, path)
    except Fallback as reason:
        return f"rendering in-process: {reason}"


def _connect(path: str, uid: int) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(path)
        # The socket file was checked, but a check is not a guarantee: the peer's own uid is.
        owner = protocol.peer_uid(sock)
        if owner != uid:
            raise Fallback(f"the process at {path} runs as uid {owner}, not {uid}")
    except OSError as exc:
        sock.close()
        raise Fallback(
            f"nothing answers at {path} ({exc.strerror or exc}): a stale socket"
        ) from None
    except Fallback:
        sock.close()
        raise
    return sock


def _offer(sock: socket.socket, args: Sequence[str], environ: Mapping[str, str], path: str) -> None:
    """Send the request with stdin, stdout, stderr and the working directory; return once the
    server accepted it (and was told to go). Fallback if it refused or did not answer."""
    cwd = _open_cwd()
    try:
        request = {
            "type": "render",
            "version": protocol.VERSION,
            "argv": [sys.argv[0] if sys.argv else "avp-py", *args],
            "env": dict(environ),
            "umask": _umask(),
            "stdio": _stdio(),
        }
        sock.settimeout(ANSWER_TIMEOUT)
        protocol.send(sock, request, (0, 1, 2, cwd))
        answer = _next(sock, protocol.Decoder())
    except (OSError, protocol.ProtocolError) as exc:
        raise Fallback(f"the server at {path} did not take the request ({exc})") from None
    finally:
        os.close(cwd)
    if answer is None or answer.get("type") != "accepted":
        reason = (answer or {}).get("reason") or "it closed the connection"
        raise Fallback(f"the server at {path} refused the render: {reason}")
    try:
        protocol.send(sock, {"type": "go"})
    except OSError:
        # Nothing can have started: the server starts a render only after reading `go`.
        raise Fallback(f"the server at {path} went away before the render started") from None


def _open_cwd() -> int:
    """The working directory as a descriptor: the render changes into the very same one (a
    path could be renamed or not be resolvable in the same way)."""
    flags = os.O_RDONLY | getattr(os, "O_PATH", 0) | getattr(os, "O_DIRECTORY", 0)
    try:
        return os.open(".", flags | os.O_CLOEXEC)
    except OSError as exc:
        raise Fallback(f"the working directory cannot be passed on ({exc.strerror})") from None


def _umask() -> int:
    mask = os.umask(0o077)  # reading it means setting it; single-threaded here
    os.umask(mask)
    return mask


def _stdio() -> list[list[str]]:
    """Encoding and error handler of stdin, stdout and stderr, so that the render's text
    streams encode exactly as this interpreter's would; each must be open."""
    streams = (sys.stdin, sys.stdout, sys.stderr)
    for fd, stream in enumerate(streams):
        try:
            os.fstat(fd)
        except OSError:
            raise Fallback(f"file descriptor {fd} is not open") from None
        if stream is None:
            raise Fallback(f"file descriptor {fd} has no Python stream")
    return [[stream.encoding, stream.errors or "strict"] for stream in streams]


def _next(sock: socket.socket, decoder: protocol.Decoder) -> dict[str, Any] | None:
    """The next message, or None at the end of the stream."""
    while True:
        data = sock.recv(1 << 16)
        if not data:
            return None
        messages = decoder.feed(data)
        if messages:
            return messages[0]  # the server sends one message per step


def _wait(sock: socket.socket, path: str) -> int:
    """Wait for the render's end; its exit code, or an ``Error:`` line and a non-zero code."""
    sock.settimeout(None)  # the server bounds the render by its deadline
    try:
        outcome = _next(sock, protocol.Decoder())
    except KeyboardInterrupt:
        # Closing the connection (on return) makes the server kill the render at once.
        return _error("interrupted", EXIT_INTERRUPTED)
    except (OSError, protocol.ProtocolError) as exc:
        outcome = {"type": "lost", "reason": str(exc)}
    outcome = outcome or {}
    kind, code = outcome.get("type"), outcome.get("code")
    if kind == "exit" and isinstance(code, int):
        return code
    if kind == "failed" and isinstance(code, int) and code != 0:
        return _error(str(outcome.get("message") or "the render failed"), code)
    return _error(
        f"the avp-py server at {path} closed the connection before the render finished"
        " (the server or the render process was stopped); its output is incomplete or missing",
        EXIT_INTERNAL,
    )


def _error(message: str, code: int) -> int:
    try:
        sys.stderr.write(f"Error: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass
    return code
