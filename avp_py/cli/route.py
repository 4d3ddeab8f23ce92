"""How this run of ``generate`` came to be: in this process, or in a render server's child.

:func:`avp_py.cli.main` decides (issue 13): a running ``avp-py serve`` renders in a process
forked from it, otherwise this process renders. Either way the same ``generate`` code runs;
the route only adds its ``--verbose`` line and, in a server's child, where the deadline starts
and who is told about it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from avp_py.model import Deadline


@dataclass(frozen=True)
class Route:
    """``note``: the ``--verbose`` line saying which path ran (and why)."""

    note: str = "rendering in-process"
    arrived: float | None = None
    """Server only: ``time.monotonic()`` when the request reached the server. A render that
    waited for a free slot has waited on its own deadline (Argo CD's clock runs meanwhile)."""
    on_deadline: Callable[[Deadline], None] | None = None
    """Server only: told the run's deadline, so that the server can stop a render that
    outlives it."""

    def start_deadline(self, seconds: float) -> Deadline:
        """The run's deadline: ``seconds`` from now, or from the request's arrival."""
        start = time.monotonic() if self.arrived is None else self.arrived
        deadline = Deadline(seconds, start + seconds)
        if self.on_deadline is not None:
            self.on_deadline(deadline)
        return deadline
