"""The Azure backend against the wire protocol: ``create(BackendContext(...)).fetch(ref)`` with
the real azure-keyvault-secrets SDK and real azure-identity credentials, talking HTTPS with
certificate verification on, through the test server's CONNECT proxy, to
``https://NAME.vault.azure.net`` exactly as in production.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from azure.core.pipeline.transport import RequestsTransport
from cryptography.hazmat.primitives import serialization

from avp_py.backends.azurekeyvault import pipeline, sdk
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    PlaceholderError,
    SecretNotFoundError,
)
from avp_py.model import Deadline, MissingReason, SecretRef
from tests.kvserver import KeyVaultServer, eventually
from tests.kvserver.certificates import shared_chain

from .conftest import KINDS, TOKEN_KIND, BackendFactory, Kind, error_text, secret_free

pytestmark = pytest.mark.keyvault

VAULT = "myvault"
VALUE = "sentinel-value-7f3a"  # must never appear in a message
OLD = "sentinel-old-value-91c2"


def _fails(action: Callable[[], Any], kind: type[BaseException]) -> BaseException:
    with pytest.raises(kind) as caught:
        action()
    return caught.value


# -- reading, with each real credential ------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_latest_and_pinned_version(
    kv: KeyVaultServer, make_backend: BackendFactory, kind: Kind
) -> None:
    old = kv.set_secret(VAULT, "db-password", OLD)
    new = kv.set_secret(VAULT, "db-password", VALUE)
    backend = make_backend(kind)

    latest = backend.fetch(SecretRef(VAULT, "db-password"))
    pinned = backend.fetch(SecretRef(VAULT, "db-password", old))
    pinned_upper = backend.fetch(SecretRef(VAULT, "DB-PASSWORD", old.upper()))

    assert (latest.reveal(), latest.version) == (VALUE, new)
    assert (pinned.reveal(), pinned.version) == (OLD, old)
    assert pinned_upper.reveal() == OLD
    identity = KINDS[kind][1]
    assert kv.token_requests(TOKEN_KIND[identity]) == 1
    assert kv.token_requests() == 1
    assert (kv.counts(VAULT, "challenge"), kv.counts(VAULT, "get")) == (1, 3)
    assert VALUE not in repr(latest)


def test_user_assigned_managed_identity_sends_its_client_id(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    user_assigned = "0f9c6a8e-1111-4222-8333-944455566677"
    backend = make_backend("managed", client_id=user_assigned)
    assert backend.fetch(SecretRef(VAULT, "a")).reveal() == VALUE
    assert [t.client_id for t in kv.tokens()] == [user_assigned]


def test_rotation_is_seen_by_the_next_backend(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "api-key", OLD)
    first = make_backend().fetch(SecretRef(VAULT, "api-key"))
    rotated = kv.set_secret(VAULT, "api-key", VALUE)
    second = make_backend().fetch(SecretRef(VAULT, "api-key"))
    assert (first.reveal(), second.reveal(), second.version) == (OLD, VALUE, rotated)


# -- missing and disabled secrets are missing values ------------------------------------------


def test_missing_secret_and_missing_version_are_not_found(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "exists", VALUE)
    backend = make_backend()
    absent_version = "0" * 32
    for ref in (SecretRef(VAULT, "nope"), SecretRef(VAULT, "exists", absent_version)):
        with pytest.raises(SecretNotFoundError) as caught:
            backend.fetch(ref)
        assert (caught.value.ref, caught.value.reason) == (ref, MissingReason.NOT_FOUND)
    assert kv.status_count(404, VAULT) == 2


def test_disabled_secret_is_missing_not_an_auth_error(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    old = kv.set_secret(VAULT, "db", OLD)
    kv.set_secret(VAULT, "db", VALUE)
    kv.set_enabled(VAULT, "db", False, version=old)
    kv.set_secret(VAULT, "off", VALUE, enabled=False)
    backend = make_backend()

    assert backend.fetch(SecretRef(VAULT, "db")).reveal() == VALUE
    for ref in (SecretRef(VAULT, "db", old), SecretRef(VAULT, "off")):
        with pytest.raises(SecretNotFoundError) as caught:
            backend.fetch(ref)
        assert (caught.value.ref, caught.value.reason) == (ref, MissingReason.DISABLED)
    assert kv.status_count(403, VAULT) == 2


# -- authorization and authentication ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["managed", "workload"])
def test_access_denied_names_the_client_id(
    kv: KeyVaultServer, make_backend: BackendFactory, kind: Kind
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    client_id = kv.managed_client_id if kind == "managed" else kv.workload_client_id
    kv.deny(VAULT, client_id=client_id, permissions=["get"])
    backend = make_backend(kind)

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "db")), BackendAuthError)
    text = error_text(error)
    assert client_id in text
    assert "403" in text and "db" in text and VAULT in text
    assert secret_free(text, kv, VALUE)
    assert kv.status_count(403, VAULT) == 1  # not retried


@pytest.mark.parametrize("kind", ["managed", "workload", "environment"])
def test_token_endpoint_down_is_an_auth_error(
    kv: KeyVaultServer, make_backend: BackendFactory, kind: Kind
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    # The 503 asks to retry in 120 s: the deadline refuses that retry at once, however long it
    # is, so it can leave room for a loaded machine (a deadline that runs out before the first
    # token request is answered would say so instead of "503").
    kv.faults.token_endpoint_down = True
    kv.faults.token_retry_after = 120
    backend = make_backend(kind, timeout=20.0)

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "db")), BackendAuthError)
    text = error_text(error)
    assert "token" in str(error) and "503" in str(error)
    assert f"AVP_AZURE_CREDENTIAL={KINDS[kind][0]}" in text  # says what to check or set
    # fails fast: the retry was refused, not waited for, and nothing was asked twice
    assert "retrying the token request would start in 120 s" in text
    assert kv.token_requests() == 1
    assert kv.counts(VAULT, "get") == 0
    assert secret_free(text, kv, VALUE)


def test_a_failed_first_request_is_not_repeated_by_every_worker(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    refs = [SecretRef(VAULT, f"s{i}") for i in range(20)]
    for ref in refs:
        kv.set_secret(VAULT, ref.key, VALUE)
    kv.faults.token_endpoint_down = True
    kv.faults.token_retry_after = 120  # refused by the deadline at once (see above)
    backend = make_backend(timeout=20.0, concurrency=16)

    def outcome(ref: SecretRef) -> type[BaseException] | None:
        try:
            backend.fetch(ref)
        except BackendError as exc:
            return type(exc)
        return None

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(outcome, refs))
    assert outcomes == [BackendAuthError] * len(refs)
    assert kv.counts(VAULT, "challenge") == 1
    assert kv.token_requests() <= 3  # the first worker's attempts only


def test_wrong_client_secret_is_an_auth_error(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    wrong = "sentinel-wrong-client-secret"
    backend = make_backend("environment", AZURE_CLIENT_SECRET=wrong)

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "db")), BackendAuthError)
    text = error_text(error)
    assert "AADSTS7000215" in text and "AZURE_CLIENT_SECRET" in text
    assert secret_free(text, kv, VALUE, wrong)


@pytest.mark.parametrize("content", [None, "not a certificate"], ids=["absent", "invalid"])
def test_an_unusable_certificate_is_a_config_error(
    kv: KeyVaultServer, make_backend: BackendFactory, tmp_path: Path, content: str | None
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    certificate = tmp_path / "client.pem"
    if content is not None:
        certificate.write_text(content)
    backend = make_backend(
        "environment", AZURE_CLIENT_SECRET="", AZURE_CLIENT_CERTIFICATE_PATH=str(certificate)
    )
    with pytest.raises(ConfigError, match="AVP_AZURE_CREDENTIAL=environment"):
        backend.fetch(SecretRef(VAULT, "db"))
    assert kv.connections() == 0


def _client_certificate(path: Path, key_password: bytes | None, *, with_certificate: bool) -> None:
    """A client certificate file: the leaf's key (encrypted with ``key_password``), and the leaf."""
    chain = shared_chain()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(key_password)
        if key_password
        else serialization.NoEncryption()
    )
    key = chain.leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path.write_bytes(key + (chain.pem(chain.leaf).encode() if with_certificate else b""))


@pytest.mark.parametrize("with_certificate", [True, False], ids=["key-and-cert", "key-only"])
@pytest.mark.parametrize(
    ("key_password", "given", "expected"),
    [
        (b"sentinel-key-password", "", "AZURE_CLIENT_CERTIFICATE_PASSWORD is not set"),
        (
            b"sentinel-key-password",
            "sentinel-wrong-password",
            "check AZURE_CLIENT_CERTIFICATE_PASSWORD",
        ),
        (None, "sentinel-needless-password", "AZURE_CLIENT_CERTIFICATE_PASSWORD is set"),
    ],
    ids=["no-password", "wrong-password", "password-for-a-plain-key"],
)
def test_a_certificate_password_that_does_not_fit_is_a_config_error(
    kv: KeyVaultServer,
    make_backend: BackendFactory,
    tmp_path: Path,
    with_certificate: bool,
    key_password: bytes | None,
    given: str,
    expected: str,
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    certificate = tmp_path / "client.pem"
    _client_certificate(certificate, key_password, with_certificate=with_certificate)
    backend = make_backend(
        "environment",
        AZURE_CLIENT_SECRET="",
        AZURE_CLIENT_CERTIFICATE_PATH=str(certificate),
        AZURE_CLIENT_CERTIFICATE_PASSWORD=given,
    )
    with pytest.raises(ConfigError) as caught:
        backend.fetch(SecretRef(VAULT, "db"))
    text = error_text(caught.value)
    assert f"AZURE_CLIENT_CERTIFICATE_PATH={certificate}" in str(caught.value)
    assert expected in str(caught.value)
    assert secret_free(text, kv, VALUE, given, "sentinel-key-password")
    assert kv.connections() == 0


def test_a_token_file_removed_after_start_up_is_an_auth_error(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    backend = make_backend("workload")
    Path(kv.federated_token_file()).unlink()  # the file make_backend's settings name

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "db")), BackendAuthError)
    text = error_text(error)
    assert "a credential file cannot be read" in str(error) and "db" in str(error)
    assert "AZURE_FEDERATED_TOKEN_FILE" in text
    assert kv.counts(VAULT, "get") == 0


@pytest.mark.parametrize("fault", ["issued_expired", "rejected_as_expired"])
def test_expired_tokens_are_an_auth_error(
    kv: KeyVaultServer, make_backend: BackendFactory, fault: str
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    if fault == "issued_expired":
        kv.faults.token_ttl = -60
    else:
        kv.faults.reject_tokens_as_expired = True
    backend = make_backend()

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "db")), BackendAuthError)
    text = error_text(error)
    assert "401" in str(error) and "expired" in str(error)
    assert "role" not in str(error)  # a 401 is not a missing role assignment
    assert secret_free(text, kv, VALUE)


def test_a_token_that_expires_during_the_run_is_renewed(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "a", OLD)
    kv.set_secret(VAULT, "b", VALUE)
    kv.faults.token_ttl = 2  # whole seconds from the current one: valid for 1-2 s
    backend = make_backend()
    assert backend.fetch(SecretRef(VAULT, "a")).reveal() == OLD
    first = kv.tokens()[0]
    time.sleep(max(0.0, first.expires_on - time.time()) + 0.05)  # the server now refuses it
    assert backend.fetch(SecretRef(VAULT, "b")).reveal() == VALUE
    assert kv.token_requests("managed") >= 2
    assert kv.tokens()[-1].token != first.token
    assert kv.status_count(200, VAULT) == 2


# -- throttling, server errors and broken connections -----------------------------------------


def test_429_storm_with_retry_after_resolves_within_the_deadline(
    kv: KeyVaultServer, make_backend: BackendFactory, slept: list[float]
) -> None:
    names = [f"s{i}" for i in range(12)]
    for name in names:
        kv.set_secret(VAULT, name, f"{VALUE}-{name}")
    kv.faults.throttle_after(2, count=8, retry_after=0.1)
    backend = make_backend(timeout=5.0)

    with ThreadPoolExecutor(6) as pool:
        values = list(pool.map(lambda n: backend.fetch(SecretRef(VAULT, n)).reveal(), names))
    assert values == [f"{VALUE}-{name}" for name in names]
    assert kv.status_count(429) == 8
    # one wait per 429, what Retry-After asked plus at most the jitter: no backoff of its own
    assert len(slept) == 8
    assert all(0.1 <= wait <= 0.1 * (1 + pipeline.JITTER) for wait in slept), slept


def test_429_without_retry_after_is_retried(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.throttle_after(0, count=1, retry_after=None)
    assert make_backend().fetch(SecretRef(VAULT, "a")).reveal() == VALUE
    assert kv.status_count(429) == 1


def test_retry_after_beyond_the_deadline_fails_fast(
    kv: KeyVaultServer, make_backend: BackendFactory, slept: list[float]
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.throttle_after(0, count=None, retry_after=30)
    backend = make_backend(timeout=20.0)
    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "a")), BackendUnavailableError)
    assert slept == []  # did not sleep, neither 30 s nor what is left of the deadline
    assert "429" in str(error) and "30 s" in str(error) and "AVP_TIMEOUT_SECONDS" in str(error)
    assert kv.status_count(429) == 1  # and did not retry either


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(kv: KeyVaultServer, make_backend: BackendFactory, status: int) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.fail_next(1, status=status)
    assert make_backend().fetch(SecretRef(VAULT, "a")).reveal() == VALUE
    assert kv.status_count(status) == 1


def test_persistent_5xx_fails_within_the_deadline(
    kv: KeyVaultServer, make_backend: BackendFactory, slept: list[float]
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.fail_next(100, status=503)
    backend = make_backend(timeout=1.5)
    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "a")), BackendUnavailableError)
    assert "503" in str(error) and "AVP_TIMEOUT_SECONDS" in str(error)
    # retried with waits that all fit in the deadline, then refused the next one
    assert sum(slept) < 1.5, slept
    assert kv.status_count(503) == len(slept) + 1


_DEEP = b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # json.loads recurses per "["


@pytest.mark.parametrize("status", [200, 400, 403])
def test_an_answer_nested_too_deeply_for_json_is_a_backend_error(
    kv: KeyVaultServer, make_backend: BackendFactory, status: int
) -> None:
    # azure-core decodes an application/json answer before avp-py sees it.
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.answer_next(status, _DEEP)
    with pytest.raises(BackendError) as caught:
        make_backend().fetch(SecretRef(VAULT, "a"))
    assert str(caught.value) == (
        f"cannot read secret a in vault {VAULT}: the answer is JSON nested too deeply to"
        " decode (not Key Vault's: check HTTPS_PROXY and the vault host)"
    )
    assert kv.status_count(status) == 1


@pytest.mark.parametrize(("status", "kind"), [(400, BackendError), (403, BackendAuthError)])
def test_an_error_body_nested_too_deeply_is_not_read_as_key_vaults_error(
    kv: KeyVaultServer, make_backend: BackendFactory, status: int, kind: type[BackendError]
) -> None:
    # Sent as text/plain, azure-core leaves the body alone and avp-py looks for an error code.
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.answer_next(status, _DEEP, content_type="text/plain")
    with pytest.raises(kind) as caught:
        make_backend().fetch(SecretRef(VAULT, "a"))
    assert f"HTTP {status}" in str(caught.value)
    assert f"secret a in vault {VAULT}" in str(caught.value)
    assert kv.status_count(status) == 1


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_dropped_connections_are_retried(
    kv: KeyVaultServer, make_backend: BackendFactory, reset: bool
) -> None:
    kv.set_secret(VAULT, "a", OLD)
    kv.set_secret(VAULT, "b", VALUE)
    backend = make_backend()
    assert backend.fetch(SecretRef(VAULT, "a")).reveal() == OLD  # a kept-alive connection
    kv.faults.drop_next(1, reset=reset)
    assert backend.fetch(SecretRef(VAULT, "b")).reveal() == VALUE
    assert kv.stats().get("dropped") == 1


def test_connection_refused_is_unavailable(
    kv: KeyVaultServer,
    make_backend: BackendFactory,
    monkeypatch: pytest.MonkeyPatch,
    slept: list[float],
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    backend = make_backend(timeout=0.4)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("HTTPS_PROXY", closed)
    monkeypatch.setenv("https_proxy", closed)

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "a")), BackendUnavailableError)
    assert "connection refused" in str(error) and VAULT in str(error)
    assert sum(slept) < 0.4, slept  # any retries waited within the deadline
    assert kv.connections("proxy") == 0


def test_wrong_tls_certificate_is_unavailable_and_not_retried(
    kv: KeyVaultServer, make_backend: BackendFactory, slept: list[float]
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    kv.faults.wrong_certificate(f"{VAULT}.vault.azure.net")
    backend = make_backend()

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "a")), BackendUnavailableError)
    assert "certificate" in str(error)
    # one handshake, refused: a certificate does not heal, so no retry
    assert kv.stats().get(f"tunnel/{VAULT}.vault.azure.net") == 1
    assert eventually(lambda: kv.stats().get("tls_failed") == 1)
    assert kv.token_requests() == 0 and kv.counts(VAULT, "get") == 0
    assert secret_free(error_text(error), kv, VALUE)
    assert slept == []  # not even a backoff before giving up


def test_a_slow_vault_fails_at_the_deadline(
    kv: KeyVaultServer, make_backend: BackendFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kv.set_secret(VAULT, "a", VALUE)
    kv.vault_faults(VAULT).hold()  # no answer until the test ends
    backend = make_backend(timeout=0.3)
    timeouts: list[float] = []
    original = RequestsTransport.send

    def recorded(self: RequestsTransport, request: Any, **kwargs: Any) -> Any:
        timeouts.extend([kwargs["connection_timeout"], kwargs["read_timeout"]])
        return original(self, request, **kwargs)

    monkeypatch.setattr(RequestsTransport, "send", recorded)
    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "a")), BackendUnavailableError)
    assert "deadline" in str(error) and "timed out" in str(error)
    # requests was told to wait no longer than the deadline and the 0.5 s grace (DEADLINE_GRACE)
    assert timeouts and max(timeouts) <= 0.3 + 0.5, timeouts
    # The fetch gave up while its one request (the challenge) was still waiting for an answer,
    # and sent no other.
    assert (kv.in_flight(VAULT), len(kv.spans(VAULT))) == (1, 1)


# -- one client and one challenge per vault, whatever the concurrency --------------------------


def test_sixteen_threads_one_client_one_challenge_one_token_per_vault(
    kv: KeyVaultServer, make_backend: BackendFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    vaults = ("myvault", "othervault")
    refs = [SecretRef(vaults[i % 2], f"secret-{i}") for i in range(100)]
    for ref in refs:
        kv.set_secret(ref.path, ref.key, f"{VALUE}-{ref.key}")
    built: list[str] = []
    original = sdk.build_client

    def counting_build_client(url: str, *args: Any) -> Any:
        built.append(url)
        return original(url, *args)

    monkeypatch.setattr(sdk, "build_client", counting_build_client)
    kv.faults.latency = 0.01
    backend = make_backend(concurrency=16)
    start = threading.Barrier(16)

    def fetch(ref: SecretRef) -> object:
        return backend.fetch(ref).reveal()

    def warm_start(_: int) -> None:
        start.wait()  # every worker asks at the same moment

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(warm_start, range(16)))
        values = list(pool.map(fetch, refs))

    assert values == [f"{VALUE}-{ref.key}" for ref in refs]
    assert sorted(built) == [f"https://{v}.vault.azure.net" for v in sorted(vaults)]
    for vault in vaults:
        assert kv.counts(vault, "challenge") == 1
        assert kv.counts(vault, "get") == 50
    assert kv.token_requests() <= len(vaults)
    assert kv.connections("proxy") <= 2 * 16


# -- addressing (D7) over the wire ------------------------------------------------------------


def test_sovereign_dns_suffix(kv: KeyVaultServer, make_backend: BackendFactory) -> None:
    kv.set_secret("cnvault", "db", VALUE)
    backend = make_backend(AVP_AZURE_VAULT_DNS_SUFFIX="vault.azure.cn")
    assert backend.fetch(SecretRef("cnvault", "db")).reveal() == VALUE
    assert kv.stats().get("tunnel/cnvault.vault.azure.cn", 0) >= 1
    resources = [t.resource.removesuffix("/.default").rstrip("/") for t in kv.tokens()]
    assert resources == ["https://vault.azure.cn"]


def test_a_private_link_suffix_is_a_config_error_that_says_none_is_needed(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    # Real Key Vault answers a Private Link name's challenge for https://vault.azure.net, and
    # the SDK refuses to send a token for another domain; the test server does the same.
    kv.set_secret(VAULT, "db", VALUE)
    backend = make_backend(AVP_AZURE_VAULT_DNS_SUFFIX="privatelink.vaultcore.azure.net")

    error = _fails(lambda: backend.fetch(SecretRef(VAULT, "db")), ConfigError)
    text = error_text(error)
    assert f"{VAULT}.privatelink.vaultcore.azure.net" in str(error) and "db" in str(error)
    assert "'https://vault.azure.net'" in str(error)
    assert "AVP_AZURE_VAULT_DNS_SUFFIX is privatelink.vaultcore.azure.net" in str(error)
    assert "remove AVP_AZURE_VAULT_DNS_SUFFIX" in text
    assert "Private Link needs no suffix change" in text
    assert kv.token_requests() == 0 and kv.counts(VAULT, "get") == 0  # no token was sent
    assert secret_free(text, kv, VALUE)
    # The first request's failure is the vault's: a second fetch fails the same way.
    with pytest.raises(ConfigError, match="authentication challenge"):
        backend.fetch(SecretRef(VAULT, "other"))


@pytest.mark.parametrize(
    "path",
    [
        "myvault.vault.azure.net",
        "https://myvault.vault.azure.net",
        "https://MyVault.vault.azure.net/",
        "https://myvault.vault.azure.net:443",
    ],
)
def test_a_path_given_as_a_host_or_url(
    kv: KeyVaultServer, make_backend: BackendFactory, path: str
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    backend = make_backend(AVP_AZURE_VAULT_DNS_SUFFIX="vault.azure.cn")  # not used for hosts
    assert backend.validate(SecretRef(path, "db")) is None
    assert backend.fetch(SecretRef(path, "db")).reveal() == VALUE
    stats = kv.stats()
    assert stats.get("tunnel/myvault.vault.azure.net", 0) >= 1
    assert not [key for key in stats if key.startswith("tunnel/myvault.vault.azure.cn")]


def test_one_client_for_every_spelling_of_a_vault(
    kv: KeyVaultServer, make_backend: BackendFactory
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    backend = make_backend()
    for path in (
        "myvault",
        "MyVault",
        "myvault.vault.azure.net",
        "https://myvault.vault.azure.net/",
    ):
        assert backend.fetch(SecretRef(path, "db")).reveal() == VALUE
    assert kv.counts(VAULT, "challenge") == 1 and kv.token_requests() == 1


@pytest.mark.parametrize(
    "ref",
    [
        SecretRef("ab", "db"),
        SecretRef("my--vault", "db"),
        SecretRef("1vault", "db"),
        SecretRef("evil.example.com", "db"),
        SecretRef("https://127.0.0.1", "db"),
        SecretRef(f"https://{VAULT}.vault.azure.net/secrets/db", "db"),
        SecretRef(f"http://{VAULT}.vault.azure.net", "db"),
        SecretRef(VAULT, "db_password"),
        SecretRef(VAULT, "x" * 128),
        SecretRef(VAULT, "../keys/k"),
        SecretRef(VAULT, "db", "latest"),
        SecretRef(VAULT, "db", "1" * 31),
    ],
    ids=lambda ref: ref.describe()[:40],
)
def test_invalid_references_are_refused_without_a_request(
    kv: KeyVaultServer, make_backend: BackendFactory, ref: SecretRef
) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    backend = make_backend()
    problem = backend.validate(ref)
    assert problem
    with pytest.raises(PlaceholderError):
        backend.fetch(ref)  # even if the caller skipped validate()
    assert kv.connections() == 0 and kv.token_requests() == 0


def test_fetch_after_close_fails(kv: KeyVaultServer, make_backend: BackendFactory) -> None:
    kv.set_secret(VAULT, "db", VALUE)
    backend = make_backend()
    assert backend.fetch(SecretRef(VAULT, "db")).reveal() == VALUE
    backend.close()
    with pytest.raises(BackendError):
        backend.fetch(SecretRef(VAULT, "db"))


@pytest.mark.parametrize("choice", ["default", "workload", "managed", "environment", "cli"])
def test_every_credential_choice_builds_and_closes_offline(choice: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("header.payload.signature")
    options = AzureOptions.from_options(
        {
            "AVP_AZURE_CREDENTIAL": choice,
            "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000001",
            "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
            "AZURE_CLIENT_SECRET": "sentinel-client-secret",
            "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        }
    )
    credential = sdk.build_credential(options, Deadline(5.0, time.monotonic() + 5.0))
    assert hasattr(credential, "get_token")
    credential.close()  # type: ignore[attr-defined]
