"""The process edge's error handling: an unexpected exception is an internal error that says
where to report it, and never shows its message (it may quote a value)."""

from __future__ import annotations

import pytest

from avp_py.cli import process
from avp_py.errors import ISSUES_URL, ExitCode


def test_an_unexpected_exception_says_where_to_report_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def crash() -> None:
        raise RuntimeError("sentinel-value-in-a-message")

    with pytest.raises(SystemExit) as exited:
        process.guarded(crash)
    assert exited.value.code == ExitCode.INTERNAL
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Error: internal error: RuntimeError at ")
    assert captured.err.rstrip().endswith(f"please report it at {ISSUES_URL}")
    assert "sentinel-value" not in captured.err
