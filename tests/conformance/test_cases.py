"""Golden-file conformance cases: every directory under ``cases/`` is one run of the CLI.

A case directory holds ``case.yaml`` (description, args, env, expected exit code and stderr
fragments), its input (``input.yaml``, ``input.json`` or an ``input/`` directory), the file
backend's ``secrets.yaml`` (default: ``cases/shared-secrets.yaml``), and ``expected.yaml``
(the exact stdout) when the run succeeds.
The CLI runs in-process with the case directory as working directory, the file backend
selected, and no ``AVP_*``/``ARGOCD_*``/``AZURE_*`` variable inherited from the caller.

Set ``AVP_UPDATE_GOLDEN=1`` to (re)write ``expected.yaml`` files; review every change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from avp_py.cli import cli

CASES = Path(__file__).parent / "cases"
_INHERITED = ("AVP_", "ARGOCD_", "AZURE_", "IDENTITY_", "MSI_", "KUBERNETES_")


def _case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _spec(case: Path) -> dict[str, Any]:
    spec = yaml.safe_load((case / "case.yaml").read_text()) or {}
    assert isinstance(spec, dict)
    return spec


def _environment(case: Path, spec: dict[str, Any]) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(_INHERITED)}
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


@pytest.mark.parametrize("case", _case_dirs(), ids=lambda p: p.name)
def test_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(case)
    args = [str(a) for a in spec.get("args", ["generate", "-"])]
    monkeypatch.chdir(case)
    result = CliRunner().invoke(cli, args, input=_stdin(case, args), env=_environment(case, spec))
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
