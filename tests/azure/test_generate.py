"""``avp-py generate`` end to end: the installed console script, as Argo CD runs it, against the
Key Vault test server through the real SDK, a real credential and verified TLS.

Every assertion is on what a user or Argo CD sees (exit code, stdout, stderr lines) and on the
server's counters (what was requested), never on internals.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kvserver import KeyVaultServer

from .conftest import Run, Runner, secret_free

pytestmark = pytest.mark.keyvault

VAULT = "myvault"
PASSWORD = "sentinel-password-4d1e"
OLD_PASSWORD = "sentinel-old-password-a7b0"
API_KEY = "sentinel-api-key-77c3"
TOKEN = "sentinel-token-0b9f"
THIRD = "sentinel-third-5e21"
CONFIG = '{"user": "sentinel-user-c4a8", "port": 5432}'
SENTINELS = (PASSWORD, OLD_PASSWORD, API_KEY, TOKEN, THIRD, "sentinel-user-c4a8")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _documents(run: Run) -> dict[str, dict[str, Any]]:
    """Output documents by ``Kind/name``."""
    assert run.code == 0, run.stderr
    docs = [doc for doc in yaml.safe_load_all(run.stdout) if doc is not None]
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in docs}


def _assert_failed_closed(run: Run, code: int, kv: KeyVaultServer, *values: str) -> None:
    assert run.code == code, run.stderr
    assert run.stdout == ""
    # one Error: line, first unless --verbose logged before it
    assert [line for line in run.stderr.splitlines() if line.startswith("Error: ")], run.stderr
    assert run.stderr.startswith(("Error: ", "avp-py: ")), run.stderr
    assert secret_free(run.stderr, kv, *SENTINELS, *values), run.stderr


@pytest.fixture
def vault(kv: KeyVaultServer) -> dict[str, str]:
    """Secrets in three vaults; returns the versions that tests pin."""
    old = kv.set_secret(VAULT, "db-password", OLD_PASSWORD)
    new = kv.set_secret(VAULT, "db-password", PASSWORD)
    kv.set_secret(VAULT, "api-key", API_KEY)
    kv.set_secret(VAULT, "config", CONFIG)
    kv.set_secret("othervault", "token", TOKEN)
    kv.set_secret("thirdvault", "x", THIRD)
    return {"old": old, "new": new}


ALL_FORMS = """\
apiVersion: v1
kind: Secret
metadata:
  name: inline
type: Opaque
stringData:
  latest: <path:myvault#db-password>
  pinned: <path:myvault#db-password#{old}>
  host: <path:othervault.vault.azure.net#token>
  url: <path:https://thirdvault.vault.azure.net#x>
  user: <path:myvault#config | jsonPath {{.user}}>
  encoded: <path:myvault#api-key | base64encode>
  dsn: postgres://<path:myvault#config | jsonPath {{.user}}>:<path:myvault#db-password>@db/app
data:
  b64: {b64}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: generic
  annotations:
    avp.kubernetes.io/path: myvault
data:
  password: <db-password>
  key: <api-key>
  port: <config | jsonPath {{.port}}>
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pinned
  annotations:
    avp.kubernetes.io/path: myvault
    avp.kubernetes.io/secret-version: {old}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: OLD
          value: <db-password>
        - name: NEW
          value: <path:myvault#db-password>
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ignored
  annotations:
    avp.kubernetes.io/ignore: "true"
data:
  x: <path:myvault#never-fetched>
"""


def test_every_placeholder_form(kv: KeyVaultServer, avp: Runner, vault: dict[str, str]) -> None:
    manifest = ALL_FORMS.format(old=vault["old"], b64=_b64("<path:myvault#api-key>"))
    docs = _documents(avp(manifest))

    assert docs["Secret/inline"]["stringData"] == {
        "latest": PASSWORD,
        "pinned": OLD_PASSWORD,
        "host": TOKEN,
        "url": THIRD,
        "user": "sentinel-user-c4a8",
        "encoded": _b64(API_KEY),
        "dsn": f"postgres://sentinel-user-c4a8:{PASSWORD}@db/app",
    }
    assert docs["Secret/inline"]["data"] == {"b64": _b64(API_KEY)}
    assert docs["ConfigMap/generic"]["data"] == {
        "password": PASSWORD,
        "key": API_KEY,
        "port": "5432",
    }
    env = docs["Deployment/pinned"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "OLD", "value": OLD_PASSWORD}, {"name": "NEW", "value": PASSWORD}]
    assert docs["ConfigMap/ignored"]["data"] == {"x": "<path:myvault#never-fetched>"}
    # distinct references: myvault db-password (latest, pinned), config, api-key; one each in
    # othervault and thirdvault; nothing for the ignored document
    assert (kv.counts(VAULT, "get"), kv.counts(VAULT, "challenge")) == (4, 1)
    for other in ("othervault", "thirdvault"):
        assert (kv.counts(other, "get"), kv.counts(other, "challenge")) == (1, 1)
    assert kv.token_requests("managed") <= 3


def test_requests_equal_distinct_references_across_files_and_documents(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str], tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    document = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{file}-{n}
  annotations:
    avp.kubernetes.io/path: myvault
data:
  a: <db-password>
  b: <path:myvault#api-key> and again <path:myvault#api-key>
  c: <path:othervault#token>
  d: <db-password | base64encode>
"""
    for file in ("one", "two"):
        text = "---\n".join(document.format(file=file, n=n) for n in range(15))
        (app / f"{file}.yaml").write_text(text)

    docs = _documents(avp(args=("generate", str(app)), env={"AVP_MAX_CONCURRENCY": "8"}))

    assert len(docs) == 30
    assert all(doc["data"]["c"] == TOKEN for doc in docs.values())
    assert docs["ConfigMap/cm-two-14"]["data"]["b"] == f"{API_KEY} and again {API_KEY}"
    assert (kv.counts(VAULT, "get"), kv.counts("othervault", "get")) == (2, 1)
    assert (kv.counts(VAULT, "challenge"), kv.counts("othervault", "challenge")) == (1, 1)


def test_rotation_is_seen_by_the_next_run(kv: KeyVaultServer, avp: Runner) -> None:
    kv.set_secret(VAULT, "api-key", OLD_PASSWORD)
    manifest = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  k: <path:myvault#api-key>\n"
    first = _documents(avp(manifest, script="argocd-vault-plugin"))
    kv.set_secret(VAULT, "api-key", PASSWORD)
    second = _documents(avp(manifest, script="argocd-vault-plugin"))
    assert first["Secret/s"]["stringData"]["k"] == OLD_PASSWORD
    assert second["Secret/s"]["stringData"]["k"] == PASSWORD
    assert kv.counts(VAULT, "get") == 2


def test_credentials_from_a_config_file(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "avp.yaml"
    config.write_text(
        "AVP_AZURE_CREDENTIAL: environment\n"
        f"AZURE_TENANT_ID: {kv.tenant_id}\n"
        f"AZURE_CLIENT_ID: {kv.secret_client_id}\n"
        f"AZURE_CLIENT_SECRET: {kv.client_secret}\n"
        "AZURE_AUTHORITY_HOST: https://login.microsoftonline.com\n"
    )
    manifest = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  k: <path:myvault#api-key>\n"
    run = avp(manifest, args=("generate", "-c", str(config), "-"), credential="none")
    assert _documents(run)["Secret/s"]["stringData"]["k"] == API_KEY
    assert kv.token_requests("client_secret") == 1 and kv.token_requests() == 1


# -- missing values ---------------------------------------------------------------------------

MISSING = """\
apiVersion: v1
kind: Secret
metadata:
  name: s1
stringData:
  ok: <path:myvault#api-key>
  gone: <path:myvault#nope>
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    avp.kubernetes.io/path: myvault
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: OFF
          value: <switched-off>
        - name: KEY
          value: <api-key>
"""


def test_missing_and_disabled_secrets_are_reported_together(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str], tmp_path: Path
) -> None:
    kv.set_secret(VAULT, "switched-off", PASSWORD, enabled=False)
    (tmp_path / "app.yaml").write_text(MISSING)

    run = avp(args=("generate", "app.yaml"))

    _assert_failed_closed(run, 4, kv)
    lines = sorted(run.error_lines)
    assert len(lines) == 2, run.stderr
    gone, off = lines
    for part in (
        "app.yaml",
        "document 1",
        "Secret/s1",
        "stringData.gone",
        "myvault#nope",
        "not found",
    ):
        assert part in gone
    for part in (
        "app.yaml",
        "document 2",
        "Deployment/web",
        "spec.template.spec.containers[0].env[0].value",
        "myvault#switched-off",
        "disabled",
    ):
        assert part in off
    assert kv.counts(VAULT, "get") == 3


def test_remove_missing_drops_keys_of_missing_azure_secrets(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str]
) -> None:
    kv.set_secret(VAULT, "switched-off", PASSWORD, enabled=False)
    manifest = """\
apiVersion: v1
kind: Secret
metadata:
  name: s
  annotations:
    avp.kubernetes.io/path: myvault
    avp.kubernetes.io/remove-missing: "true"
stringData:
  keep: <api-key>
  absent: <nope>
  disabled: <switched-off>
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  annotations:
    avp.kubernetes.io/path: myvault
    avp.kubernetes.io/remove-missing: "true"
data:
  keep: <db-password>
  absent: <also-nope>
"""
    docs = _documents(avp(manifest))
    assert docs["Secret/s"]["stringData"] == {"keep": API_KEY}
    assert docs["ConfigMap/cm"]["data"] == {"keep": PASSWORD}


def test_invalid_references_fail_before_any_request(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str]
) -> None:
    manifest = (
        "kind: Secret\nmetadata:\n  name: s\nstringData:\n"
        "  a: <path:my--vault#db-password>\n"
        "  b: <path:myvault#db_password>\n"
        "  c: <path:evil.example.com#db-password>\n"
        "  d: <path:myvault#api-key>\n"
    )
    run = avp(manifest)
    _assert_failed_closed(run, 3, kv)
    assert len(run.error_lines) == 3
    assert kv.connections() == 0


# -- throttling, deadline and authentication --------------------------------------------------


def test_429_storm_is_resolved_within_the_timeout(kv: KeyVaultServer, avp: Runner) -> None:
    names = [f"s{i}" for i in range(10)]
    for name in names:
        kv.set_secret(VAULT, name, f"{PASSWORD}-{name}")
    kv.faults.throttle_after(2, count=8, retry_after=0.2)
    data = "\n".join(f"  {name}: <path:myvault#{name}>" for name in names)
    manifest = f"kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n{data}\n"

    run = avp(manifest, env={"AVP_TIMEOUT_SECONDS": "8"})

    docs = _documents(run)
    assert docs["ConfigMap/cm"]["data"] == {name: f"{PASSWORD}-{name}" for name in names}
    assert kv.status_count(429) == 8
    # every throttled GET sent again, once: the run ended by success, inside its deadline
    assert kv.counts(VAULT, "get") + kv.counts(VAULT, "challenge") == 10 + 1 + 8


def test_deadline_exhaustion_fails_closed_quickly(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str]
) -> None:
    # The vault answers after 8 s, the deadline is 2 s: a run that ends while its request is
    # still unanswered at the server did not wait for the answer (nor for a 15 s read timeout).
    kv.vault_faults(VAULT).latency = 8.0
    manifest = (
        "kind: Secret\nmetadata:\n  name: s\nstringData:\n"
        "  a: <path:myvault#db-password>\n  b: <path:myvault#api-key>\n"
    )
    run = avp(manifest, env={"AVP_TIMEOUT_SECONDS": "2"})
    _assert_failed_closed(run, 5, kv)
    assert "still pending" in run.stderr and "AVP_TIMEOUT_SECONDS" in run.stderr
    assert kv.in_flight(VAULT) == len(kv.spans(VAULT)) >= 1


MANIFEST = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  k: <path:myvault#db-password>\n"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("denied", "403"),
        ("expired", "401"),
        ("wrong-certificate", "certificate"),
        ("retry-after-beyond-deadline", "429"),
    ],
)
def test_backend_failures_fail_closed(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str], case: str, expected: str
) -> None:
    env = {}
    if case == "denied":
        kv.deny(VAULT, permissions=["get"])
        expected_too = kv.managed_client_id  # names the identity to grant access to
    elif case == "expired":
        kv.faults.reject_tokens_as_expired = True
        expected_too = "expired"
    elif case == "wrong-certificate":
        kv.faults.wrong_certificate(f"{VAULT}.vault.azure.net")
        expected_too = "REQUESTS_CA_BUNDLE"
    else:
        kv.faults.throttle_after(1, count=None, retry_after=30)  # the challenge passes
        env["AVP_TIMEOUT_SECONDS"] = "10"
        expected_too = "would start in 30 s"  # refused at once, not waited for

    run = avp(MANIFEST, args=("generate", "--verbose", "-"), env=env)

    _assert_failed_closed(run, 5, kv)
    error = next(line for line in run.stderr.splitlines() if line.startswith("Error: "))
    assert "db-password" in error and VAULT in error
    assert expected in error and expected_too in error
    # Nothing was retried: one connection to the vault, one challenge, at most one GET.
    assert kv.stats().get(f"tunnel/{VAULT}.vault.azure.net") == 1
    assert kv.counts(VAULT, "challenge") <= 1 and kv.counts(VAULT, "get") <= 1


@pytest.mark.parametrize(
    ("credential", "env", "fault", "expected"),
    [
        (
            "secret",
            {"AVP_AZURE_CREDENTIAL": "environment", "AZURE_CLIENT_SECRET": "sentinel-wrong-cs"},
            None,
            "AZURE_CLIENT_SECRET",
        ),
        ("managed", {"AVP_AZURE_CREDENTIAL": "managed"}, "token_down", "IDENTITY_ENDPOINT"),
        ("workload", {}, "token_down", "AZURE_FEDERATED_TOKEN_FILE"),
        ("none", {"AVP_TIMEOUT_SECONDS": "20"}, None, "AVP_AZURE_CREDENTIAL=workload"),
    ],
    ids=["wrong-client-secret", "managed-down", "workload-down", "no-identity"],
)
def test_auth_failure_says_what_to_set(
    kv: KeyVaultServer,
    avp: Runner,
    vault: dict[str, str],
    credential: Any,
    env: dict[str, str],
    fault: str | None,
    expected: str,
) -> None:
    if fault == "token_down":
        # The token endpoint answers 503 and asks to retry in 120 s: the retry is refused by
        # the deadline at once, however long the deadline is. So the deadline can leave 20 s
        # for start-up and the first token request on a loaded machine (a deadline reached
        # before them is "N secrets still pending", which does not say what to set).
        kv.faults.token_endpoint_down = True
        kv.faults.token_retry_after = 120
        env = {**env, "AVP_TIMEOUT_SECONDS": "20"}
    run = avp(MANIFEST, credential=credential, env=env)
    _assert_failed_closed(run, 5, kv, "sentinel-wrong-cs")
    assert expected in run.stderr
    first = run.stderr.splitlines()[0]
    assert "token" in first and "db-password" in first and VAULT in first
    if fault == "token_down":  # the deadline cut the retries (not azure-identity giving up)
        refused = "retrying the token request would start in 120 s, but only"
        assert refused in run.stderr and "left of the deadline (AVP_TIMEOUT_SECONDS)" in run.stderr
    assert kv.counts(VAULT, "get") == 0


def test_incomplete_credential_settings_are_a_config_error(kv: KeyVaultServer, avp: Runner) -> None:
    run = avp(MANIFEST, credential="none", env={"AVP_AZURE_CREDENTIAL": "workload"})
    _assert_failed_closed(run, 2, kv)
    assert "AZURE_FEDERATED_TOKEN_FILE" in run.stderr
    assert kv.connections() == 0


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("absent.jwt", "does not exist"),
        (".", "is a directory"),
        ("empty.jwt", "is empty"),
        ("a-file/token", "cannot be read"),  # ENOTDIR: what a wrong mount looks like too
    ],
    ids=["missing", "directory", "empty", "not-a-directory-on-the-way"],
)
def test_an_unusable_workload_token_file_is_a_config_error_at_start_up(
    kv: KeyVaultServer, avp: Runner, tmp_path: Path, name: str, problem: str
) -> None:
    (tmp_path / "empty.jwt").write_text("")
    (tmp_path / "a-file").write_text("x")
    token_file = str(tmp_path / name)
    env = {"AVP_AZURE_CREDENTIAL": "workload", "AZURE_FEDERATED_TOKEN_FILE": token_file}
    run = avp(MANIFEST, credential="workload", env=env)
    _assert_failed_closed(run, 2, kv)
    first = run.stderr.splitlines()[0]
    assert first.startswith(f"Error: AZURE_FEDERATED_TOKEN_FILE={token_file} {problem}"), first
    assert "azure.workload.identity/use" in run.stderr  # the fix
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert kv.connections() == 0


def test_a_private_link_dns_suffix_is_a_config_error_not_an_internal_one(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str]
) -> None:
    env = {"AVP_AZURE_VAULT_DNS_SUFFIX": "privatelink.vaultcore.azure.net"}
    run = avp(MANIFEST, env=env)
    _assert_failed_closed(run, 2, kv)
    first, *details = run.stderr.splitlines()
    assert first.startswith("Error: cannot read secret db-password in vault myvault: "), first
    assert "AVP_AZURE_VAULT_DNS_SUFFIX" in first and "https://vault.azure.net" in first
    assert len(details) == 1 and "Private Link needs no suffix change" in details[0]
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert kv.token_requests() == 0


def test_a_lone_surrogate_in_a_key_vault_value_decodes_to_u_fffd_as_in_go(
    kv: KeyVaultServer, avp: Runner
) -> None:
    # Key Vault's JSON may carry "\\ud800" (a lone UTF-16 surrogate escape). Python's JSON
    # decoder keeps it as a lone surrogate, which no UTF-8 encoder takes; Go's encoding/json
    # (AVP's SDK) decodes it to U+FFFD. Every modifier then sees the Go string.
    kv.set_secret(VAULT, "odd", "sentinel-a\ud800b")
    manifest = (
        "kind: Secret\nmetadata:\n  name: s\ndata:\n"
        "  b64: <path:myvault#odd | base64encode>\n"
        "stringData:\n"
        "  plain: <path:myvault#odd>\n"
        "  hash: <path:myvault#odd | sha256sum>\n"
    )
    run = avp(manifest)
    assert run.code == 0, run.stderr
    go_text = "sentinel-a\ufffdb"
    (body,) = [doc for doc in yaml.safe_load_all(run.stdout) if doc]
    assert body["data"]["b64"] == base64.b64encode(go_text.encode()).decode()
    assert body["stringData"]["plain"] == go_text
    assert body["stringData"]["hash"] == hashlib.sha256(go_text.encode()).hexdigest()
    assert run.stderr == ""


TWO_SECRETS = (
    "kind: Secret\nmetadata:\n  name: s\nstringData:\n"
    "  a: <path:myvault#db-password>\n  b: <path:myvault#api-key>\n"
)
_BACKEND_LINE = re.compile(
    r"avp-py: backend: (\d+) retries, (\d+) throttled \(HTTP 429\), (\d+) token requests;"
    r" cache: (\d+) hits, (\d+) misses$",
    re.M,
)


def _backend_counts(run: Run) -> dict[str, int]:
    found = _BACKEND_LINE.search(run.stderr)
    assert found is not None, run.stderr
    names = ("retries", "throttled", "token_requests", "cache_hits", "cache_misses")
    return dict(zip(names, map(int, found.groups()), strict=True))


def test_verbose_counts_retries_429s_token_requests_and_the_cache(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str], tmp_path: Path
) -> None:
    env = {"AVP_CACHE_DIR": str(tmp_path / "cache"), "AVP_CACHE_KEY": "k" * 32}
    # The challenge passes, then the GET is throttled twice before it is answered.
    kv.faults.throttle_after(1, count=2, retry_after=0.01)
    first = avp(TWO_SECRETS, args=("generate", "-", "--verbose"), env=env)
    assert first.code == 0, first.stderr
    assert kv.status_count(429) == 2 and kv.token_requests() == 1  # what really happened
    assert _backend_counts(first) == {
        "retries": 2,
        "throttled": 2,
        "token_requests": 1,
        "cache_hits": 0,
        "cache_misses": 2,
    }
    kv.clear_faults()
    kv.reset_counters()
    second = avp(TWO_SECRETS, args=("generate", "-", "--verbose"), env=env)
    assert second.code == 0, second.stderr
    assert kv.token_requests() == 0 and kv.counts(VAULT, "get") == 0
    assert _backend_counts(second) == {
        "retries": 0,
        "throttled": 0,
        "token_requests": 0,
        "cache_hits": 2,
        "cache_misses": 0,
    }
    # the summary still ends the output, and no value is in either run's diagnostics
    assert second.stderr.splitlines()[-1].endswith(" s")
    assert secret_free(first.stderr + second.stderr, kv, *SENTINELS)


def test_verbose_counts_a_5xx_retry_but_no_429(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str]
) -> None:
    kv.faults.fail_next(1, status=503)
    run = avp(MANIFEST, args=("generate", "-", "--verbose"))
    assert run.code == 0, run.stderr
    counts = _backend_counts(run)
    assert (counts["retries"], counts["throttled"]) == (1, 0)
    assert counts["token_requests"] == kv.token_requests() == 1


def test_no_value_in_stderr_when_values_break_modifiers(
    kv: KeyVaultServer, avp: Runner, vault: dict[str, str]
) -> None:
    bad = {
        "not-json": "sentinel-notjson-e5f1 {[",
        "not-yaml": "sentinel-notyaml-92ad: [unclosed\n  - x: {",
    }
    for name, value in bad.items():
        kv.set_secret(VAULT, name, value)
    manifest = """\
apiVersion: v1
kind: Secret
metadata:
  name: probe
  annotations:
    avp.kubernetes.io/path: myvault
stringData:
  ok: <api-key>
  pw: <path:myvault#db-password>
  gone: <nope>
  json: <not-json | jsonParse>
  yaml: <not-yaml | yamlParse>
  path: <not-json | jsonPath {.a}>
"""
    run = avp(manifest, args=("generate", "--verbose", "-"))

    fragments = [part for value in bad.values() for part in value.split() if len(part) > 3]
    _assert_failed_closed(run, 4, kv, *bad.values(), *fragments)
    assert len(run.error_lines) == 4, run.stderr
    assert "Traceback" not in run.stderr
