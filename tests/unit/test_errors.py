"""The error tree's constants: exit codes and where internal errors are reported."""

from __future__ import annotations

import re
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


README = PYPROJECT.parent / "README.md"


def _readme_exit_codes() -> dict[int, str]:
    section = README.read_text(encoding="utf-8").split("## Errors and exit codes", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


def _help_exit_codes(text: str) -> dict[int, str]:
    block = text.split("Exit codes:", 1)[1]
    return {int(code): meaning for code, meaning in re.findall(r"^ {2}(\d+) +(.+)$", block, re.M)}


def test_the_readme_and_generate_help_document_every_exit_code_alike() -> None:
    from avp_py.cli.app import EXIT_CODES_HELP

    readme, helped = _readme_exit_codes(), _help_exit_codes(EXIT_CODES_HELP)
    assert sorted(readme) == sorted(helped) == sorted(int(code) for code in ExitCode)
    for code, words in [(1, "internal"), (2, "configuration"), (3, "input"), (5, "backend")]:
        assert words in readme[code].lower() and words in helped[code].lower(), code
    assert ISSUES_URL in readme[int(ExitCode.INTERNAL)]
