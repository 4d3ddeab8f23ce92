"""Identity by AppProject (``AVP_AZURE_IDENTITIES``, issue 15 part 1) end to end: the installed
``avp-py generate`` with a workload identity credential against the Key Vault test server, whose
token endpoint issues tokens per client id (one service account token trusted by each team's
identity) and whose vaults let only their team's identity in (Azure RBAC)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.kvserver import KeyVaultServer

from .conftest import Runner, secret_free

pytestmark = pytest.mark.keyvault

TEAM_A_VALUE = "sentinel-team-a-5c0e"
TEAM_B_VALUE = "sentinel-team-b-91d4"
CACHE_KEY = "k" * 32


def _manifest(vault: str) -> str:
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:{vault}#db>\n"
    )


@pytest.fixture
def teams(kv: KeyVaultServer) -> dict[str, str]:
    """Two teams, each with a user-assigned identity trusting the sidecar's one service
    account token, and a vault only that identity may read."""
    team_a, team_b = str(uuid.uuid4()), str(uuid.uuid4())
    # The repo-server's one service account token, trusted by both identities.
    token_file = kv.federated_token_file(team_a)
    kv.trust_federated(token_file, team_b)
    kv.set_secret("kv-team-a", "db", TEAM_A_VALUE)
    kv.set_secret("kv-team-b", "db", TEAM_B_VALUE)
    kv.restrict("kv-team-a", [team_a])
    kv.restrict("kv-team-b", [team_b])
    kv.reset_counters()
    mapping = f"team-a={team_a},team-b-*={team_b}"
    return {"a": team_a, "b": team_b, "token_file": token_file, "mapping": mapping}


def _env(teams: dict[str, str], project: str, mapping: str | None = None) -> dict[str, str]:
    return {
        "AVP_AZURE_CREDENTIAL": "workload",
        "AVP_AZURE_IDENTITIES": teams["mapping"] if mapping is None else mapping,
        "AZURE_FEDERATED_TOKEN_FILE": teams["token_file"],
        "ARGOCD_APP_PROJECT_NAME": project,
    }


def test_each_project_reads_with_its_own_identity(
    kv: KeyVaultServer, avp: Runner, teams: dict[str, str]
) -> None:
    a = avp(_manifest("kv-team-a"), credential="workload", env=_env(teams, "team-a"))
    assert a.code == 0, a.stderr
    assert TEAM_A_VALUE in a.stdout
    b = avp(_manifest("kv-team-b"), credential="workload", env=_env(teams, "team-b-payments"))
    assert b.code == 0, b.stderr
    assert TEAM_B_VALUE in b.stdout
    assert {token.client_id for token in kv.tokens()} == {teams["a"], teams["b"]}


def test_a_team_cannot_read_another_teams_vault(
    kv: KeyVaultServer, avp: Runner, teams: dict[str, str]
) -> None:
    run = avp(_manifest("kv-team-b"), credential="workload", env=_env(teams, "team-a"))
    assert run.code == 5, run.stderr
    assert run.stdout == ""
    assert run.stderr.startswith("Error: ") and "kv-team-b" in run.stderr
    assert "access denied" in run.stderr.lower() or "403" in run.stderr
    assert secret_free(run.stderr, kv, TEAM_A_VALUE, TEAM_B_VALUE)


def test_no_identity_for_the_project_is_refused_before_any_request(
    kv: KeyVaultServer, avp: Runner, teams: dict[str, str]
) -> None:
    run = avp(_manifest("kv-team-a"), credential="workload", env=_env(teams, "team-c"))
    assert run.code == 2, run.stderr
    assert run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        "Error: AVP_AZURE_IDENTITIES maps no identity to the AppProject 'team-c'"
        " (ARGOCD_APP_PROJECT_NAME) and has no default (*=CLIENT_ID): add an entry for it;"
        " nothing was requested"
    )
    malformed = avp(
        _manifest("kv-team-a"),
        credential="workload",
        env=_env(teams, "team-a", mapping=f"team-a:{teams['a']}"),
    )
    assert malformed.code == 2 and malformed.stdout == ""
    assert malformed.stderr.startswith("Error: AVP_AZURE_IDENTITIES: entry 1")
    assert kv.connections() == 0 and kv.token_requests() == 0


def test_the_default_identity_and_an_unknown_client_id(
    kv: KeyVaultServer, avp: Runner, teams: dict[str, str]
) -> None:
    default = avp(
        _manifest("kv-team-a"),
        credential="workload",
        env=_env(teams, "anything", mapping=f"team-b={teams['b']},*={teams['a']}"),
    )
    assert default.code == 0, default.stderr
    unknown = str(uuid.uuid4())  # no such identity in the tenant
    run = avp(
        _manifest("kv-team-a"),
        credential="workload",
        env=_env(teams, "team-a", mapping=f"team-a={unknown}"),
    )
    assert run.code == 5, run.stderr
    assert run.stdout == ""
    assert "AADSTS700016" in run.stderr and unknown in run.stderr
    assert "AVP_AZURE_IDENTITIES" in run.stderr  # the hint says which setting chose it
    assert secret_free(run.stderr, kv, TEAM_A_VALUE, TEAM_B_VALUE)


def test_the_cache_never_serves_one_identitys_value_to_another(
    kv: KeyVaultServer, avp: Runner, teams: dict[str, str], tmp_path: Path
) -> None:
    """team-a's render caches kv-team-a#db; team-b's render of the same reference with the same
    cache must ask Key Vault itself (and be refused), never get team-a's cached value."""
    cache = {"AVP_CACHE_DIR": str(tmp_path / "cache"), "AVP_CACHE_KEY": CACHE_KEY}
    first = avp(
        _manifest("kv-team-a"), credential="workload", env={**_env(teams, "team-a"), **cache}
    )
    assert first.code == 0 and TEAM_A_VALUE in first.stdout, first.stderr
    again = avp(
        _manifest("kv-team-a"), credential="workload", env={**_env(teams, "team-a"), **cache}
    )
    assert again.code == 0 and TEAM_A_VALUE in again.stdout
    assert kv.counts("kv-team-a", "get") == 1  # the second render was served by the cache
    other = avp(
        _manifest("kv-team-a"),
        credential="workload",
        env={**_env(teams, "team-b-payments"), **cache},
    )
    assert other.code == 5, other.stderr
    assert other.stdout == "" and TEAM_A_VALUE not in other.stderr
    assert kv.counts("kv-team-a", "get") == 2


def test_check_uses_the_same_mapping(
    kv: KeyVaultServer, avp: Runner, teams: dict[str, str]
) -> None:
    """``avp-py check`` reads metadata with the project's identity: team-a's vault passes for
    team-a and is refused (exit 5) for team-b's project; --list needs no identity at all."""
    manifest = _manifest("kv-team-a")
    ok = avp(manifest, args=("check", "-"), credential="workload", env=_env(teams, "team-a"))
    assert ok.code == 0, ok.stderr
    assert ok.stdout.startswith("check passed")
    assert kv.counts("kv-team-a", "get") == 0  # metadata only
    env = _env(teams, "team-b-payments")
    refused = avp(manifest, args=("check", "-"), credential="workload", env=env)
    assert refused.code == 5, refused.stderr
    assert refused.stdout == "" and "kv-team-a" in refused.stderr
    unmapped = _env(teams, "team-z")
    listed = avp(manifest, args=("check", "--list", "-"), credential="workload", env=unmapped)
    assert listed.code == 0, listed.stderr
    assert listed.stdout.startswith("kv-team-a#db (latest)")
    assert secret_free(refused.stderr + listed.stdout, kv, TEAM_A_VALUE, TEAM_B_VALUE)
