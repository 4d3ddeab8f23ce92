"""What the server counts, and ``avp-py serve --status``: ask a running server for it.

Counts, names and durations only: never a value, a token or an environment variable.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from avp_py.server import protocol


@dataclass
class Counters:
    """Since the server started (``restarts``: how often ``avp-py sidecar`` restarted it)."""

    served: int = 0  # renders that ended with an exit code reported to their client
    failed: int = 0  # of all renders: non-zero exit, crashed, stopped at the deadline
    crashed: int = 0  # ended by a signal the server did not send
    timed_out: int = 0  # stopped by the server at the render's deadline plus the grace
    abandoned: int = 0  # the client went away first (Argo CD's deadline): render killed
    refused: int = 0  # requests answered `refused` (protocol version, malformed)
    restarts: int = 0
    started: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def request_status(path: str, timeout: float = 5.0) -> dict[str, Any]:
    """The status of the server at ``path``; OSError or ProtocolError if none answers."""
    problem = protocol.socket_problem(path, os.geteuid())
    if problem:
        raise OSError(problem)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        if protocol.peer_uid(sock) != os.geteuid():
            raise OSError(f"the process at {path} runs as another uid")
        protocol.send(sock, {"type": "status", "version": protocol.VERSION})
        decoder = protocol.Decoder()
        while True:
            data = sock.recv(1 << 16)
            if not data:
                raise protocol.ProtocolError("the server closed the connection")
            for message in decoder.feed(data):
                if message.get("type") != "status":
                    raise protocol.ProtocolError(str(message.get("reason") or message))
                return message


def format_status(status: dict[str, Any]) -> str:
    """``name: value`` lines, then one line per running render."""
    lines = [
        f"{name}: {status[name]}"
        for name in (
            "pid",
            "version",
            "socket",
            "uptime_seconds",
            "max_renders",
            "running",
            "queued",
            "served",
            "failed",
            "crashed",
            "timed_out",
            "abandoned",
            "refused",
            "restarts",
            "token_refreshes",
            "token_refresh_failures",
            "warm_tokens",
            "warm_vaults",
        )
        if name in status
    ]
    lines += [
        f"render: pid {r['pid']}, app {r['app'] or '-'}, running {r['seconds']:.1f} s"
        for r in status.get("renders", [])
    ]
    return "\n".join(lines) + "\n"
