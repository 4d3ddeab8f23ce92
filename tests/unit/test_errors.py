"""The error tree's constants: exit codes and where internal errors are reported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from avp_py.errors import ISSUES_URL, ExitCode

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is new in Python 3.11")
def test_the_issue_tracker_is_the_one_in_the_package_metadata() -> None:
    import tomllib

    urls = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Issues"] == ISSUES_URL
    assert ISSUES_URL.startswith(urls["Homepage"] + "/")


def test_exit_codes_are_distinct() -> None:
    codes = [int(code) for code in ExitCode]
    assert len(codes) == len(set(codes))
    assert ExitCode.FINDINGS not in (ExitCode.INTERNAL, ExitCode.CONFIG, ExitCode.BACKEND)
