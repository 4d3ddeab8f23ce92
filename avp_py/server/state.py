"""The render server's state, shared by its parts, what ``status`` reports of it, and its log.

One thread owns all of it (:mod:`avp_py.server.loop`); the parts that act on it are
:mod:`~avp_py.server.incoming` (connections), :mod:`~avp_py.server.renders` (render processes),
:mod:`~avp_py.server.refreshes` (token refreshes) and :mod:`~avp_py.server.forking`.
"""

from __future__ import annotations

import collections
import os
import selectors
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from avp_py.printable import one_line
from avp_py.server import protocol
from avp_py.server.child import Generate
from avp_py.server.config import ServerConfig
from avp_py.server.connections import READING, Connection, Render
from avp_py.server.listener import Listener
from avp_py.server.status import Counters
from avp_py.server.warm import Warmth


def log(message: str) -> None:
    """One line on the server's own stderr (never a value: names, counts, durations)."""
    try:
        sys.stderr.write(f"avp-py serve: {one_line(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


@dataclass(eq=False)
class ServerState:
    config: ServerConfig
    warmth: Warmth
    listener: Listener | None  # None once the server stops listening
    counters: Counters
    generate: Generate  # what a render process runs: the command line's entry
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    connections: set[Connection] = field(default_factory=set)
    queue: collections.deque[Connection] = field(default_factory=collections.deque)
    renders: dict[int, Render] = field(default_factory=dict)  # by pid
    stopping: int = 0  # SIGTERM/SIGINT received so far
    wakeup: tuple[int, int] = field(default_factory=os.pipe)  # signals' wakeup fd (read, write)

    def drop(self, conn: Connection) -> None:
        """Forget a connection, closing it and whatever descriptors it still holds."""
        if conn.open:
            self.selector.unregister(conn.sock)
        conn.close()
        self.connections.discard(conn)

    def stop_listening(self) -> None:
        if self.listener is not None:
            self.selector.unregister(self.listener.sock)
            self.listener.close()
            self.listener = None
        for conn in [c for c in self.connections if c.state == READING]:
            self.drop(conn)  # not accepted yet: its client renders in-process

    def snapshot(self) -> dict[str, Any]:
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
                {"pid": r.pid, "app": app_name(r.app), "seconds": round(now - r.started, 3)}
                for r in self.renders.values()
            ],
        }


def app_name(name: str) -> str:
    """The Application's name as the log shows it: Kubernetes name characters only."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/")
    cleaned = "".join(c if c in allowed else "?" for c in name[:253])
    return cleaned or "-"
