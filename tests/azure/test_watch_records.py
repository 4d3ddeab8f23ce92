"""What ``avp-py generate`` records for ``avp-py watch``: the installed console script against
the Key Vault test server, as a sidecar with ``AVP_WATCH_STATE_DIR`` runs it (issue 14, item 1).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.kvserver import KeyVaultServer

from .conftest import Runner

pytestmark = pytest.mark.keyvault

VALUE = "sentinel-watch-value-91c2"
OLD_VALUE = "sentinel-watch-old-value-5d7e"

MANIFEST = """\
apiVersion: v1
kind: Secret
metadata:
  name: app
  annotations: {{avp.kubernetes.io/remove-missing: "true"}}
stringData:
  db: <path:myvault#db-password>
  again: <path:myvault#db-password | base64encode>
  pinned: <path:myvault#api-key#{pinned}>
  later: <path:myvault#not-created-yet>
"""


def _records(directory: Path) -> list[dict[str, object]]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("record-*.json"))
    ]


@pytest.fixture
def versions(kv: KeyVaultServer) -> dict[str, str]:
    pinned = kv.set_secret("myvault", "api-key", OLD_VALUE)
    kv.set_secret("myvault", "api-key", VALUE)
    served = kv.set_secret("myvault", "db-password", VALUE)
    return {"pinned": pinned, "served": served}


def _env(state: Path, **extra: str) -> dict[str, str | None]:
    return {
        "AVP_AZURE_CREDENTIAL": "managed",
        "AVP_WATCH_STATE_DIR": str(state),
        "ARGOCD_APP_NAME": "team-a_orders",
        "ARGOCD_APP_PROJECT_NAME": "team-a",
        "ARGOCD_APP_NAMESPACE": "orders-prod",
        "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example/gitops.git",
        "ARGOCD_APP_SOURCE_PATH": "apps/orders",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        **extra,
    }


def test_a_successful_render_records_what_it_served(
    avp: Runner, versions: dict[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    run = avp(MANIFEST.format(**versions), env=_env(state))
    assert run.code == 0, run.stderr
    (record,) = _records(state)
    assert record["application"] == "team-a_orders"  # as Argo CD passes it
    assert record["project"] == "team-a"
    assert record["source"] == {
        "repoURL": "https://git.example/gitops.git",
        "path": "apps/orders",
        "targetRevision": "main",
    }
    assert record["identity"] == {
        "backend": "azurekeyvault",
        "options": [["AVP_AZURE_CREDENTIAL", "managed"]],
    }
    # "latest" references only, each once, with the version Key Vault served; the missing one
    # is watched for its creation; the pinned one is left out
    assert record["latest"] == [
        {"path": "myvault", "key": "db-password", "version": versions["served"]},
        {"path": "myvault", "key": "not-created-yet", "version": None},
    ]
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    for path in state.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        text = path.read_text(encoding="utf-8")
        assert VALUE not in text and OLD_VALUE not in text


def test_no_application_name_records_nothing(
    avp: Runner, versions: dict[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    run = avp(MANIFEST.format(**versions), env=_env(state, ARGOCD_APP_NAME=""))
    assert run.code == 0, run.stderr
    assert not state.exists() or _records(state) == []


def test_a_failing_render_records_nothing_and_keeps_the_last_record(
    avp: Runner, kv: KeyVaultServer, versions: dict[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    assert avp(MANIFEST.format(**versions), env=_env(state)).code == 0
    before = _records(state)
    kv.set_secret("myvault", "db-password", "sentinel-rotated-value-0a1b")
    kv.deny("myvault", permissions=["get"])  # the render fails after the rotation
    run = avp(MANIFEST.format(**versions), env=_env(state))
    assert run.code == 5 and run.stdout == ""
    assert _records(state) == before


def test_an_unusable_state_directory_warns_but_the_render_succeeds(
    avp: Runner, versions: dict[str, str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    run = avp(MANIFEST.format(**versions), env=_env(state))
    assert run.code == 0, run.stderr
    assert "kind: Secret" in run.stdout
    assert "not recorded for avp-py watch" in run.stderr and "open to other users" in run.stderr
    assert list(state.iterdir()) == []


def test_an_application_may_not_move_the_state_directory(
    avp: Runner, versions: dict[str, str], tmp_path: Path
) -> None:
    elsewhere = str(tmp_path / "elsewhere")
    env = _env(tmp_path / "state", ARGOCD_ENV_AVP_WATCH_STATE_DIR=elsewhere)
    run = avp(MANIFEST.format(**versions), env=env)
    assert run.code == 2 and "may not change AVP_WATCH_STATE_DIR" in run.stderr
    assert not (tmp_path / "elsewhere").exists()
