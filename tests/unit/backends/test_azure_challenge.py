"""``pipeline.check_challenge``: the rule the SDK applies to Key Vault's challenge, checked
before the SDK does, so that a domain mismatch is an error naming both domains."""

from __future__ import annotations

import pytest

from avp_py.backends.azurekeyvault.pipeline import ChallengeMismatch, check_challenge

AUTHORIZATION = 'Bearer authorization="https://login.windows.net/tenant"'


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("https://kv.vault.azure.net/secrets/a", 'resource="https://vault.azure.net"'),
        ("https://kv.vault.azure.cn/secrets/a", 'resource="https://vault.azure.cn/"'),
        ("https://kv.vault.azure.net:443/secrets/a", 'resource="https://vault.azure.net"'),
        ("https://kv.vault.azure.net/secrets/a", 'scope="https://vault.azure.net/.default"'),
        # the scope wins over the resource, as in the SDK
        (
            "https://kv.vault.azure.net/secrets/a",
            'resource="https://other.example", scope="https://vault.azure.net/.default"',
        ),
        ("https://kv.vault.azure.net/secrets/a", ""),  # no resource: not Key Vault's challenge
    ],
)
def test_a_challenge_for_the_host_s_domain_passes(url: str, params: str) -> None:
    check_challenge(url, f"{AUTHORIZATION}, {params}" if params else AUTHORIZATION)


@pytest.mark.parametrize(
    ("url", "resource"),
    [
        ("https://kv.privatelink.vaultcore.azure.net/secrets/a", "https://vault.azure.net"),
        ("https://kv.vault.azure.cn/secrets/a", "https://vault.azure.net"),
        ("https://kv.vault.azure.net/secrets/a", "https://kv.vault.azure.net"),  # not a parent
        ("https://kv.vault.azure.net/secrets/a", "vault.azure.net"),  # no scheme: no domain
        ("https://kv.vault.azure.net:8443/secrets/a", "https://vault.azure.net"),
    ],
)
def test_a_challenge_for_another_domain_is_refused(url: str, resource: str) -> None:
    with pytest.raises(ChallengeMismatch) as caught:
        check_challenge(url, f'{AUTHORIZATION}, resource="{resource}"')
    assert caught.value.resource == resource
    assert caught.value.host in url
