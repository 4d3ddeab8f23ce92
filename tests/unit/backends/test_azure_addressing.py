"""Pure unit tests of the Azure backend's addressing (D7), naming rules and options."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from avp_py.backends.azurekeyvault import AzureKeyVaultBackend, create
from avp_py.backends.azurekeyvault.addressing import (
    AddressError,
    check_secret,
    check_suffix,
    vault_url,
)
from avp_py.backends.azurekeyvault.options import CREDENTIALS, AzureOptions
from avp_py.backends.base import BackendContext
from avp_py.errors import ConfigError
from avp_py.model import Deadline, SecretRef

VERSION = "0123456789abcdef0123456789ABCDEF"

# -- vault names (Azure: 3-24 alphanumerics and hyphens, starts with a letter, ends with a
# letter or digit, no consecutive hyphens) ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("myvault", "https://myvault.vault.azure.net"),
        ("MyVault", "https://myvault.vault.azure.net"),
        ("abc", "https://abc.vault.azure.net"),
        ("a" * 24, f"https://{'a' * 24}.vault.azure.net"),
        ("kv-prod-01", "https://kv-prod-01.vault.azure.net"),
        ("a1b", "https://a1b.vault.azure.net"),
    ],
)
def test_vault_names_map_to_the_default_suffix(path: str, url: str) -> None:
    assert vault_url(path) == url


@pytest.mark.parametrize(
    "path",
    [
        "",
        "ab",  # too short
        "a" * 25,  # too long
        "1vault",  # must start with a letter
        "-vault",
        "vault-",  # must end with a letter or digit
        "my--vault",  # no consecutive hyphens
        "my_vault",
        "my vault",
        "vault/secret",
        "vault#x",
        "välte",
        "vault\n",
    ],
)
def test_invalid_vault_names_are_refused(path: str) -> None:
    with pytest.raises(AddressError, match="invalid Key Vault name|invalid vault host"):
        vault_url(path)


_VALID_NAMES = st.from_regex(
    r"[A-Za-z][A-Za-z0-9]{0,5}(-[A-Za-z0-9]{1,5}){0,3}", fullmatch=True
).filter(lambda name: 3 <= len(name) <= 24)


@given(_VALID_NAMES)
def test_every_valid_vault_name_maps_to_its_lower_case_host(name: str) -> None:
    assert vault_url(name, "vault.azure.cn") == f"https://{name.lower()}.vault.azure.cn"


# -- hosts, URLs and DNS suffixes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "suffix", "url"),
    [
        ("myvault", "vault.azure.cn", "https://myvault.vault.azure.cn"),
        ("myvault", "vault.usgovcloudapi.net", "https://myvault.vault.usgovcloudapi.net"),
        ("myvault", "kv.corp.example", "https://myvault.kv.corp.example"),
        # a host or a URL is used as is, in any cloud, whatever the configured suffix
        ("myvault.vault.azure.net", "vault.azure.cn", "https://myvault.vault.azure.net"),
        ("MyVault.Vault.Azure.CN", "vault.azure.net", "https://myvault.vault.azure.cn"),
        (
            "gov-kv.vault.usgovcloudapi.net",
            "vault.azure.net",
            "https://gov-kv.vault.usgovcloudapi.net",
        ),
        ("myvault.kv.corp.example", "kv.corp.example", "https://myvault.kv.corp.example"),
        ("https://myvault.vault.azure.net", "vault.azure.net", "https://myvault.vault.azure.net"),
        ("https://myvault.vault.azure.net/", "vault.azure.net", "https://myvault.vault.azure.net"),
        ("HTTPS://MyVault.vault.azure.net/", "vault.azure.net", "https://myvault.vault.azure.net"),
        (
            "https://myvault.vault.azure.net:443",
            "vault.azure.net",
            "https://myvault.vault.azure.net",
        ),
        (
            "https://myvault.vault.azure.net:8443/",
            "vault.azure.net",
            "https://myvault.vault.azure.net:8443",
        ),
        ("https://myvault.vault.azure.cn", "vault.azure.net", "https://myvault.vault.azure.cn"),
    ],
)
def test_suffixes_hosts_and_urls(path: str, suffix: str, url: str) -> None:
    assert vault_url(path, suffix) == url


@pytest.mark.parametrize(
    "path",
    [
        # not a Key Vault host: the sidecar's token must never be sent there
        "evil.example.com",
        "myvault.vault.azure.net.evil.example.com",
        "myvault.vault.azure.netx",
        "https://evil.example.com",
        "https://127.0.0.1",
        "https://localhost",
        "myvault.blob.core.windows.net",
        # one vault name before the suffix, nothing more
        "a.myvault.vault.azure.net",
        "my--vault.vault.azure.net",
        "ab.vault.azure.net",
        # only https://HOST[:PORT][/]
        "http://myvault.vault.azure.net",
        "https://myvault.vault.azure.net/secrets/db",
        "https://myvault.vault.azure.net?x=1",
        "https://myvault.vault.azure.net#frag",
        "https://user@myvault.vault.azure.net",
        "https://user:pw@myvault.vault.azure.net",
        "https://myvault.vault.azure.net:notaport",
        "https://myvault.vault.azure.net:99999",
        "https://",
        "myvault.vault.azure.net:443",
        "myvault.vault.azure.net.",
        ".vault.azure.net",
        "myvault..vault.azure.net",
    ],
)
def test_non_key_vault_hosts_are_refused(path: str) -> None:
    with pytest.raises(AddressError):
        vault_url(path, "vault.azure.net")


def test_a_custom_suffix_does_not_allow_other_domains() -> None:
    with pytest.raises(AddressError, match="AVP_AZURE_VAULT_DNS_SUFFIX"):
        vault_url("myvault.kv.other.example", "kv.corp.example")


@pytest.mark.parametrize(
    "path",
    ["myvault.privatelink.vaultcore.azure.net", "https://myvault.privatelink.vaultcore.azure.net"],
)
def test_a_private_link_name_is_refused_with_the_public_name_to_use(path: str) -> None:
    # Key Vault answers a Private Link name's challenge for vault.azure.net: no token would be
    # sent to it, and setting AVP_AZURE_VAULT_DNS_SUFFIX to the private zone does not help.
    with pytest.raises(AddressError) as caught:
        vault_url(path, "vault.azure.net")
    message = str(caught.value)
    assert "Private Link name" in message and "myvault.vault.azure.net" in message
    assert "set AVP_AZURE_VAULT_DNS_SUFFIX" not in message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("vault.azure.cn", "vault.azure.cn"),
        (" .Vault.Azure.CN. ", "vault.azure.cn"),
        ("privatelink.vaultcore.azure.net", "privatelink.vaultcore.azure.net"),
    ],
)
def test_suffix_is_normalised(raw: str, clean: str) -> None:
    assert check_suffix(raw) == clean


@pytest.mark.parametrize(
    "raw", ["", ".", "vault azure net", "https://vault.azure.net", "a..b", "-a.b"]
)
def test_invalid_suffix_is_refused(raw: str) -> None:
    with pytest.raises(AddressError):
        check_suffix(raw)


# -- secret names and versions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version"),
    [("db-password", ""), ("A", ""), ("x" * 127, ""), ("Db-2", VERSION), ("0", VERSION.lower())],
)
def test_valid_secret_names_and_versions(name: str, version: str) -> None:
    check_secret(name, version)


@pytest.mark.parametrize(
    ("name", "version", "match"),
    [
        ("", "", "secret name"),
        ("db_password", "", "secret name"),
        ("db.password", "", "secret name"),
        ("db password", "", "secret name"),
        ("x" * 128, "", "secret name"),
        ("dbpässword", "", "secret name"),
        ("db/password", "", "secret name"),
        ("db-password", "1", "version"),
        ("db-password", "latest", "version"),
        ("db-password", VERSION[:-1], "version"),
        ("db-password", VERSION + "0", "version"),
        ("db-password", "g" * 32, "version"),
        ("db-password", "../" + VERSION[3:], "version"),
    ],
)
def test_invalid_secret_names_and_versions(name: str, version: str, match: str) -> None:
    with pytest.raises(AddressError, match=match):
        check_secret(name, version)


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "choice"),
    [
        ("", "default"),
        (" ", "default"),
        ("default", "default"),
        ("Managed", "managed"),
        (" CLI ", "cli"),
    ],
)
def test_credential_choice_is_parsed(raw: str, choice: str) -> None:
    assert AzureOptions.from_options({"AVP_AZURE_CREDENTIAL": raw}).credential == choice


def test_credential_defaults_to_the_default_chain() -> None:
    options = AzureOptions.from_options({})
    assert (options.credential, options.dns_suffix) == ("default", "vault.azure.net")


@pytest.mark.parametrize("raw", ["msi", "workloadidentity", "environment,managed", "none"])
def test_unknown_credential_is_a_config_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="AVP_AZURE_CREDENTIAL must be one of"):
        AzureOptions.from_options({"AVP_AZURE_CREDENTIAL": raw})


@pytest.mark.parametrize(
    ("choice", "given", "missing"),
    [
        ("workload", {}, "AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE"),
        (
            "workload",
            {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"},
            "AZURE_FEDERATED_TOKEN_FILE",
        ),
        (
            "environment",
            {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"},
            "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH",
        ),
        ("environment", {"AZURE_CLIENT_SECRET": "s"}, "AZURE_TENANT_ID, AZURE_CLIENT_ID"),
    ],
)
def test_explicit_credential_needs_its_settings(
    choice: str, given: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        AzureOptions.from_options({"AVP_AZURE_CREDENTIAL": choice, **given})
    assert str(caught.value) == f"AVP_AZURE_CREDENTIAL={choice} needs {missing}"


@pytest.mark.parametrize("choice", ["default", "managed", "cli"])
def test_chains_and_managed_identity_need_no_setting(choice: str) -> None:
    assert AzureOptions.from_options({"AVP_AZURE_CREDENTIAL": choice}).missing() == []


def test_settings_come_from_the_mapping_and_secrets_stay_out_of_repr() -> None:
    options = AzureOptions.from_options(
        {
            "AVP_AZURE_CREDENTIAL": "environment",
            "AVP_AZURE_VAULT_DNS_SUFFIX": "vault.azure.cn",
            "AZURE_TENANT_ID": " tenant ",
            "AZURE_CLIENT_ID": "client",
            "AZURE_CLIENT_SECRET": "sentinel-client-secret",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD": "sentinel-cert-password",
            "AZURE_AUTHORITY_HOST": "https://login.chinacloudapi.cn",
        }
    )
    assert (options.tenant_id, options.client_id, options.dns_suffix) == (
        "tenant",
        "client",
        "vault.azure.cn",
    )
    assert options.has_service_principal and not options.has_workload_identity
    assert "sentinel" not in repr(options)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("AVP_AZURE_VAULT_DNS_SUFFIX", "not a suffix", "AVP_AZURE_VAULT_DNS_SUFFIX"),
        ("AZURE_AUTHORITY_HOST", "http://login.example", "AZURE_AUTHORITY_HOST"),
    ],
)
def test_invalid_endpoints_are_config_errors(key: str, value: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        AzureOptions.from_options({key: value})


def test_every_credential_has_a_hint_naming_its_setting() -> None:
    for choice in CREDENTIALS:
        assert f"AVP_AZURE_CREDENTIAL={choice}" in AzureOptions(credential=choice).hint


# -- the backend object without a network ---------------------------------------------------


def _backend(**options: str) -> AzureKeyVaultBackend:
    deadline = Deadline(5.0, 1e12)
    return create(BackendContext(options, deadline, 4))


def test_create_imports_no_sdk_and_validate_needs_none() -> None:
    sdk_loaded = "avp_py.backends.azurekeyvault.sdk" in sys.modules
    backend = _backend(AVP_AZURE_VAULT_DNS_SUFFIX="vault.azure.cn")
    try:
        assert backend.validate(SecretRef("myvault", "db-password", VERSION)) is None
        assert backend.validate(SecretRef("https://kv1.vault.azure.cn/", "x")) is None
        assert "not a Key Vault host" in (backend.validate(SecretRef("evil.example", "x")) or "")
        assert "secret name" in (backend.validate(SecretRef("myvault", "a_b")) or "")
        assert "version" in (backend.validate(SecretRef("myvault", "a", "2")) or "")
        if not sdk_loaded:
            assert "avp_py.backends.azurekeyvault.sdk" not in sys.modules
    finally:
        backend.close()


def test_create_refuses_an_incomplete_credential_before_any_request() -> None:
    with pytest.raises(ConfigError, match="AZURE_FEDERATED_TOKEN_FILE"):
        _backend(AVP_AZURE_CREDENTIAL="workload", AZURE_TENANT_ID="t", AZURE_CLIENT_ID="c")
