"""The Key Vault test server, exercised through the real azure-keyvault-secrets SDK and real
azure-identity credentials over HTTPS with certificate verification on."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.identity import ManagedIdentityCredential, WorkloadIdentityCredential
from azure.keyvault.secrets import SecretClient

from tests.kvserver import KeyVaultServer, eventually

from .conftest import ClientFactory, EnvSetter

pytestmark = pytest.mark.keyvault

VAULT = "myvault"


def _error_code(err: HttpResponseError) -> tuple[str | None, str | None]:
    """(code, innererror code) from the Key Vault error body."""
    assert err.response is not None
    error = json.loads(err.response.text())["error"]
    return error.get("code"), (error.get("innererror") or {}).get("code")


# -- reading -----------------------------------------------------------------------------------


def test_get_latest_and_by_version(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    v1 = kv.set_secret(VAULT, "db-password", "s3cret", content_type="text/plain", tags={"a": "b"})
    v2 = kv.set_secret(VAULT, "db-password", "rotated")
    client = make_client()

    latest = client.get_secret("db-password")
    assert (latest.value, latest.properties.version) == ("rotated", v2)
    assert latest.id == f"https://{VAULT}.vault.azure.net/secrets/db-password/{v2}"
    assert latest.properties.enabled is True
    assert latest.properties.created_on is not None

    old = client.get_secret("db-password", v1)
    assert (old.value, old.properties.content_type, old.properties.tags) == (
        "s3cret",
        "text/plain",
        {"a": "b"},
    )
    assert len(v1) == 32 and all(c in "0123456789abcdef" for c in v1)


def test_names_are_case_insensitive(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "Db-Password", "s3cret")
    secret = make_client().get_secret("DB-PASSWORD")
    assert (secret.value, secret.name) == ("s3cret", "Db-Password")


def test_list_secrets_pages_without_values(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    names = [f"secret-{i}" for i in range(7)]
    for name in reversed(names):
        kv.set_secret(VAULT, name, "value-" + name)
    client = make_client()

    listed = [p.name for p in client.list_properties_of_secrets(max_page_size=3)]

    assert listed == names  # sorted by name, every page followed
    assert kv.counts(VAULT, "list") == 3  # 3 + 3 + 1


def test_list_versions_pages(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    versions = [kv.set_secret(VAULT, "rotated", f"v{i}") for i in range(5)]
    client = make_client()

    listed = [
        p.version for p in client.list_properties_of_secret_versions("rotated", max_page_size=2)
    ]

    assert sorted(str(v) for v in listed) == sorted(versions)
    assert kv.counts(VAULT, "list_versions") == 3
    assert list(client.list_properties_of_secret_versions("never-created")) == []


def test_wire_shapes(kv: KeyVaultServer, kv_env: EnvSetter) -> None:
    """Bodies and nextLink exactly as Key Vault sends them (checked with plain requests)."""
    version = kv.set_secret(VAULT, "a", "x", content_type="text/plain")
    kv.set_secret(VAULT, "b", "y")
    kv_env("managed")
    with requests.Session() as session:
        token = session.get(
            kv.identity_endpoint,
            params={"api-version": "2019-08-01", "resource": "https://vault.azure.net"},
            headers={"X-IDENTITY-HEADER": kv.identity_header},
        ).json()["access_token"]
        session.headers["Authorization"] = "Bearer " + token
        base = f"https://{VAULT}.vault.azure.net"
        bundle = session.get(f"{base}/secrets/a", params={"api-version": "7.4"}).json()
        page = session.get(
            f"{base}/secrets", params={"api-version": "7.4", "maxresults": "1"}
        ).json()

    assert bundle["id"] == f"{base}/secrets/a/{version}"
    assert set(bundle) == {"value", "id", "contentType", "attributes"}
    assert set(bundle["attributes"]) == {
        "enabled",
        "created",
        "updated",
        "recoveryLevel",
        "recoverableDays",
    }
    assert page["value"] == [
        {"id": f"{base}/secrets/a", "contentType": "text/plain", "attributes": bundle["attributes"]}
    ]
    assert page["nextLink"].startswith(f"{base}:443/secrets?api-version=7.4&$skiptoken=")
    assert page["nextLink"].endswith("&maxresults=1")


# -- writing -----------------------------------------------------------------------------------


def test_set_secret_rotates(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    first = kv.set_secret(VAULT, "api-key", "old")
    client = make_client()

    created = client.set_secret("api-key", "new", content_type="text/plain")

    assert created.properties.version != first
    assert kv.versions(VAULT, "api-key") == [first, created.properties.version]
    assert client.get_secret("api-key").value == "new"
    assert kv.counts(VAULT, "set") == 1


def test_update_disables_version(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "flag", "on")
    client = make_client()

    props = client.update_secret_properties("flag", enabled=False, tags={"k": "v"})

    assert props.enabled is False and props.tags == {"k": "v"}
    assert kv.get_secret(VAULT, "flag").enabled is False
    assert kv.counts(VAULT, "update") == 1


# -- errors ------------------------------------------------------------------------------------


def test_disabled_latest_is_forbidden(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    v1 = kv.set_secret(VAULT, "db-password", "s3cret")
    v2 = kv.set_secret(VAULT, "db-password", "rotated")
    kv.set_enabled(VAULT, "db-password", False, version=v2)
    client = make_client()

    with pytest.raises(HttpResponseError) as info:
        client.get_secret("db-password")

    assert info.value.status_code == 403
    assert _error_code(info.value) == ("Forbidden", "SecretDisabled")
    assert "Operation get is not allowed on a disabled secret." in str(info.value)
    assert client.get_secret("db-password", v1).value == "s3cret"


def test_missing_secret_not_found(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.add_vault(VAULT)
    client = make_client()

    with pytest.raises(ResourceNotFoundError) as info:
        client.get_secret("nope")

    assert _error_code(info.value) == ("SecretNotFound", None)
    assert "A secret with (name/id) nope was not found in this key vault." in str(info.value)


def test_invalid_name_bad_parameter(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.add_vault(VAULT)
    with pytest.raises(HttpResponseError) as info:
        make_client().get_secret("bad_name")
    assert info.value.status_code == 400
    assert _error_code(info.value) == ("BadParameter", None)


def test_access_denied_names_the_client(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "db-password", "s3cret")
    kv.deny(VAULT, client_id=kv.managed_client_id, permissions=["get"])
    client = make_client()

    with pytest.raises(HttpResponseError) as info:
        client.get_secret("db-password")

    assert info.value.status_code == 403
    assert _error_code(info.value) == ("Forbidden", "AccessDenied")
    assert f"appid={kv.managed_client_id};" in str(info.value)
    assert "does not have secrets get permission" in str(info.value)
    assert [p.name for p in client.list_properties_of_secrets()] == ["db-password"]


def test_unknown_vault_is_unreachable(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    with pytest.raises(ServiceRequestError):
        make_client("no-such-vault", retry_total=0).get_secret("x")


# -- faults and retries ------------------------------------------------------------------------


def test_throttled_with_retry_after_then_success(
    kv: KeyVaultServer, make_client: ClientFactory, slept: list[float]
) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.faults.throttle_after(
        1, count=1, retry_after=0.3
    )  # the challenge passes, the GET is throttled
    client = make_client()

    assert client.get_secret("s").value == "v"

    assert slept == [0.3]  # the SDK waited what Retry-After asked, once
    assert kv.status_count(429, VAULT) == 1
    assert kv.counts(VAULT, "get") == 2


def test_throttled_without_retry_after(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.vault_faults(VAULT).throttle_after(1, count=2, retry_after=None)
    client = make_client(retry_total=3)

    assert client.get_secret("s").value == "v"
    assert kv.status_count(429) == 2


def test_persistent_throttling_surfaces(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.faults.throttle_after(1, count=None, retry_after=None)
    with pytest.raises(HttpResponseError) as info:
        make_client(retry_total=1).get_secret("s")
    assert info.value.status_code == 429
    assert _error_code(info.value) == ("Throttled", None)


def test_rate_limit_window(
    kv: KeyVaultServer, make_client: ClientFactory, slept: list[float]
) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.faults.rate_limit(4, window=1.0)
    client = make_client(retry_total=3)

    for _ in range(5):  # 1 challenge + 5 GETs: the 5th request waits for the window
        assert client.get_secret("s").value == "v"

    assert kv.status_count(429) == 1
    assert slept == [1.0]  # the window's rest, rounded up to whole seconds as Key Vault does
    assert kv.counts(VAULT, "get") == 5 + 1  # the throttled GET was sent again


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(
    kv: KeyVaultServer, make_client: ClientFactory, status: int
) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.faults.fail_next(2, status=status)
    assert make_client(retry_total=3).get_secret("s").value == "v"
    assert kv.status_count(status) == 2


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
def test_dropped_connection_is_retried(
    kv: KeyVaultServer, make_client: ClientFactory, reset: bool
) -> None:
    kv.set_secret(VAULT, "s", "v")
    client = make_client()
    assert client.get_secret("s").value == "v"  # warm: challenge, token, keep-alive connection
    kv.vault_faults(VAULT).drop_next(1, reset=reset)

    assert client.get_secret("s").value == "v"

    assert kv.stats()["dropped"] == 1
    assert kv.counts(VAULT, "get") == 3


def test_latency_applies_concurrently(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    client = make_client()
    client.get_secret("s")
    kv.faults.latency = 1.0
    results: list[str | None] = []

    def fetch() -> None:
        results.append(client.get_secret("s").value)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results == ["v"] * 6
    # Served one after another, no two GETs would overlap at the server; concurrently, all six
    # wait out their second together.
    assert kv.peak_overlap(VAULT, "get") == 6


# -- authentication ------------------------------------------------------------------------------


def test_one_challenge_per_client(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    client = make_client()
    for _ in range(4):
        client.get_secret("s")
    list(client.list_properties_of_secrets())

    assert kv.counts(VAULT, "challenge") == 1
    assert kv.counts(VAULT, "get") == 4
    assert kv.token_requests() == 1


def test_tokens_must_be_issued_here_for_the_vault(kv: KeyVaultServer, kv_env: EnvSetter) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv_env("managed")
    url = f"https://{VAULT}.vault.azure.net/secrets/s?api-version=7.4"

    def token_for(resource: str) -> str:
        with requests.get(
            kv.identity_endpoint,
            params={"api-version": "2019-08-01", "resource": resource},
            headers={"X-IDENTITY-HEADER": kv.identity_header},
            timeout=5,
        ) as response:
            return str(response.json()["access_token"])

    def status_with(token: str) -> tuple[int, str]:
        with requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5) as r:
            return r.status_code, r.text

    vault_token = token_for("https://vault.azure.net")
    forged = vault_token[:-4] + "AAAA"
    status, body = status_with(forged)
    assert status == 401 and "Invalid issuer" in body
    status, body = status_with(token_for("https://storage.azure.com"))
    assert status == 401 and "Invalid audience" in body
    assert status_with(vault_token)[0] == 200


def test_managed_identity_obtains_token(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    make_client().get_secret("s")

    (token,) = kv.tokens()
    assert (token.kind, token.client_id, token.resource) == (
        "managed",
        kv.managed_client_id,
        "https://vault.azure.net",
    )
    assert kv.token_requests("managed") == 1


def test_user_assigned_managed_identity(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    make_client(client_id="11111111-2222-3333-4444-555555555555").get_secret("s")
    assert [t.client_id for t in kv.tokens()] == ["11111111-2222-3333-4444-555555555555"]


def test_managed_identity_header_is_checked(
    kv: KeyVaultServer, kv_env: EnvSetter, monkeypatch: pytest.MonkeyPatch
) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv_env("managed")
    monkeypatch.setenv("IDENTITY_HEADER", "wrong")
    with (
        ManagedIdentityCredential() as cred,
        SecretClient(kv.vault_url(VAULT), cred, retry_total=0) as client,
        pytest.raises(ClientAuthenticationError),
    ):
        client.get_secret("s")
    assert kv.token_requests("managed") >= 1
    assert kv.tokens() == []


def test_workload_identity_obtains_token(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    assert make_client(credential="workload").get_secret("s").value == "v"

    (token,) = kv.tokens()
    assert (token.kind, token.client_id) == ("workload", kv.workload_client_id)
    assert kv.token_requests("workload") == 1
    assert kv.stats().get("aad/openid_configuration", 0) == 0  # no discovery for this flow


def test_workload_identity_rejects_foreign_assertion(
    kv: KeyVaultServer, kv_env: EnvSetter, tmp_path: Path
) -> None:
    kv.set_secret(VAULT, "s", "v")
    env = kv_env("workload")
    forged = tmp_path / "token"
    forged.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    cred = WorkloadIdentityCredential(
        tenant_id=env["AZURE_TENANT_ID"],
        client_id=env["AZURE_CLIENT_ID"],
        token_file_path=str(forged),
    )
    with (
        cred,
        SecretClient(kv.vault_url(VAULT), cred, retry_total=0) as client,
        pytest.raises(ClientAuthenticationError, match="AADSTS700213"),
    ):
        client.get_secret("s")
    assert kv.token_requests("workload") == 1
    assert kv.tokens() == []


def test_one_service_account_token_several_identities_rbac_per_vault(
    kv: KeyVaultServer, kv_env: EnvSetter, tmp_path: Path
) -> None:
    """Issue 15 part 1: one federated token exchanged for each identity that trusts it; a vault
    with RBAC answers an identity without a role with Key Vault's 403 (ForbiddenByRbac); an
    identity the tenant does not know is Entra ID's AADSTS700016."""
    env = kv_env("workload")
    other = "0f0f0f0f-0000-4000-8000-000000000001"
    kv.trust_federated(env["AZURE_FEDERATED_TOKEN_FILE"], other)
    kv.set_secret(VAULT, "s", "v")
    kv.restrict(VAULT, [other])

    def client(client_id: str) -> tuple[WorkloadIdentityCredential, SecretClient]:
        cred = WorkloadIdentityCredential(
            tenant_id=env["AZURE_TENANT_ID"],
            client_id=client_id,
            token_file_path=env["AZURE_FEDERATED_TOKEN_FILE"],
        )
        return cred, SecretClient(kv.vault_url(VAULT), cred, retry_total=0)

    cred, allowed = client(other)
    with cred, allowed:
        assert allowed.get_secret("s").value == "v"
    cred, refused = client(env["AZURE_CLIENT_ID"])
    with cred, refused, pytest.raises(HttpResponseError) as caught:
        refused.get_secret("s")
    assert caught.value.status_code == 403
    body = json.loads(caught.value.response.text())
    assert body["error"]["innererror"]["code"] == "ForbiddenByRbac"
    assert body["error"]["message"].startswith(
        "Caller is not authorized to perform action on resource."
    )
    assert f"appid={env['AZURE_CLIENT_ID']};" in body["error"]["message"]
    assert "Microsoft.KeyVault/vaults/secrets/getSecret/action" in body["error"]["message"]
    assert {token.client_id for token in kv.tokens()} == {other, env["AZURE_CLIENT_ID"]}
    unknown = "0f0f0f0f-0000-4000-8000-000000000002"
    cred, nobody = client(unknown)
    with cred, nobody, pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        nobody.get_secret("s")


def test_client_secret_credential(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    assert make_client(credential="secret").get_secret("s").value == "v"
    (token,) = kv.tokens()
    assert (token.kind, token.client_id) == ("client_secret", kv.secret_client_id)
    assert kv.stats()["aad/openid_configuration"] == 1  # MSAL's tenant discovery


def test_expired_tokens_are_rejected(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.faults.token_ttl = -60
    with pytest.raises(ClientAuthenticationError):
        make_client().get_secret("s")
    assert kv.status_count(401) >= 2
    assert all(t.expires_on < time.time() for t in kv.tokens())


def test_server_rejecting_tokens_as_expired(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    client = make_client()
    client.get_secret("s")
    kv.faults.reject_tokens_as_expired = True
    with pytest.raises(ClientAuthenticationError, match="expired"):
        client.get_secret("s")
    kv.faults.reject_tokens_as_expired = False
    assert client.get_secret("s").value == "v"


@pytest.mark.parametrize("kind", ["managed", "workload"])
def test_token_endpoint_down(kv: KeyVaultServer, kv_env: EnvSetter, kind: str) -> None:
    kv.set_secret(VAULT, "s", "v")
    env = kv_env(kind)
    kv.faults.token_endpoint_down = True
    cred: ManagedIdentityCredential | WorkloadIdentityCredential
    if kind == "managed":
        cred = ManagedIdentityCredential(retry_total=0)
    else:
        cred = WorkloadIdentityCredential(
            token_file_path=env["AZURE_FEDERATED_TOKEN_FILE"], retry_total=0
        )
    with (
        cred,
        SecretClient(kv.vault_url(VAULT), cred, retry_total=0) as client,
        pytest.raises(ClientAuthenticationError),
    ):
        client.get_secret("s")
    assert kv.token_requests(kind) >= 1
    assert kv.tokens() == []


# -- TLS and addressing ---------------------------------------------------------------------------


def test_tls_verification_is_on(
    kv: KeyVaultServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kv.set_secret(VAULT, "s", "v")
    client = make_client(retry_total=0)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("SSL_CERT_FILE")

    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get_secret("s")
    assert eventually(lambda: kv.stats().get("tls_failed", 0) >= 1)


def test_wrong_certificate_is_refused(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret(VAULT, "s", "v")
    kv.faults.wrong_certificate(f"{VAULT}.vault.azure.net")
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        make_client(retry_total=0).get_secret("s")
    kv.faults.wrong_certificate(f"{VAULT}.vault.azure.net", None)
    assert make_client(retry_total=0).get_secret("s").value == "v"


@pytest.mark.parametrize(
    ("suffix", "authority"),
    [
        ("vault.azure.cn", "login.chinacloudapi.cn"),
        ("vault.usgovcloudapi.net", "login.microsoftonline.us"),
    ],
)
def test_sovereign_suffix(
    kv: KeyVaultServer, make_client: ClientFactory, suffix: str, authority: str
) -> None:
    kv.set_secret("govvault", "s", "v")
    client = make_client("govvault", url=kv.vault_url("govvault", suffix))

    assert client.get_secret("s").value == "v"

    (token,) = kv.tokens()
    assert token.resource == f"https://{suffix}"
    with requests.get(f"https://govvault.{suffix}/secrets/s?api-version=7.4", timeout=5) as raw:
        challenge = raw.headers["WWW-Authenticate"]
    assert challenge == (
        f'Bearer authorization="https://{authority}/{kv.tenant_id}", resource="https://{suffix}"'
    )


def test_direct_https_port(kv: KeyVaultServer, make_client: ClientFactory) -> None:
    kv.set_secret("direct", "s", "v")
    client = make_client(url=kv.https_url, verify_challenge_resource=False)
    assert client.get_secret("s").value == "v"
    assert kv.connections("https") >= 1


def test_cli_serves_seeded_vault(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("vaults:\n  clivault:\n    s: [old, new]\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kvserver", "--seed", str(seed), "--latency-ms", "1"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        env = json.loads(proc.stdout.readline())
        token = requests.get(
            env["IDENTITY_ENDPOINT"],
            params={"api-version": "2019-08-01", "resource": "https://vault.azure.net"},
            headers={"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]},
            timeout=5,
        ).json()["access_token"]
        with requests.get(
            "https://clivault.vault.azure.net/secrets/s?api-version=7.4",
            headers={"Authorization": f"Bearer {token}"},
            proxies={"https": env["HTTPS_PROXY"]},
            verify=env["REQUESTS_CA_BUNDLE"],
            timeout=5,
        ) as response:
            assert response.json()["value"] == "new"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        assert proc.stdout is not None
        proc.stdout.close()
