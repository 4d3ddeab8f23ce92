"""``avp-py check`` with the Azure backend, through the real SDK against the Key Vault test
server: secrets are described from their versions' metadata (no value is read unless listing is
forbidden or ambiguous), and a backend failure is exit 5 without values."""

from __future__ import annotations

import itertools
import json
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.keyvault.secrets import SecretClient
from click.testing import CliRunner

from avp_py.backends import azurekeyvault
from avp_py.backends.azurekeyvault import metadata, sdk
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.base import BackendContext, SecretState
from avp_py.check.run import check
from avp_py.cli.app import cli
from avp_py.errors import BackendAuthError
from avp_py.model import MissingReason, SecretRef, SecretValue
from avp_py.render import start_deadline
from avp_py.settings import Settings, load_settings
from avp_py.sources import read_file
from tests.conformance.check import spec
from tests.kvserver import KeyVaultServer
from tests.kvserver import store as kv_store

pytestmark = pytest.mark.keyvault

VAULT = "kv-meta"
OPTIONS = AzureOptions(credential="managed")
DISABLED = MissingReason.DISABLED


@pytest.fixture
def managed_env(kv: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in kv.client_env("managed").items():
        monkeypatch.setenv(name, value)
    kv.reset_counters()
    return kv.client_env("managed")


@pytest.fixture
def client(kv: KeyVaultServer, managed_env: dict[str, str]) -> Iterator[SecretClient]:
    deadline = start_deadline(20)
    credential = sdk.build_credential(OPTIONS, deadline)
    with sdk.build_client(kv.vault_url(VAULT), credential, deadline, 2) as built:
        yield built
    credential.close()  # type: ignore[attr-defined]


def _versions(kv: KeyVaultServer, name: str, *enabled: bool, step: int = 1) -> list[str]:
    """Versions created ``step`` seconds apart (the store's clock is faked), oldest first."""
    clock = itertools.count(1_700_000_000, step)
    fake_time = types.SimpleNamespace(time=lambda: next(clock))
    original = kv_store.time
    kv_store.time = fake_time  # type: ignore[assignment]
    try:
        versions = [kv.set_secret(VAULT, name, f"SENTINEL-{name}-{i}") for i in range(len(enabled))]
    finally:
        kv_store.time = original
    for version, on in zip(versions, enabled, strict=True):
        if not on:
            kv.set_enabled(VAULT, name, False, version=version)
    return versions


def _state(client: SecretClient, name: str, version: str = "") -> SecretState:
    return metadata.fetch_state(
        client, SecretRef(VAULT, name, version), start_deadline(20), OPTIONS
    )


def test_states_from_listing_without_reading_values(
    kv: KeyVaultServer, client: SecretClient
) -> None:
    old, new = _versions(kv, "rotated-off", True, False)
    off, on = _versions(kv, "rotated-on", False, True)
    kv.reset_counters()
    assert _state(client, "rotated-off") == SecretState(True, False, new, DISABLED, managed=False)
    assert _state(client, "rotated-off", old) == SecretState(True, True, old, managed=False)
    assert _state(client, "rotated-off", old.upper()) == SecretState(True, True, old, managed=False)
    assert _state(client, "rotated-on") == SecretState(True, True, on, managed=False)
    assert _state(client, "rotated-on", off) == SecretState(
        True, False, off, DISABLED, managed=False
    )
    missing_version = "0123456789abcdef0123456789abcdef"
    assert _state(client, "rotated-on", missing_version) == SecretState(
        False, reason=MissingReason.VERSION_NOT_FOUND
    )
    assert _state(client, "never-created") == SecretState(False, reason=MissingReason.NOT_FOUND)
    assert kv.counts(VAULT, "get") == 0
    assert kv.counts(VAULT, "list_versions") == 7


def test_versions_created_in_the_same_second(kv: KeyVaultServer, client: SecretClient) -> None:
    _versions(kv, "same-second", True, False, step=0)
    _versions(kv, "same-second-on", True, True, step=0)
    kv.reset_counters()
    # Enabled states agree: the answer is known without knowing which version is the latest.
    assert _state(client, "same-second-on") == SecretState(True, True, None, managed=False)
    assert kv.counts(VAULT, "get") == 0
    # They disagree: Key Vault itself is asked (the value is dropped).
    assert _state(client, "same-second") == SecretState(True, False, None, DISABLED)
    assert kv.counts(VAULT, "get") == 1


def test_listing_forbidden_falls_back_to_fetching(kv: KeyVaultServer, client: SecretClient) -> None:
    (version,) = _versions(kv, "get-only", True)
    kv.deny(VAULT, permissions=["list"])
    try:
        kv.reset_counters()
        assert _state(client, "get-only") == SecretState(True, True, version)
        assert _state(client, "not-there") == SecretState(False, reason=MissingReason.NOT_FOUND)
        assert kv.counts(VAULT, "get") == 2
        kv.deny(VAULT, permissions=["get"])
        with pytest.raises(BackendAuthError) as caught:
            _state(client, "get-only")
        assert "SENTINEL" not in str(caught.value)
    finally:
        kv.allow_all(VAULT)


class StatesOnlyAzure:
    """The real Azure backend, except that ``fetch`` fails the test: the check must ask
    for states (``fetch_state``) only."""

    def __init__(self, context: BackendContext) -> None:
        self.inner = azurekeyvault.create(context)

    def fetch_state(self, ref: SecretRef) -> SecretState:
        return self.inner.fetch_state(ref)

    def fetch(self, ref: SecretRef) -> SecretValue:
        raise AssertionError("the check fetched a value although fetch_state exists")

    def validate(self, ref: SecretRef) -> str | None:
        return self.inner.validate(ref)

    def close(self) -> None:
        self.inner.close()


def test_the_whole_catalogue_reads_no_value(
    kv: KeyVaultServer, managed_env: dict[str, str]
) -> None:
    spec.load_vault(kv)
    catalogue = spec.catalogue()
    environ = {
        "AVP_TYPE": "azurekeyvault",
        "AVP_AZURE_CREDENTIAL": "managed",
        "AVP_SECRET_NAME_PATTERN": catalogue["pattern"],
        "ARGOCD_APP_NAME": catalogue["app"],
        **managed_env,
    }
    settings: Settings = load_settings(environ)

    def build(settings: Settings, context: BackendContext) -> StatesOnlyAzure:
        return StatesOnlyAzure(context)

    for case in catalogue["cases"]:
        source = read_file(str(spec.CATALOGUE / case["file"]), 1 << 20)
        report = check([source], settings, start_deadline(20), build_backend=build)
        got = {
            (f.severity.value, f.code.value, f.site.document, f.site.object)
            for f in report.findings
        }
        assert got == {tuple(finding) for finding in case["findings"]}, case["file"]
    assert kv.counts(catalogue["vault"], "get") == 0
    assert kv.counts(catalogue["vault"], "list_versions") > 0


def test_backend_errors_exit_5_without_values(kv: KeyVaultServer) -> None:
    spec.load_vault(kv)
    vault = spec.catalogue()["vault"]
    broken = spec.CATALOGUE / "broken" / "placeholder-secret-not-created-yet.yaml"
    kv.deny(vault)
    result = CliRunner().invoke(cli, ["check", str(broken)], env=spec.azure_env(kv))
    assert result.exit_code == 5, result.output
    assert result.stdout == ""
    assert "access denied" in result.stderr
    for value in spec.sentinels():
        assert value not in result.stderr


def test_list_sends_no_request_and_builds_no_credential(kv: KeyVaultServer) -> None:
    """``check --list`` with the Azure backend selected and the test server reachable: not one
    connection (no token, no challenge, no listing). An incomplete workload credential, which
    building the backend would refuse (exit 2), shows that no backend is built either."""
    spec.load_vault(kv)
    catalogue = spec.catalogue()
    broken = str(spec.CATALOGUE / "broken")
    env = spec.azure_env(kv)
    kv.reset_counters()
    for extra in ({}, {"AVP_AZURE_CREDENTIAL": "workload", "AZURE_CLIENT_ID": None}):
        result = CliRunner().invoke(cli, ["check", "--list", broken], env={**env, **extra})
        assert result.exit_code == 0, result.output
        assert f"{catalogue['vault']}#orders-api-featureFlags (latest)" in result.stdout
    assert kv.connections() == 0
    assert kv.token_requests() == 0
    assert kv.counts(catalogue["vault"], "list_versions") == 0
    refused = CliRunner().invoke(
        cli, ["check", broken], env={**env, "AVP_AZURE_CREDENTIAL": "workload"}
    )
    assert refused.exit_code == 2, refused.output  # the same settings, when a backend is built


def test_states_carry_the_validity_window_and_certificates(
    kv: KeyVaultServer, client: SecretClient
) -> None:
    (version,) = _versions(kv, "windowed", True)
    kv.set_validity(VAULT, "windowed", not_before=1_600_000_000, expires=1_900_000_000)
    certificate = kv.import_certificate(VAULT, "a-cert", "SENTINEL-pem", "application/x-pem-file")
    kv.reset_counters()
    assert _state(client, "windowed") == SecretState(
        True, True, version, None, 1_600_000_000.0, 1_900_000_000.0, False
    )
    assert _state(client, "a-cert") == SecretState(True, True, certificate, managed=True)
    assert kv.counts(VAULT, "get") == 0


def test_names_are_listed_from_metadata(kv: KeyVaultServer, managed_env: dict[str, str]) -> None:
    for name in ("team-a-one", "team-a-two", "team-b-one"):
        kv.set_secret(VAULT, name, f"SENTINEL-{name}")
    context = BackendContext({"AVP_AZURE_CREDENTIAL": "managed"}, start_deadline(20), 2)
    backend = azurekeyvault.create(context)
    try:
        kv.reset_counters()
        names = backend.list_names(SecretRef(VAULT, "anything"))
        assert sorted(names) == ["team-a-one", "team-a-two", "team-b-one"]
        assert kv.counts(VAULT, "list") >= 1 and kv.counts(VAULT, "get") == 0
        kv.deny(VAULT, permissions=["list"])
        assert backend.list_names(SecretRef(VAULT, "anything")) == []  # no names, no failure
    finally:
        kv.allow_all(VAULT)
        backend.close()


def test_did_you_mean_respects_the_app_prefix_rule(
    kv: KeyVaultServer, managed_env: dict[str, str], tmp_path: Path
) -> None:
    """The vault holds team-a's and team-b's secrets; team-a's typo is answered with team-a's
    name only, although team-b's is as close: the pattern would refuse it anyway, and naming
    it would tell team-a what team-b keeps."""
    kv.set_secret(VAULT, "team-a-dbPassword", "SENTINEL-a")
    kv.set_secret(VAULT, "team-b-dbPasword", "SENTINEL-b")
    manifest = tmp_path / "secret.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
        f"  PASSWORD: <path:{VAULT}#team-a-dbPasword>\n"
    )
    env = spec.clean_env(
        AVP_TYPE="azurekeyvault",
        AVP_AZURE_CREDENTIAL="managed",
        AVP_SECRET_NAME_PATTERN="^{app}-[A-Za-z0-9]+$",
        **managed_env,
    )
    kv.reset_counters()
    result = CliRunner().invoke(
        cli, ["check", "--app", "team-a", "--format", "json", str(manifest)], env=env
    )
    assert result.exit_code == 6, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["message"] == (
        f"secret team-a-dbPasword does not exist in {VAULT} (did you mean team-a-dbPassword?)"
    )
    assert "team-b" not in result.stdout
    assert kv.counts(VAULT, "get") == 0 and kv.counts(VAULT, "list") >= 1
