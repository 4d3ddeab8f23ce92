"""Golden-file conformance cases: every directory under ``cases/`` is one run of the CLI.

A case directory holds ``case.yaml`` (description, args, env, expected exit code and stderr
fragments), its input (``input.yaml``, ``input.json`` or an ``input/`` directory), the file
backend's ``secrets.yaml`` (default: ``cases/shared-secrets.yaml``), and ``expected.yaml``
(the exact stdout) when the run succeeds.
The CLI runs in-process with the case directory as working directory, the file backend
selected, and no ``AVP_*``/``ARGOCD_*``/``AZURE_*`` variable inherited from the caller.

A case with a ``keyvault`` section runs against the project's Key Vault test server instead
of the file backend (``AVP_TYPE=azurekeyvault``, managed identity, real SDK over HTTPS):

    keyvault:
      vaults: {VAULT: {SECRET: value | [older, latest]}}   # created before the run
      latency: 0.0          # seconds per request
      throttle_after: 2     # optional: the third request gets one 429 with Retry-After: 1
      expect_counts: {VAULT: {get: 3, challenge: 1}}       # server counters after the run

Set ``AVP_UPDATE_GOLDEN=1`` to (re)write ``expected.yaml`` files; review every change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from avp_py.cli.app import cli
from tests.isolation import is_inherited_setting
from tests.kvserver import KeyVaultServer
from tests.kvserver.fixtures import clear_challenge_cache

CASES = Path(__file__).parent / "cases"


def _case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _spec(case: Path) -> dict[str, Any]:
    spec = yaml.safe_load((case / "case.yaml").read_text()) or {}
    assert isinstance(spec, dict)
    return spec


def _environment(case: Path, spec: dict[str, Any]) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if is_inherited_setting(k)}
    secrets = case / "secrets.yaml"
    if not secrets.is_file():
        secrets = CASES / "shared-secrets.yaml"
    env.update({"AVP_TYPE": "file", "AVP_FILE_PATH": str(secrets)})
    env.update(
        {str(k): (None if v is None else str(v)) for k, v in (spec.get("env") or {}).items()}
    )
    return env


def _stdin(case: Path, args: list[str]) -> bytes | None:
    if "-" not in args:
        return None
    for name in ("input.yaml", "input.json", "input.txt"):
        if (case / name).is_file():
            return (case / name).read_bytes()
    return b""


@contextmanager
def _keyvault(spec: dict[str, Any], env: dict[str, str | None]) -> Iterator[KeyVaultServer | None]:
    config = spec.get("keyvault")
    if not config:
        yield None
        return
    clear_challenge_cache()  # the SDK runs in this process (CliRunner), against a new server
    with KeyVaultServer() as server:
        for vault, secrets in config.get("vaults", {}).items():
            for name, values in secrets.items():
                for value in values if isinstance(values, list) else [values]:
                    server.set_secret(vault, name, str(value))
        env.update(server.client_env("managed"))
        env.update(AVP_TYPE="azurekeyvault", AVP_FILE_PATH=None)
        server.faults.latency = float(config.get("latency", 0))
        if "throttle_after" in config:
            server.faults.throttle_after(int(config["throttle_after"]), retry_after=1)
        yield server


@pytest.mark.parametrize("case", _case_dirs(), ids=lambda p: p.name)
def test_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(case)
    args = [str(a) for a in spec.get("args", ["generate", "-"])]
    monkeypatch.chdir(case)
    env = _environment(case, spec)
    with _keyvault(spec, env) as server:
        result = CliRunner().invoke(cli, args, input=_stdin(case, args), env=env)
        if server is not None:
            _check_counts(server, spec["keyvault"].get("expect_counts", {}))
    expected_code = int(spec.get("exit_code", 0))
    assert result.exit_code == expected_code, result.stderr or repr(result.exception)
    for fragment in spec.get("stderr_contains", []):
        assert fragment in result.stderr
    for fragment in spec.get("stderr_excludes", []):
        assert fragment not in result.stderr
    assert "Traceback" not in result.stderr
    if expected_code != 0:
        assert result.stdout == ""
        return
    golden = case / "expected.yaml"
    if os.environ.get("AVP_UPDATE_GOLDEN") == "1":
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def _check_counts(server: KeyVaultServer, expected: dict[str, dict[str, int]]) -> None:
    for vault, operations in expected.items():
        for operation, count in operations.items():
            assert server.counts(vault, operation) == count, (vault, operation)
