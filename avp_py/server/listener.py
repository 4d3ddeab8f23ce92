"""The server's Unix socket: a private directory, a 0600 socket, replaced atomically.

The directory is created 0700; an existing one must be a real directory of this uid closed to
others, or the server refuses to start (someone else could otherwise pre-create it in /tmp
and read the environments clients send). A socket left by a dead server is replaced by
renaming a freshly bound one over it, so a client never finds the path missing; a socket a
live server answers on is left alone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

from avp_py.errors import ConfigError
from avp_py.server import protocol

BACKLOG = 512  # a "hard refresh all" connects hundreds of clients at once


class Listener:
    """The listening socket at ``path``; :meth:`close` removes the path if it is still ours."""

    def __init__(self, path: str, peer_uid: int | None = None) -> None:
        self.path = path
        # Whose processes may connect: the server's own uid (another only in a unit test).
        self.peer_uid = os.geteuid() if peer_uid is None else peer_uid
        directory = os.path.dirname(path)
        _private_directory(directory)
        _refuse_live_server(path)
        self.sock, self._inode = _bind_replacing(path)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self) -> socket.socket | None:
        """A new connection from a process of this uid (others are closed), or None."""
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return None
        if protocol.peer_uid(conn) != self.peer_uid:
            conn.close()
            return None
        conn.setblocking(False)
        return conn

    def close(self, unlink: bool = True) -> None:
        """Stop listening; unlink the path unless another server has replaced it since."""
        self.sock.close()
        if not unlink:
            return
        with contextlib.suppress(OSError):
            if os.lstat(self.path).st_ino == self._inode:
                os.unlink(self.path)


def _private_directory(directory: str) -> None:
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(
            f"cannot create the server directory {directory}: {exc.strerror}"
        ) from None
    problem = protocol.private_directory_problem(directory, os.geteuid())
    if problem:
        raise ConfigError(f"refusing to serve: {problem}")


def _refuse_live_server(path: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ConfigError(f"refusing to serve: {path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        return  # nobody listens: a stale socket, replaced below
    finally:
        probe.close()
    raise ConfigError(f"another avp-py server is already listening on {path}")


def _bind_replacing(path: str) -> tuple[socket.socket, int]:
    temporary = os.path.join(os.path.dirname(path), f".server-{os.getpid()}.sock")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # the socket file is created 0600 (single-threaded here)
    try:
        sock.bind(temporary)
    finally:
        os.umask(previous)
    try:
        os.chmod(temporary, 0o600)
        sock.listen(BACKLOG)
        sock.setblocking(False)
        os.rename(temporary, path)
        return sock, os.lstat(path).st_ino
    except OSError:
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
