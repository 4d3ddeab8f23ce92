"""The render server's side of its clients' connections: accept, read, answer, forget.

A client sends one message first: ``status`` (answered and closed) or ``render`` with its
four descriptors (validated, then ``accepted``); its ``go`` puts it in the queue. A client
whose connection ends (Argo CD killed it at its deadline) or that breaks the protocol is
gone: a queued request is dropped, a running render killed (:func:`gone`).
"""

from __future__ import annotations

import selectors
from typing import Any

from avp_py.server import child, protocol, renders
from avp_py.server.connections import ACCEPTED, QUEUED, READING, RUNNING, Connection
from avp_py.server.state import ServerState

ACCEPTS_PER_WAKEUP = 64  # then the loop lets the others run


def accept(state: ServerState) -> None:
    for _ in range(ACCEPTS_PER_WAKEUP):
        if state.listener is None or (sock := state.listener.accept()) is None:
            return
        conn = Connection(sock)
        state.connections.add(conn)
        state.selector.register(conn.sock, selectors.EVENT_READ, lambda _s, c=conn: read(state, c))


def read(state: ServerState, conn: Connection) -> None:
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
        gone(state, conn)
        return
    for message in messages:
        if conn.open:
            _handle(state, conn, message)


def _handle(state: ServerState, conn: Connection, message: dict[str, Any]) -> None:
    kind = message["type"]
    if conn.state == READING and kind in ("status", "render"):
        if message.get("version") != protocol.VERSION:
            _refuse(
                state,
                conn,
                f"protocol version {message.get('version')!r}; this server"
                f" speaks {protocol.VERSION}",
            )
        elif kind == "status":
            conn.send({"type": "status", **state.snapshot()})
            state.drop(conn)
        else:
            _take_request(state, conn, message)
    elif conn.state == ACCEPTED and kind == "go":
        conn.state = QUEUED
        state.queue.append(conn)
    else:
        gone(state, conn)


def _take_request(state: ServerState, conn: Connection, message: dict[str, Any]) -> None:
    try:
        conn.request = child.RenderRequest.parse(message, conn.fds)
    except ValueError as exc:
        _refuse(state, conn, str(exc))
        return
    conn.fds = []  # the request owns them now
    if state.stopping:
        _refuse(state, conn, "the server is stopping")
    elif conn.send({"type": "accepted"}):
        conn.state = ACCEPTED
    else:
        gone(state, conn)


def _refuse(state: ServerState, conn: Connection, reason: str) -> None:
    state.counters.refused += 1
    conn.send({"type": "refused", "reason": reason})
    state.drop(conn)


def gone(state: ServerState, conn: Connection) -> None:
    """The client closed its connection (or broke the protocol)."""
    if conn.state == QUEUED:
        state.queue.remove(conn)
        state.counters.abandoned += 1
    if conn.state == RUNNING:
        for render in state.renders.values():
            if render.conn is conn:
                renders.kill(render, "client")
    state.drop(conn)
