"""Warm Azure state: who may use a warm token, when, and what a render reports back.

The token and challenge logic is pure; the end-to-end proof (no token request, no challenge
round trip) is tests/server/test_warm_state.py, against the Key Vault test server.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.keyvault.secrets._shared import http_challenge_cache

from avp_py.backends.azurekeyvault import pipeline, warm
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.server.warm import Warmth

SCOPE = "https://vault.azure.net/.default"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'


class Inner:
    """The render's own credential: counts what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], Any]] = []

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls.append((scopes, options))
        return AccessTokenInfo("own-token", int(time.time()) + 3600)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append((scopes, kwargs))
        return AccessToken("own-token", int(time.time()) + 3600)


@pytest.fixture(autouse=True)
def _no_leftover_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "_STATE", None)
    monkeypatch.setattr(pipeline, "CHALLENGE_OBSERVER", None)


def state(expires_in: float = 3600, refresh_in: float | None = None) -> warm.WarmAzure:
    now = time.time()
    token = warm.WarmToken(
        SCOPE,
        TENANT,
        "warm-token",
        int(now + expires_in),
        int(now + refresh_in) if refresh_in is not None else None,
    )
    return warm.WarmAzure(identity="id", tokens={(SCOPE, TENANT): token})


def cae(tenant: str = TENANT) -> dict[str, Any]:
    return {"enable_cae": True, "tenant_id": tenant}


def test_the_warm_token_is_handed_out_once_per_client() -> None:
    inner, shared = Inner(), state()
    credential = warm.WarmCredential(inner, shared)  # type: ignore[arg-type]
    assert credential.get_token_info(SCOPE, options=cae()).token == "warm-token"
    # A second request from the same client means the token was refused (or expired early):
    assert credential.get_token_info(SCOPE, options=cae()).token == "own-token"
    other_client = warm.WarmCredential(inner, shared)  # type: ignore[arg-type]
    assert other_client.get_token_info(SCOPE, options=cae()).token == "warm-token"
    assert shared.tokens_handed_out == 2
    assert shared.wanted == {(SCOPE, TENANT)}


@pytest.mark.parametrize(
    "options",
    [
        {"enable_cae": True, "tenant_id": "another-tenant"},
        {"enable_cae": True, "tenant_id": TENANT, "claims": '{"access_token": {}}'},
        {"tenant_id": TENANT},  # without CAE: not what the server fetched
    ],
)
def test_other_requests_go_to_the_renders_credential(options: dict[str, Any]) -> None:
    inner = Inner()
    credential = warm.WarmCredential(inner, state())  # type: ignore[arg-type]
    assert credential.get_token_info(SCOPE, options=options).token == "own-token"
    assert len(inner.calls) == 1


def test_get_token_is_served_too() -> None:
    inner = Inner()
    credential = warm.WarmCredential(inner, state())  # type: ignore[arg-type]
    assert credential.get_token(SCOPE, tenant_id=TENANT, enable_cae=True).token == "warm-token"
    assert credential.get_token(SCOPE, tenant_id=TENANT, enable_cae=True).token == "own-token"


@pytest.mark.parametrize(
    ("expires_in", "refresh_in", "usable", "due"),
    [
        (3600, None, True, False),
        (500, None, True, True),  # refreshed by the server, still good for a render
        (300, None, False, True),  # the SDK would ask for a new one mid-render
        (3600, 30, False, True),
        (3600, 100, True, True),
    ],
)
def test_when_a_token_is_usable_and_due(
    expires_in: float, refresh_in: float | None, usable: bool, due: bool
) -> None:
    token = state(expires_in, refresh_in).tokens[(SCOPE, TENANT)]
    assert token.usable(time.time()) is usable
    assert token.due(time.time()) is due
    assert "warm-token" not in repr(token)


def test_an_expiring_token_is_not_handed_out() -> None:
    inner = Inner()
    credential = warm.WarmCredential(inner, state(expires_in=200))  # type: ignore[arg-type]
    assert credential.get_token_info(SCOPE, options=cae()).token == "own-token"


def test_the_identity_key_covers_settings_and_identity_variables() -> None:
    options = AzureOptions(
        credential="workload", tenant_id="t", client_id="c", federated_token_file="/f"
    )
    env = {"AZURE_CLIENT_ID": "c", "IDENTITY_ENDPOINT": "http://x", "PATH": "/bin", "HOME": "/tmp"}
    key = warm.identity_key(options, env)
    assert key is not None and key == warm.identity_key(options, dict(env))
    assert warm.identity_key(options, {**env, "HOME": "/root"}) == key  # not read by workload
    assert warm.identity_key(options, {**env, "IDENTITY_ENDPOINT": "http://y"}) != key
    assert warm.identity_key(options, {**env, "MSI_SECRET": "s"}) != key
    assert (
        warm.identity_key(
            AzureOptions(
                credential="workload", tenant_id="t", client_id="other", federated_token_file="/f"
            ),
            env,
        )
        != key
    )
    with_secret = AzureOptions(
        credential="environment", tenant_id="t", client_id="c", client_secret="a"
    )
    other_secret = AzureOptions(
        credential="environment", tenant_id="t", client_id="c", client_secret="b"
    )
    assert warm.identity_key(with_secret, env) != warm.identity_key(other_secret, env)
    default = AzureOptions(credential="default")
    assert warm.identity_key(default, env) != warm.identity_key(default, {**env, "HOME": "/root"})
    assert warm.identity_key(AzureOptions(credential="cli"), env) is None
    assert len(str(key)) == 64  # a digest: the settings themselves are never kept


def test_a_render_with_other_settings_keeps_its_own_credential() -> None:
    options = AzureOptions(credential="managed")
    inner = Inner()
    shared = state()
    shared.identity = warm.identity_key(options, {"IDENTITY_ENDPOINT": "http://server"})
    shared.environ = {"IDENTITY_ENDPOINT": "http://render"}
    warm.install(shared)
    assert warm.client_credential(inner, options) is inner  # type: ignore[arg-type]
    shared.environ = {"IDENTITY_ENDPOINT": "http://server"}
    assert isinstance(warm.client_credential(inner, options), warm.WarmCredential)  # type: ignore[arg-type]


def test_without_a_server_nothing_is_wrapped() -> None:
    inner = Inner()
    assert warm.client_credential(inner, AzureOptions()) is inner  # type: ignore[arg-type]


def test_install_seeds_the_sdks_challenge_cache_and_watches_new_ones() -> None:
    shared = state()
    shared.challenges = {"https://kv-one.vault.azure.net/": CHALLENGE}
    warm.install(shared)
    cached = http_challenge_cache.get_challenge_for_url("https://kv-one.vault.azure.net/secrets/x")
    assert cached is not None and cached.tenant_id == TENANT
    assert pipeline.CHALLENGE_OBSERVER is not None
    pipeline.CHALLENGE_OBSERVER(
        "https://kv-two.vault.azure.net/secrets/a?api-version=7.5", CHALLENGE
    )
    pipeline.CHALLENGE_OBSERVER(
        "https://kv-three.vault.azure.net/secrets/a", CHALLENGE + ', claims="e30="'
    )
    pipeline.CHALLENGE_OBSERVER("https://kv-four.vault.azure.net/secrets/a", "Basic realm=x")
    assert shared.learned()["challenges"] == [["https://kv-two.vault.azure.net/", CHALLENGE]]


def test_the_server_merges_only_well_formed_reports() -> None:
    warmth = Warmth(AzureOptions(credential="managed"), "id")
    warmth.learn(
        {
            "challenges": [["https://a.vault.azure.net/", CHALLENGE], ["x"], [1, 2]],
            "wanted": [[SCOPE, TENANT], [SCOPE], "junk"],
        }
    )
    warmth.learn("not a report")
    assert warmth.state.challenges == {"https://a.vault.azure.net/": CHALLENGE}
    assert warmth.state.wanted == {(SCOPE, TENANT)}
    assert warmth.due(time.monotonic()) == (SCOPE, TENANT)


def test_without_an_identity_no_token_is_wanted() -> None:
    warmth = Warmth(None, None)
    warmth.learn({"wanted": [[SCOPE, TENANT]]})
    assert warmth.state.wanted == set()
    assert warmth.due(time.monotonic()) is None


@pytest.mark.parametrize(
    ("env", "note"),
    [
        ({"AVP_TYPE": "file"}, "warm tokens off: AVP_TYPE is file"),
        (
            {"AVP_TYPE": "azurekeyvault", "AVP_AZURE_CREDENTIAL": "cli"},
            "warm tokens off: AVP_AZURE_CREDENTIAL=cli",
        ),
        (
            {"AVP_TYPE": "azurekeyvault", "AVP_AZURE_CREDENTIAL": "nope"},
            "warm tokens off: the server's settings:",
        ),
        ({}, "warm tokens off: the server's settings:"),
        (
            {"AVP_TYPE": "azurekeyvault", "AVP_AZURE_CREDENTIAL": "managed"},
            "warm tokens on: AVP_AZURE_CREDENTIAL=managed",
        ),
    ],
)
def test_the_servers_own_settings_decide_about_tokens(env: dict[str, str], note: str) -> None:
    warmth, said = Warmth.from_environ(env)
    assert said.startswith(note)
    assert (warmth.state.identity is not None) is note.startswith("warm tokens on")
