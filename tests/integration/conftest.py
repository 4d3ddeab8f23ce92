"""End-to-end fixtures: the installed console script, run as a subprocess against
``KeyVaultServer`` with ``AVP_TYPE=azurekeyvault``, TLS verification on and a real credential.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.isolation import clean_environment
from tests.kvserver import KeyVaultServer
from tests.kvserver.server import Credential


def console_script(name: str = "avp-py") -> str:
    """The console script installed next to the interpreter running the tests."""
    found = shutil.which(name, path=os.path.dirname(sys.executable))
    if found is None:
        pytest.fail(f"console script {name} is not installed next to {sys.executable}")
    return found


@dataclass(frozen=True)
class Run:
    """One finished ``generate`` process."""

    code: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def error_lines(self) -> list[str]:
        """The indented lines under ``Error:`` (one per failure)."""
        return [line.strip() for line in self.stderr.splitlines()[1:] if line.startswith("  ")]


Runner = Callable[..., Run]


def base_environment() -> dict[str, str]:
    """The test process's environment without identity, proxy, CA or avp-py settings."""
    return clean_environment(extra_prefixes=("PYTEST_",))


@pytest.fixture
def avp(kv: KeyVaultServer, tmp_path: Path) -> Runner:
    """``avp(stdin_text=None, *, args=("generate", "-"), credential="managed", env=None,
    script="avp-py", timeout=30)`` → :class:`Run`.

    The child gets ``AVP_TYPE=azurekeyvault``, the server's client environment for
    ``credential`` and ``env`` on top (a value of None removes a variable). It runs in
    ``tmp_path``.
    """

    def run(
        stdin_text: str | None = None,
        *,
        args: Sequence[str] = ("generate", "-"),
        credential: Credential = "managed",
        env: Mapping[str, str | None] | None = None,
        script: str = "avp-py",
        timeout: float = 30.0,
    ) -> Run:
        child = base_environment()
        child.update(kv.client_env(credential))
        child["AVP_TYPE"] = "azurekeyvault"
        for name, value in (env or {}).items():
            if value is None:
                child.pop(name, None)
            else:
                child[name] = value
        started = time.monotonic()
        done = subprocess.run(
            [console_script(script), *args],
            input=(stdin_text or "").encode(),
            capture_output=True,
            env=child,
            cwd=tmp_path,
            timeout=timeout,
            check=False,
        )
        elapsed = time.monotonic() - started
        return Run(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
            elapsed,
        )

    return run


def secret_free(text: str, kv: KeyVaultServer, *values: str) -> bool:
    """True if ``text`` holds no issued token, no client secret and none of ``values``."""
    forbidden = [t.token for t in kv.tokens()] + [kv.client_secret, *values]
    return not any(item and item in text for item in forbidden)
