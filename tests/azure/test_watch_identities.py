"""``avp-py watch`` with ``AVP_AZURE_IDENTITIES`` and workload identity (issue 15 part 1): the
mapping is checked at start-up as ``generate`` checks it, and with a mapping the client id
comes from it (``AZURE_CLIENT_ID`` is not needed); each project's records are looked up with
its team's identity. The installed console script against the Key Vault and Argo CD test
servers, as in ``test_watch``."""

from __future__ import annotations

import uuid

import pytest

from tests.kvserver import KeyVaultServer

from .test_watch import APPS, SEARCH, SHARED_V2, VAULT, WORKLOAD, Bench, argocd, bench

__all__ = ["argocd", "bench"]  # the fixtures, imported for pytest

pytestmark = pytest.mark.keyvault


def _workload(kv: KeyVaultServer, mapping: str, token_file: str) -> dict[str, str | None]:
    """Workload identity as the AKS webhook sets it, with the client id left to the mapping."""
    return {
        **kv.client_env("workload"),
        "AVP_AZURE_CREDENTIAL": "workload",
        "AVP_AZURE_IDENTITIES": mapping,
        "AZURE_FEDERATED_TOKEN_FILE": token_file,
        "AZURE_CLIENT_ID": None,
        "IDENTITY_ENDPOINT": None,
        "IDENTITY_HEADER": None,
    }


def _render(bench: Bench, app: str, manifest: str, env: dict[str, str | None]) -> None:
    _, _, project = APPS[app]
    run = bench.avp(
        manifest.format(app=app.rpartition("_")[2]),
        env={
            **env,
            "AVP_WATCH_STATE_DIR": str(bench.state),
            "ARGOCD_APP_NAME": app,
            "ARGOCD_APP_PROJECT_NAME": project,
        },
    )
    bench.logs.append(run.stderr)
    assert run.code == 0, run.stderr


@pytest.fixture
def teams(bench: Bench) -> tuple[str, str, str]:
    """team-a's and team-b's identities, both trusting the sidecar's one service account
    token; only they may read the vault."""
    team_a, team_b = str(uuid.uuid4()), str(uuid.uuid4())
    token_file = bench.kv.federated_token_file(team_a)
    bench.kv.trust_federated(token_file, team_b)
    bench.kv.restrict(VAULT, [team_a, team_b])
    return team_a, team_b, token_file


def test_watch_takes_the_client_id_from_the_mapping(
    bench: Bench, teams: tuple[str, str, str]
) -> None:
    team_a, team_b, token_file = teams
    env = _workload(bench.kv, f"team-a={team_a},team-b={team_b}", token_file)
    started = bench.watch(**env)  # no AZURE_CLIENT_ID: the mapping gives each one
    assert "no watch records" in started.stderr
    for app, manifest in (("orders", WORKLOAD), ("apps_payments", WORKLOAD), ("search", SEARCH)):
        _render(bench, app, manifest, env)
    assert {token.client_id for token in bench.kv.tokens()} == {team_a, team_b}
    issued = len(bench.kv.tokens())
    bench.rotate("shared-db", SHARED_V2)
    bench.watch(**env)
    assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]
    assert {token.client_id for token in bench.kv.tokens()[issued:]} == {team_a, team_b}


def test_a_malformed_mapping_stops_watch_at_start(
    bench: Bench, teams: tuple[str, str, str]
) -> None:
    team_a, _, token_file = teams
    env = _workload(bench.kv, f"team-a:{team_a}", token_file)
    run = bench.avp(args=("watch", "--once"), env=bench.watch_env(**env))
    bench.logs.append(run.stderr)
    assert run.code == 2, run.stderr
    assert run.stdout == ""
    assert run.stderr.startswith("Error: AVP_AZURE_IDENTITIES: entry 1 ('team-a:")
    assert len(run.stderr.splitlines()) == 1
    assert bench.kv.token_requests() == 0 and bench.argocd.requests() == []
