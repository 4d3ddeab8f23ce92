"""``avp-py check`` as a command: inputs (file, directory, stdin), exit codes, settings
(the backend error, exit 5, is in tests/azure/test_check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from avp_py.cli.app import cli
from tests.conformance.check.spec import CATALOGUE, catalogue, file_env, sentinels
from tests.conformance.check.spec import clean_env as spec_clean_env

SPEC = catalogue()
BROKEN = CATALOGUE / "broken" / "placeholder-secret-not-created-yet.yaml"


def _run(args: list[str], env: dict[str, str | None], stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["check", *args], env=env, input=stdin)


def test_stdin_directory_and_app_from_argocd(tmp_path: Path) -> None:
    stdin = _run(["--format", "json", "-"], file_env(), BROKEN.read_bytes())
    assert stdin.exit_code == 6
    assert json.loads(stdin.stdout)["findings"][0]["file"] == "<stdin>"
    env = file_env(AVP_SECRET_NAME_PATTERN="^{app}-[A-Za-z0-9]+$", ARGOCD_APP_NAME="orders-api")
    directory = _run(["--format", "json", str(CATALOGUE / "broken")], env)
    assert directory.exit_code == 6
    report = json.loads(directory.stdout)
    files = {Path(f["file"]).name for f in report["findings"]}
    assert "spc-objectname-typo.yaml" in files and "name-without-app-prefix.yaml" in files
    assert report["summary"]["errors"] == sum(f["severity"] == "error" for f in report["findings"])
    for value in sentinels():
        assert value not in directory.stdout


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({}, "Must provide a supported Vault Type"),
        (
            {"AVP_TYPE": "file", "AVP_SECRET_NAME_PATTERN": "^{app}-[A-Za-z0-9]+$"},
            "pass --app NAME",
        ),
        ({"AVP_TYPE": "file", "AVP_FILE_PATH": "/nonexistent/secrets.yaml"}, "AVP_FILE_PATH"),
    ],
    ids=["no-backend", "app-needed", "file-missing"],
)
def test_configuration_errors_exit_2(env: dict[str, str], fragment: str) -> None:
    result = _run([str(BROKEN)], {**file_env(), "AVP_TYPE": None, "AVP_FILE_PATH": None, **env})
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert fragment in result.stderr


def test_input_errors_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Secret\nmetadata: [\n")
    result = _run([str(bad)], file_env())
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert _run([str(tmp_path / "none")], file_env()).exit_code == 3
    assert _run([], file_env()).exit_code == 2  # click: missing PATH


def test_list_needs_no_backend_setting_at_all() -> None:
    """``--list`` with a clean environment (no AVP_TYPE, no Azure setting): every reference of
    the catalogue, refused by the policy or not, and exit 0 although secrets are missing."""
    result = _run(["--list", "--format", "json", str(CATALOGUE / "broken")], spec_clean_env())
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    listed = json.loads(result.stdout)
    found = {(r["vault"], r["secret"], r["version"]) for r in listed["references"]}
    assert ("kv-orders-prod", "orders-api-featureFlags", "") in found  # does not exist
    assert ("kv-orders-prod", "shared-db-password", "") in found  # the policy would refuse it
    for value in sentinels():
        assert value not in result.stdout
    text = _run(["--list", str(BROKEN)], spec_clean_env())
    assert text.exit_code == 0
    assert text.stdout.startswith("kv-orders-prod#orders-api-dbPassword (latest)\n")
    assert "Secret/orders-api-flags: stringData.FLAGS" in text.stdout


def test_list_refuses_report_formats_and_unknown_backends() -> None:
    markdown = _run(["--list", "--format", "markdown", str(BROKEN)], spec_clean_env())
    assert markdown.exit_code == 2 and markdown.stdout == ""
    assert "--list prints text or json" in markdown.stderr
    wrong = _run(["--list", str(BROKEN)], spec_clean_env(AVP_TYPE="vault"))
    assert wrong.exit_code == 2 and "Must provide a supported Vault Type" in wrong.stderr
