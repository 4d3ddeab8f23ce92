"""Fixtures of the deploy tests: the stand-in sidecar that runs plugin commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.deploy.test_plugin_contract import Sidecar


@pytest.fixture
def avp_py_dir() -> Path:
    """The directory holding the installed `avp-py` console script."""
    for candidate in (Path(sys.executable).parent, *map(Path, os.get_exec_path())):
        if (candidate / "avp-py").is_file():
            return candidate
    pytest.fail("the avp-py console script is not installed (pip install -e .)")


@pytest.fixture
def sidecar(tmp_path: Path, avp_py_dir: Path) -> Sidecar:
    return Sidecar(tmp_path, avp_py_dir)
