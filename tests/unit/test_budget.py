"""The run's budget (issue 11 items 2 and 3): deadline, nodes, output size."""

from __future__ import annotations

import pytest

from avp_py.budget import Budget, utf8_size
from avp_py.errors import DeadlineError, ExitCode, InputError
from avp_py.model import Deadline


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_deadline_is_the_runs() -> None:
    clock = Clock()
    budget = Budget(Deadline(5.0, 105.0), clock=clock)
    budget.check_time("parsing f (document 1, line 1)")
    assert budget.remaining() == 5.0
    clock.now = 105.0
    with pytest.raises(DeadlineError) as caught:
        budget.check_time("parsing f (document 1, line 1)")
    assert str(caught.value) == (
        "deadline of 5 s (AVP_TIMEOUT_SECONDS) reached while parsing f (document 1, line 1)"
    )
    assert caught.value.exit_code is ExitCode.BACKEND
    assert budget.remaining() == 0.0


def test_without_a_deadline_time_never_runs_out() -> None:
    budget = Budget()
    budget.check_time("anything")
    assert budget.remaining() is None


def test_nodes_are_counted_across_documents() -> None:
    budget = Budget(max_total_nodes=10)
    budget.charge_nodes(6, "f (document 1, line 1)")
    budget.charge_nodes(4, "f (document 2, line 9)")
    assert budget.nodes_left() == 0
    with pytest.raises(InputError) as caught:
        budget.charge_nodes(1, "f (document 3, line 12)")
    message = str(caught.value)
    assert message.startswith("f (document 3, line 12): ")
    assert "more than 10 YAML/JSON nodes" in message and "AVP_MAX_TOTAL_NODES" in message


def test_values_and_output_are_counted_against_the_output_limit() -> None:
    budget = Budget(max_output_bytes=10)
    assert not budget.add_value(6)
    assert not budget.add_value(4)
    assert budget.add_value(1)  # 11 bytes of values: the output cannot fit
    assert not budget.add_output(10)  # the write stage counts on its own, exactly
    assert budget.add_output(1)
    error = budget.output_too_large("f (document 1, line 1) ConfigMap/x data.k")
    assert str(error).startswith("f (document 1, line 1) ConfigMap/x data.k: the output would")
    assert "larger than 10 bytes (AVP_MAX_OUTPUT_BYTES)" in str(error)
    assert error.exit_code is ExitCode.INPUT


def test_no_output_limit_by_default() -> None:
    assert not Budget().add_value(1 << 50)
    assert not Budget().add_output(1 << 50)


def test_utf8_size() -> None:
    assert utf8_size("abc") == 3
    assert utf8_size("é✓") == 5
    assert utf8_size("\ud800") == 3  # a lone surrogate is counted, not an error
