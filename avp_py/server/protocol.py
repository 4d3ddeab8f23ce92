"""The render server's wire format, its socket's place, and the checks both ends make.

Standard library only, and nothing from avp-py: the client imports this module in every
``avp-py generate`` before anything else (issue 13).

A message is a 4-byte big-endian length and that many bytes of UTF-8 JSON (an object with a
``type``). A render runs as::

    client                                   server
    render {version, argv, env, ...}  ──►    (+ stdin, stdout, stderr, cwd as SCM_RIGHTS)
                                      ◄──    accepted | refused {reason}
    go                                ──►    (only now may a render start: until then the
                                              client can still render in-process)
                                      ◄──    exit {code} | failed {code, message}

``status`` is answered with ``status {counters}``. Every request carries ``version``; a server
that speaks another answers ``refused``, and the client renders in-process.
"""

from __future__ import annotations

import array
import json
import os
import socket
import stat
import struct

# Not `typing.TYPE_CHECKING`: importing typing costs the client more than the rest of it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

VERSION = 1
SOCKET_VARIABLE = "AVP_SERVER_SOCKET"
MAX_MESSAGE = 16 << 20  # a request carries the whole environment (ARG_MAX is 2 MiB)
FDS_PER_RENDER = 4  # stdin, stdout, stderr, working directory
_LENGTH = struct.Struct(">I")
_INT_SIZE = array.array("i").itemsize
# The longest path a sockaddr_un holds on Linux (108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 107


class ProtocolError(Exception):
    """A peer sent something this protocol does not allow (or went away mid-message)."""


def default_socket_path(uid: int) -> str:
    """Where server and clients meet when ``AVP_SERVER_SOCKET`` is not set: a directory of
    this uid in ``/tmp`` (the sidecar's own emptyDir in Argo CD)."""
    return f"/tmp/avp-py-{uid}/server.sock"


def socket_path(environ: Mapping[str, str], uid: int) -> str | None:
    """``AVP_SERVER_SOCKET``, else the default; None when it is set and empty (turned off)."""
    configured = environ.get(SOCKET_VARIABLE)
    if configured is None:
        return default_socket_path(uid)
    return configured or None


def encode(message: dict[str, Any]) -> bytes:
    """One framed message."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(body)} bytes exceeds {MAX_MESSAGE}")
    return _LENGTH.pack(len(body)) + body


def send(sock: socket.socket, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
    """Send ``message`` (blocking); ``fds`` travel with its first bytes (SCM_RIGHTS)."""
    data = encode(message)
    if fds:
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        sent = sock.sendmsg([data], rights)
        data = data[sent:]
    if data:
        sock.sendall(data)


class Decoder:
    """Reassembles framed messages from the bytes of a stream, in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Messages completed by ``data``; ProtocolError for an oversized or invalid one."""
        self._buffer += data
        messages: list[dict[str, Any]] = []
        while len(self._buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > MAX_MESSAGE:
                raise ProtocolError(f"message of {length} bytes exceeds {MAX_MESSAGE}")
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                break
            body = bytes(self._buffer[_LENGTH.size : end])
            del self._buffer[:end]
            messages.append(_decode(body))
        return messages

    @property
    def pending(self) -> bool:
        """Part of a message is buffered."""
        return bool(self._buffer)


def _decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise ProtocolError(f"not a JSON message: {exc}") from None
    except RecursionError:  # "[" * 100_000: it would otherwise end the server's loop
        raise ProtocolError("a JSON message nested too deeply") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a message must be a JSON object with a type")
    return message


def receive(sock: socket.socket, decoder: Decoder, max_fds: int = 0) -> tuple[bytes, list[int]]:
    """One ``recvmsg``: the bytes (b"" at end of stream) and any descriptors that came along.

    Descriptors beyond ``max_fds`` (or when the kernel truncated the control data) are closed
    and reported as a ProtocolError, so a peer cannot make this process hold files it never
    asked for.
    """
    space = socket.CMSG_SPACE(max(1, max_fds) * _INT_SIZE)
    data, ancillary, flags, _ = sock.recvmsg(1 << 16, space)
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            received = array.array("i")
            received.frombytes(payload[: len(payload) - len(payload) % _INT_SIZE])
            fds.extend(received)
    if len(fds) > max_fds or flags & socket.MSG_CTRUNC:
        close_all(fds)
        raise ProtocolError("unexpected file descriptors")
    return data, fds


def close_all(fds: list[int] | tuple[int, ...]) -> None:
    """Close each descriptor, ignoring ones already closed."""
    for fd in fds:
        try:  # noqa: SIM105 - contextlib is one more import for every client
            os.close(fd)
        except OSError:
            pass


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return int(uid)


def private_directory_problem(path: str, uid: int) -> str | None:
    """Why ``path`` is not a directory only ``uid`` can use (None: it is)."""
    info = _lstat(path, f"{path} does not exist")
    if isinstance(info, str):
        return info
    if not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory"
    if info.st_uid != uid:
        return f"{path} is owned by uid {info.st_uid}, not {uid}"
    if info.st_mode & 0o077:
        return f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def _lstat(path: str, missing: str) -> os.stat_result | str:
    """The path's own status (a symlink is not followed), or why there is none."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return missing
    except OSError as exc:
        return f"{path}: {exc.strerror}"


def socket_problem(path: str, uid: int) -> str | None:
    """Why a client must not connect to ``path`` (None: it may): the socket and its directory
    must belong to ``uid`` and its directory must be closed to others, because the request
    carries the whole environment of the run."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        return f"the socket path {path} is longer than {MAX_SOCKET_PATH} bytes"
    info = _lstat(path, f"no avp-py server socket at {path}")
    if isinstance(info, str):
        return info
    if not stat.S_ISSOCK(info.st_mode):
        return f"{path} is not a socket"
    if info.st_uid != uid:
        return f"{path} is owned by uid {info.st_uid}, not {uid}"
    return private_directory_problem(os.path.dirname(path) or ".", uid)
