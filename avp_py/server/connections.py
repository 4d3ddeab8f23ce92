"""One client connection of the server, and one render process: their state, nothing more.

A connection goes ``reading`` (until its first message) → ``accepted`` (render request taken,
waiting for ``go``) → ``queued`` → ``running`` (its render process exists). Whatever it
received (the four descriptors) it owns until the render is forked; every way out closes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from avp_py.server import protocol
from avp_py.server.child import RenderRequest

READING, ACCEPTED, QUEUED, RUNNING = "reading", "accepted", "queued", "running"
CONTROL_LIMIT = 1 << 20  # what a render may report (challenges of many vaults fit easily)


@dataclass(eq=False)
class Connection:
    sock: socket.socket
    arrived: float = field(default_factory=time.monotonic)
    decoder: protocol.Decoder = field(default_factory=protocol.Decoder)
    state: str = READING
    fds: list[int] = field(default_factory=list)
    request: RenderRequest | None = None
    open: bool = True

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any]) -> bool:
        """Send without blocking the server: False if the client cannot take it now (its
        socket buffer is full or it went away), which the server treats as gone."""
        if not self.open:
            return False
        try:
            self.sock.send(protocol.encode(message))  # a few hundred bytes: all or nothing
        except OSError:
            return False
        return True

    def release_fds(self) -> None:
        """Close the descriptors the client sent (the render has its own copies)."""
        fds, self.fds = self.fds, []
        if self.request is not None:
            fds += list(self.request.fds)
            self.request = _without_fds(self.request)
        protocol.close_all(fds)

    def close(self) -> None:
        self.release_fds()
        if self.open:
            self.open = False
            self.sock.close()


def _without_fds(request: RenderRequest) -> RenderRequest:
    return RenderRequest(request.argv, request.env, request.umask, request.stdio, (-1,) * 4)


@dataclass(eq=False)
class Render:
    """A render process and what it has told the server so far."""

    pid: int
    conn: Connection
    control: int | None  # read end of the child's report pipe (None once at its end)
    app: str
    started: float = field(default_factory=time.monotonic)
    kill_at: float = 0.0
    stopped: str | None = None  # why the server killed it: "timeout", "client" or "stopped"
    deadline_seconds: float | None = None
    learned: object = None
    _buffer: bytearray = field(default_factory=bytearray)

    def read_reports(self) -> bool:
        """Read what the child wrote; False at the end of the pipe (the child is gone)."""
        while self.control is not None:
            try:
                data = os.read(self.control, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            if len(self._buffer) + len(data) <= CONTROL_LIMIT:
                self._buffer += data
            self._parse_lines()
        return False

    def _parse_lines(self) -> None:
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        for line in lines:
            with contextlib.suppress(ValueError):
                self._take(json.loads(line))

    def _take(self, report: object) -> None:
        if not isinstance(report, dict):
            return
        expires = report.get("deadline")
        if isinstance(expires, (int, float)) and self.stopped is None:
            # The render's own deadline (time.monotonic() is system-wide on Linux).
            self.kill_at = float(expires) + GRACE_SECONDS
            self.deadline_seconds = float(expires) - self.conn.arrived
        if "learned" in report:
            self.learned = report["learned"]

    def close_control(self) -> None:
        control, self.control = self.control, None
        if control is not None:
            with contextlib.suppress(OSError):
                os.close(control)


GRACE_SECONDS = 5.0  # after its deadline a render has reported its error; then it is killed
CEILING_SECONDS = 3600.0 + GRACE_SECONDS  # until a render reports its deadline (the maximum)
