"""The vouch-proxy example passes ``avp-py check`` (issue #7's "done when")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from avp_py.cli.app import cli

from .spec import file_env

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "vouch-proxy"


def _check(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> Result:
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(cli, ["check", *args], env=file_env(EXAMPLE / "secrets.yaml", **env))


def _values(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text())
    return [str(value) for vault in data.values() for value in vault.values()]


def test_rendered_example_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _check(monkeypatch, "--app", "vouch-proxy", "examples/vouch-proxy/rendered.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == "check passed: no problems (5 documents, 2 secret references)\n"
    strict = _check(
        monkeypatch,
        "--strict",
        "--format",
        "json",
        "--app",
        "vouch-proxy",
        "examples/vouch-proxy/rendered.yaml",
        AVP_SECRET_NAME_PATTERN="^{app}-[A-Za-z0-9]+$",
        AVP_ALLOWED_VAULTS="kv-platform-*",
    )
    assert strict.exit_code == 0, strict.output
    assert '"findings": []' in strict.stdout
    for value in _values(EXAMPLE / "secrets.yaml"):
        assert value not in result.stdout + strict.stdout


def test_secretproviderclass_example_is_clean_once_its_secrets_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The example's objects are orders-api-*, which examples/vouch-proxy/secrets.yaml lacks.
    data = yaml.safe_load((EXAMPLE / "secrets.yaml").read_text())
    data["kv-platform-prod"].update(
        {"orders-api-dbPassword": "SENTINEL-db", "orders-api-paymentApiKey": "SENTINEL-key"}
    )
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(ROOT)
    args = [
        "check",
        "--strict",
        "--app",
        "orders-api",
        "examples/vouch-proxy/secretproviderclass.yaml",
    ]
    env = file_env(secrets, AVP_SECRET_NAME_PATTERN="^{app}-[A-Za-z0-9]+$")
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "SENTINEL" not in result.stdout


def test_secretproviderclass_example_with_the_example_data(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _check(
        monkeypatch, "--app", "orders-api", "examples/vouch-proxy/secretproviderclass.yaml"
    )
    assert result.exit_code == 0, result.output
