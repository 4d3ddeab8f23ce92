"""What a render's end means: the message for its client, the words for the log, the counts.

Pure: given the render (why the server stopped it, if it did) and its exit code (negative:
the signal that ended it), as :func:`os.waitstatus_to_exitcode` gives it.
"""

from __future__ import annotations

import signal
from typing import Any

from avp_py.server.connections import CEILING_SECONDS, GRACE_SECONDS, Render
from avp_py.server.status import Counters

EXIT_TIMEOUT = 5  # the client's exit code for a render stopped at its deadline (backend)
EXIT_INTERNAL = 1


def outcome(render: Render, code: int, counters: Counters) -> tuple[dict[str, Any] | None, str]:
    """The message for the client (None: it went away) and the words for the log; counts it."""
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
        return _failed(EXIT_TIMEOUT, message), "killed: deadline"
    if render.stopped == "stopped":
        message = "the avp-py server was stopped before the render finished"
        return _failed(EXIT_INTERNAL, message), "killed: server stopped"
    counters.crashed += 1
    name = signal_name(-code)
    message = (
        f"the render process (pid {render.pid}) died of {name} before it finished;"
        " the avp-py server is still running"
    )
    return _failed(EXIT_INTERNAL, message), f"crashed: {name}"


def _failed(code: int, message: str) -> dict[str, Any]:
    return {"type": "failed", "code": code, "message": message}


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
