"""A client id nobody has (issue 15, "an unknown client id answered by Entra ID with an error"):
for each credential kind, the installed ``avp-py generate`` against the Key Vault test server
prints one ``Error:`` line naming the setting that chose the client id (``AZURE_CLIENT_ID``, or
the ``AVP_AZURE_IDENTITIES`` entry), nothing on stdout, exit 5 (the backend failed), and no value
or credential anywhere. The token endpoint answers AADSTS700016 on every grant that takes a client
id (federated token, client secret, certificate assertion); the managed identity endpoint answers
as App Service does for an identity it does not hold."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.kvserver import KeyVaultServer
from tests.kvserver.certificates import make_chain

from .conftest import Run, Runner, secret_free

pytestmark = pytest.mark.keyvault

VALUE = "sentinel-unknown-client-7a1e"
SECRET = "sentinel-client-secret-c3d9"
MANIFEST = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: <path:myvault#db>}\n"
UNKNOWN = "0f0f0f0f-0000-4000-8000-00000000dead"
WHERE = "Error: could not get a token to read secret db in vault myvault: "


@pytest.fixture
def certificate(kv: KeyVaultServer, tmp_path: Path) -> tuple[str, str]:
    """A client certificate file (RSA key and certificate) and the app registration that has
    it; the same file is used with the unknown client id."""
    chain = make_chain(rsa_leaf=True)
    client_id = str(uuid.uuid4())
    kv.add_client_certificate(client_id, chain.leaf)
    path = tmp_path / "client.pem"
    key = chain.leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(key + chain.pem(chain.leaf).encode())
    return client_id, str(path)


def _assert_one_line(run: Run, kv: KeyVaultServer, problem: str, fix: str) -> None:
    assert run.code == 5, run.stderr
    assert run.stdout == ""
    assert run.stderr.splitlines() == [WHERE + problem + ": " + fix]
    assert secret_free(run.stderr, kv, VALUE, SECRET)


ENTRA = "Microsoft Entra ID has no application with client id {} in tenant {} (AADSTS700016)"
FIX = "check AZURE_CLIENT_ID (the identity's client id: az identity show --query clientId)"


def test_the_certificate_credential_gets_a_token(
    kv: KeyVaultServer, avp: Runner, certificate: tuple[str, str]
) -> None:
    """The certificate grant works, so that its refusal below is about the client id."""
    kv.set_secret("myvault", "db", VALUE)
    client_id, path = certificate
    env = {"AZURE_CLIENT_ID": client_id, "AZURE_CLIENT_SECRET": None}
    run = avp(MANIFEST, credential="secret", env={**env, "AZURE_CLIENT_CERTIFICATE_PATH": path})
    assert run.code == 0, run.stderr
    assert VALUE in run.stdout
    assert kv.token_requests("certificate") == 1


@pytest.mark.parametrize("grant", ["workload", "secret", "certificate"])
def test_entra_id_answers_aadsts700016_on_every_grant(
    kv: KeyVaultServer, avp: Runner, certificate: tuple[str, str], grant: str
) -> None:
    kv.set_secret("myvault", "db", VALUE)
    env: dict[str, str | None] = {"AZURE_CLIENT_ID": UNKNOWN}
    if grant == "workload":
        env["AVP_AZURE_CREDENTIAL"] = "workload"
    else:
        env["AVP_AZURE_CREDENTIAL"] = "environment"
        env["AZURE_CLIENT_SECRET"] = SECRET
    if grant == "certificate":
        env.update(AZURE_CLIENT_SECRET=None, AZURE_CLIENT_CERTIFICATE_PATH=certificate[1])
    run = avp(MANIFEST, credential="workload" if grant == "workload" else "secret", env=env)
    _assert_one_line(run, kv, ENTRA.format(UNKNOWN, kv.tenant_id), FIX)
    assert kv.token_requests("client_secret" if grant == "secret" else grant) >= 1
    assert kv.tokens() == []


@pytest.mark.parametrize("credential", ["managed", "default"])
def test_the_managed_identity_endpoint_holds_no_such_identity(
    kv: KeyVaultServer, avp: Runner, credential: str
) -> None:
    kv.set_secret("myvault", "db", VALUE)
    kv.hold_managed_identities([])
    env = {"AVP_AZURE_CREDENTIAL": credential, "AZURE_CLIENT_ID": UNKNOWN}
    run = avp(MANIFEST, env=env)
    problem = f"the managed identity endpoint holds no identity with client id {UNKNOWN}"
    _assert_one_line(run, kv, problem, FIX)
    assert kv.tokens() == []


def test_an_unknown_client_id_from_the_mapping_names_its_entry(
    kv: KeyVaultServer, avp: Runner
) -> None:
    kv.set_secret("myvault", "db", VALUE)
    mapping = f"team-b={uuid.uuid4()},team-a={UNKNOWN}"
    env = {
        "AVP_AZURE_CREDENTIAL": "workload",
        "AVP_AZURE_IDENTITIES": mapping,
        "AZURE_CLIENT_ID": None,
        "ARGOCD_APP_PROJECT_NAME": "team-a",
    }
    run = avp(MANIFEST, credential="workload", env=env)
    fix = (
        f"check the AVP_AZURE_IDENTITIES entry team-a={UNKNOWN} (chosen by the AppProject,"
        " ARGOCD_APP_PROJECT_NAME): the client id of the team's identity"
    )
    _assert_one_line(run, kv, ENTRA.format(UNKNOWN, kv.tenant_id), fix)
