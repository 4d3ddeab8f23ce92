"""The run's budget: one deadline, a node count and an output size that every stage consults.

Issue 11 items 2 and 3: a bound checked only by the resolver let an input under
``AVP_MAX_INPUT_BYTES`` keep a shared sidecar busy for minutes (tiny documents by the million,
nodes by the million) or grow into gigabytes of output (one large secret referenced thousands
of times). One :class:`Budget` per run, built from the settings, is handed to reading,
splitting, parsing, planning, substituting and writing; each charges what it does and looks at
the clock often enough (:data:`CHECK_EVERY` units of work) for the deadline to hold within a
fraction of a second, at the cost of one counter per unit.

A budget holds no secret value: charges are sizes and counts, messages name settings and
places (file, document, field, placeholder).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from avp_py.errors import DeadlineError, InputError
from avp_py.model import Deadline

CHECK_EVERY = 4096  # units of work (nodes, documents, lines) between two looks at the clock
DEFAULT_MAX_TOTAL_NODES = 10_000_000


class Budget:
    """What a run may still spend; not thread-safe (the pipeline's stages run in one thread)."""

    __slots__ = (
        "_clock",
        "_nodes_left",
        "_output",
        "_values",
        "deadline",
        "max_nodes",
        "max_output_bytes",
    )

    def __init__(
        self,
        deadline: Deadline | None = None,
        max_total_nodes: int = DEFAULT_MAX_TOTAL_NODES,
        max_output_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deadline = deadline
        self.max_nodes = max_total_nodes
        self.max_output_bytes = max_output_bytes
        self._nodes_left = max_total_nodes
        self._output = 0
        self._values = 0
        self._clock = clock

    # ------------------------------------------------------------------ the deadline

    def check_time(self, doing: str) -> None:
        """DeadlineError if the deadline has passed; ``doing`` says where (``"parsing
        <stdin> (document 3, line 41)"``)."""
        deadline = self.deadline
        if deadline is not None and self._clock() >= deadline.expires_at:
            raise DeadlineError(
                f"deadline of {deadline.seconds:g} s (AVP_TIMEOUT_SECONDS) reached while {doing}"
            )

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline.remaining(self._clock())

    # ------------------------------------------------------------------ nodes

    def nodes_left(self) -> int:
        """Nodes the rest of the input may still have (``AVP_MAX_TOTAL_NODES``)."""
        return self._nodes_left

    def charge_nodes(self, count: int, where: str) -> None:
        """Spend ``count`` nodes of the document at ``where``; InputError when they run out."""
        self._nodes_left -= count
        if self._nodes_left < 0:
            raise self.too_many_nodes(where)

    def too_many_nodes(self, where: str) -> InputError:
        """The error for an input whose documents hold more than ``AVP_MAX_TOTAL_NODES``."""
        return InputError(
            f"{where}: the input holds more than {self.max_nodes} YAML/JSON nodes in all its"
            " documents (AVP_MAX_TOTAL_NODES); the limit was reached in this document"
        )

    # ------------------------------------------------------------------ output

    def add_value(self, size: int) -> bool:
        """Count a value of ``size`` bytes put into the output; True once past the limit.

        Substitution calls it for every value it puts in: the output holds each at least once,
        so the sum is a lower bound of the output's size, known before the output is built.
        The caller raises :meth:`output_too_large`, naming the placeholder."""
        self._values += size
        return self.max_output_bytes is not None and self._values > self.max_output_bytes

    def add_output(self, size: int) -> bool:
        """Count ``size`` bytes of the output as the write stage makes it; True past the limit
        (the exact count: documents re-emitted as YAML may be larger than what they hold)."""
        self._output += size
        return self.max_output_bytes is not None and self._output > self.max_output_bytes

    def output_too_large(self, where: str) -> InputError:
        """The error for an output past ``AVP_MAX_OUTPUT_BYTES``; ``where`` names the place."""
        return InputError(
            f"{where}: the output would be larger than {self.max_output_bytes} bytes"
            " (AVP_MAX_OUTPUT_BYTES): a large secret referenced many times, or an input near"
            " AVP_MAX_INPUT_BYTES; nothing was written"
        )


def utf8_size(text: str) -> int:
    """``len(text.encode())`` without encoding ASCII text (``isascii`` is O(1))."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
