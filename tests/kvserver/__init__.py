"""A local Key Vault-compatible HTTPS server for tests (test tooling, not product code).

It lets the real ``azure-keyvault-secrets`` SDK and real ``azure-identity`` credentials run with
TLS verification on and the real ``https://NAME.vault.azure.net`` addressing, with no network:

* a **CONNECT proxy** on 127.0.0.1 (``HTTPS_PROXY``) that never connects out: it terminates TLS
  itself with a certificate for the requested host, signed by a throw-away CA (``ca_file``);
* the **secrets REST API** for any number of vaults (vault = first DNS label, any suffix:
  ``vault.azure.net``, ``vault.azure.cn``, ``vault.usgovcloudapi.net``, custom);
* the **challenge** (401 + ``WWW-Authenticate``, resource from the host's suffix; a Private
  Link name ``NAME.privatelink.vaultcore.azure.net`` answers for ``vault.azure.net``, as Key
  Vault does) and bearer tokens checked for issuer (this server), audience and expiry;
* **token endpoints**: App Service managed identity (``IDENTITY_ENDPOINT``, plain HTTP),
  workload identity and client secret on ``login.microsoftonline.com`` (through the proxy);
* a direct **HTTPS port** (``https_url``) serving the vault named ``direct_vault``;
* runtime **faults**, thread-safe **counters** and request **spans** (begin/end at the server).

Example::

    with KeyVaultServer() as kv:
        v1 = kv.set_secret("myvault", "db-password", "s3cret")        # → version id
        kv.set_secret("myvault", "db-password", "rotated")             # new latest version
        kv.set_enabled("myvault", "db-password", False, version=v1)
        env = kv.client_env("managed")    # HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE,
                                          # SSL_CERT_FILE, IDENTITY_ENDPOINT, IDENTITY_HEADER
        env = kv.client_env("workload")   # + AZURE_TENANT_ID, AZURE_CLIENT_ID,
                                          #   AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST
        env = kv.client_env("secret")     # + AZURE_CLIENT_SECRET
        kv.faults.latency = 0.02                # every vault; kv.vault_faults("myvault") for one
        kv.faults.throttle_after(5, count=1, retry_after=1)   # 5 pass, then one 429
        kv.faults.rate_limit(40, window=1.0)    # 429 + Retry-After past 40 requests per second
        kv.faults.fail_next(2, status=503); kv.faults.drop_next(1, reset=True)
        kv.faults.answer_next(400, b'{"error": ' + b"[" * 100_000)  # any body, as it is
        kv.faults.token_endpoint_down = True; kv.faults.token_ttl = -60
        kv.faults.token_retry_after = 60        # the 503s of the token endpoints ask to wait
        kv.faults.reject_tokens_as_expired = True
        kv.faults.wrong_certificate("myvault.vault.azure.net")
        kv.vault_faults("myvault").hold()       # requests wait, unanswered, until release()
        kv.deny("myvault", client_id=kv.managed_client_id, permissions=["get"])
        kv.counts("myvault", "get"); kv.status_count(429); kv.token_requests("managed")
        kv.stats(); kv.reset_counters(); kv.tokens(); kv.errors
        kv.in_flight("myvault"); kv.peak_overlap("myvault", "get")  # from request spans

API (all thread-safe):

* ``KeyVaultServer(*, tenant_id=None, direct_vault="direct", strict_vaults=True)``; ``start()``,
  ``close()``, context manager. With ``strict_vaults`` a CONNECT to a vault that was never
  created gets ``502`` (what a client sees when the name does not resolve).
* Addresses: ``proxy_url``, ``https_url``, ``identity_endpoint``, ``identity_header``,
  ``ca_file``, ``vault_url(vault, suffix="vault.azure.net")``.
* Identities: ``tenant_id``, ``managed_client_id`` (system-assigned; a user-assigned one is the
  ``client_id`` the credential sends), ``workload_client_id``, ``secret_client_id`` /
  ``client_secret``; ``federated_token_file(client_id=None) -> str``,
  ``add_client_secret(client_id, secret)``, ``client_env(credential, *, client_id=None)``.
* Data: ``add_vault(vault)``, ``set_secret(vault, name, value, *, enabled=True,
  content_type=None, tags=None, managed=False) -> str``, ``import_certificate(vault, name,
  value, content_type, *, enabled=True) -> str`` (test chains: ``tests.kvserver.certificates``),
  ``set_enabled(vault, name, enabled, *,
  version=None)``, ``set_validity(vault, name, *, not_before=None, expires=None, version=None)``
  (``nbf``/``exp``, served as attributes),
  ``get_secret(vault, name, version=None) -> SecretVersion``,
  ``versions(vault, name) -> list[str]``, ``delete_secret(vault, name)``,
  ``deny(vault, *, client_id=None, permissions=None)``, ``restrict(vault, client_ids)`` (only
  those identities may use it), ``allow_all(vault)``; ``trust_federated(token_file,
  client_id)``, ``register_client(client_id)`` (an unknown client id gets AADSTS700016 on
  every grant: federated token, client secret, certificate), ``add_client_certificate(
  client_id, certificate)`` (``CertificateCredential``), ``hold_managed_identities(client_ids)``
  (the managed identity endpoint refuses other client ids, as App Service does).
* Faults: ``faults`` (:class:`Faults`, global), ``vault_faults(vault)`` (:class:`VaultFaults`),
  ``clear_faults()``.
* Observation: ``counts(vault, op)`` with op in ``challenge`` (request without a bearer token),
  ``get``, ``list``, ``list_versions``, ``set``, ``update``, ``other``; ``status_count(status,
  vault=None)``; ``token_requests(kind=None)`` with kind in ``managed``, ``workload``,
  ``client_secret``, ``certificate``; ``connections(listener=None)``; ``stats()``;
  ``reset_counters()``;
  ``tokens() -> list[IssuedToken]``; ``errors`` (server-side tracebacks; should stay empty);
  ``spans(vault=None, op=None) -> list[Span]`` (when each Key Vault request began and ended at
  the server), ``in_flight(vault=None, op=None)``, ``peak_overlap(vault=None, op=None)``: prove
  parallel requests or a client that stopped waiting without timing the client.

Notes: the Key Vault SDK caches challenges per host in a process-wide cache
(``azure.keyvault.secrets._shared.http_challenge_cache``): clear it between tests that count
challenges. CLI for benchmarks: ``python -m tests.kvserver --help``.
"""

from .faults import Faults, VaultFaults
from .server import KeyVaultServer
from .stats import eventually
from .store import SecretVersion
from .tokens import IssuedToken

__all__ = ["Faults", "IssuedToken", "KeyVaultServer", "SecretVersion", "VaultFaults", "eventually"]
