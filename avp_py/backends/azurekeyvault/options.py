"""The Azure backend's own settings, read from the resolved options mapping. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from avp_py.backends.azurekeyvault.addressing import DEFAULT_SUFFIX, AddressError, check_suffix
from avp_py.errors import ConfigError

CREDENTIALS = ("default", "workload", "managed", "environment", "cli")

# What each explicit credential needs, and what to tell an operator when it fails.
HINTS = {
    "default": (
        "AVP_AZURE_CREDENTIAL=default tried the environment service principal, workload"
        " identity, managed identity and the Azure CLI; on AKS set AVP_AZURE_CREDENTIAL=workload"
        " with AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (the workload"
        " identity webhook sets them), or =managed, or =environment with AZURE_TENANT_ID,"
        " AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
    ),
    "workload": (
        "AVP_AZURE_CREDENTIAL=workload uses AZURE_TENANT_ID, AZURE_CLIENT_ID,"
        " AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST: check them and the identity's"
        " federated credential (issuer and subject of the sidecar's service account)"
    ),
    "managed": (
        "AVP_AZURE_CREDENTIAL=managed needs a managed identity on the node or pod (IMDS, or"
        " IDENTITY_ENDPOINT and IDENTITY_HEADER); set AZURE_CLIENT_ID for a user-assigned one"
    ),
    "environment": (
        "AVP_AZURE_CREDENTIAL=environment uses AZURE_TENANT_ID, AZURE_CLIENT_ID and"
        " AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) and AZURE_AUTHORITY_HOST:"
        " check them"
    ),
    "cli": "AVP_AZURE_CREDENTIAL=cli uses the Azure CLI login (run az login; local use only)",
}


@dataclass(frozen=True)
class AzureOptions:
    """Credential choice and its inputs (``AZURE_*`` names, as azure-identity uses them)."""

    credential: str = "default"
    dns_suffix: str = DEFAULT_SUFFIX
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    certificate_path: str = ""
    certificate_password: str = field(default="", repr=False)
    federated_token_file: str = ""
    authority_host: str = ""
    identities: str = ""  # AVP_AZURE_IDENTITIES, which chose client_id (identities.py)

    @property
    def has_service_principal(self) -> bool:
        """A client secret or certificate was configured (EnvironmentCredential's input)."""
        return bool(
            self.tenant_id and self.client_id and (self.client_secret or self.certificate_path)
        )

    @property
    def has_workload_identity(self) -> bool:
        """Everything WorkloadIdentityCredential needs was configured."""
        return bool(self.tenant_id and self.client_id and self.federated_token_file)

    @property
    def hint(self) -> str:
        """What the chosen credential reads, for authentication error messages."""
        if not self.identities:
            return HINTS[self.credential]
        return (
            f"{HINTS[self.credential]}; AZURE_CLIENT_ID {self.client_id} was chosen by"
            " AVP_AZURE_IDENTITIES from the AppProject (ARGOCD_APP_PROJECT_NAME): check that"
            " this identity exists, has a federated credential for the sidecar's service"
            " account and a role on the vault"
        )

    def missing(self) -> list[str]:
        """Settings the chosen credential needs but did not get (names, never values)."""
        needs: dict[str, str] = {}
        if self.credential in ("workload", "environment"):
            needs = {"AZURE_TENANT_ID": self.tenant_id, "AZURE_CLIENT_ID": self.client_id}
        if self.credential == "workload":
            needs["AZURE_FEDERATED_TOKEN_FILE"] = self.federated_token_file
        if self.credential == "environment":
            needs["AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"] = (
                self.client_secret or self.certificate_path
            )
        return [name for name, value in needs.items() if not value]

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> AzureOptions:
        """Read ``AVP_AZURE_*`` and ``AZURE_*``; ConfigError for invalid or incomplete choices."""
        credential = options.get("AVP_AZURE_CREDENTIAL", "default").strip().lower() or "default"
        if credential not in CREDENTIALS:
            raise ConfigError(
                f"AVP_AZURE_CREDENTIAL must be one of {', '.join(CREDENTIALS)}, not {credential!r}"
            )
        try:
            suffix = check_suffix(options.get("AVP_AZURE_VAULT_DNS_SUFFIX", "") or DEFAULT_SUFFIX)
        except AddressError as exc:
            raise ConfigError(str(exc)) from None
        authority = options.get("AZURE_AUTHORITY_HOST", "").strip()
        if authority.lower().startswith("http://"):
            raise ConfigError("AZURE_AUTHORITY_HOST must be an https URL or a host name")
        result = cls(
            credential=credential,
            dns_suffix=suffix,
            tenant_id=options.get("AZURE_TENANT_ID", "").strip(),
            client_id=options.get("AZURE_CLIENT_ID", "").strip(),
            client_secret=options.get("AZURE_CLIENT_SECRET", ""),
            certificate_path=options.get("AZURE_CLIENT_CERTIFICATE_PATH", ""),
            certificate_password=options.get("AZURE_CLIENT_CERTIFICATE_PASSWORD", ""),
            federated_token_file=options.get("AZURE_FEDERATED_TOKEN_FILE", ""),
            authority_host=authority,
            identities=options.get("AVP_AZURE_IDENTITIES", "").strip(),
        )
        missing = result.missing()
        if missing:
            raise ConfigError(f"AVP_AZURE_CREDENTIAL={credential} needs {', '.join(missing)}")
        return result
