"""Where a placeholder's path points (decision D7), and Azure's naming rules. Pure.

AVP hard-codes ``https://NAME.vault.azure.net`` (issues #672, #692). avp-py maps a vault name
through ``AVP_AZURE_VAULT_DNS_SUFFIX`` (sovereign clouds, test servers; not Private Link, whose
public name resolves to the private endpoint, and whose challenge names the public domain),
takes a path with a dot as a host and one starting with ``https://`` as a URL. A host must
still be a Key Vault host: the SDK asks for a token for whatever resource the host claims, so
a placeholder must not be able to send the sidecar's identity to an arbitrary server.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_SUFFIX = "vault.azure.net"
# Public, China, US Government, and Germany (retired) clouds; plus Managed HSM.
KNOWN_SUFFIXES = (
    "vault.azure.net",
    "vault.azure.cn",
    "vault.usgovcloudapi.net",
    "vault.microsoftazure.de",
    "managedhsm.azure.net",
)

# Key Vault names: 3-24 characters, letters, digits and hyphens, starting with a letter, ending
# with a letter or digit, no two hyphens in a row.
_VAULT_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]")
_SECRET_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_VERSION = re.compile(r"[0-9A-Fa-f]{32}")
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class AddressError(ValueError):
    """The path, secret name or version can never be valid; the message says why."""


def vault_url(path: str, suffix: str = DEFAULT_SUFFIX) -> str:
    """``https://HOST`` for a vault name, a host or an https URL; AddressError if invalid."""
    lowered = path.lower()
    if lowered.startswith("https://"):
        return "https://" + _url_host(path, suffix)
    if lowered.startswith("http://"):
        raise AddressError(f"a vault URL must use https, not {path!r}")
    if "." in path:
        return "https://" + _checked_host(path.lower(), suffix)
    _check_vault_name(path)
    return f"https://{path.lower()}.{suffix}"


def _check_vault_name(name: str) -> None:
    if not _VAULT_NAME.fullmatch(name):
        raise AddressError(
            f"invalid Key Vault name {name!r}: 3-24 letters, digits and single hyphens,"
            " starting with a letter and ending with a letter or digit"
        )


def _url_host(url: str, suffix: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressError(f"invalid vault URL {url!r}") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise AddressError(f"a vault URL must be https://HOST only, not {url!r}")
    host = _checked_host(parts.hostname or "", suffix)
    return host if port in (None, 443) else f"{host}:{port}"


def _checked_host(host: str, suffix: str) -> str:
    labels = host.split(".")
    if not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise AddressError(f"invalid vault host name {host!r}")
    name, _, domain = host.partition(".")
    if domain not in (suffix, *KNOWN_SUFFIXES) and domain.startswith("privatelink.vaultcore."):
        # Key Vault answers a Private Link name's challenge for the public domain, so the SDK
        # would refuse to send it a token: the public name is the one to use.
        raise AddressError(
            f"{host} is a Private Link name: address the vault as {name} or"
            f" {name}.{suffix}, which resolves to the private endpoint through DNS"
        )
    if domain not in (suffix, *KNOWN_SUFFIXES):
        raise AddressError(
            f"{host} is not a Key Vault host (expected NAME.{suffix}; set"
            " AVP_AZURE_VAULT_DNS_SUFFIX on the sidecar for another domain)"
        )
    _check_vault_name(name)
    return host


def check_secret(name: str, version: str) -> None:
    """AddressError unless ``name`` and ``version`` can exist in Key Vault."""
    if not _SECRET_NAME.fullmatch(name):
        raise AddressError(
            f"invalid Key Vault secret name {name!r}: 1-127 letters, digits and hyphens"
        )
    if version and not _VERSION.fullmatch(version):
        raise AddressError(f"invalid Key Vault secret version {version!r}: 32 hexadecimal digits")


def check_suffix(suffix: str) -> str:
    """Validate AVP_AZURE_VAULT_DNS_SUFFIX (a DNS name without a leading dot)."""
    cleaned = suffix.strip().strip(".").lower()
    if not cleaned or not all(_HOST_LABEL.fullmatch(label) for label in cleaned.split(".")):
        raise AddressError(f"AVP_AZURE_VAULT_DNS_SUFFIX is not a DNS name: {suffix!r}")
    return cleaned
