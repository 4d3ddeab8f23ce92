"""The tenant policy through the real console script against the Key Vault test server.

``AVP_ALLOWED_VAULTS`` and ``AVP_SECRET_NAME_PATTERN`` are the operator's (sidecar environment);
``{app}``, ``{project}`` and ``{namespace}`` come from Argo CD's own ``ARGOCD_APP_*``. A
reference outside the policy fails the run naming the rule and the reference, and no request
is made at all: not for it, not for the allowed references beside it (the server counts every
TCP connection, token request and Key Vault call). An Application's ``ARGOCD_ENV_*`` can
neither set nor loosen the policy, nor forge the Application's identity.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.isolation import clean_environment
from tests.kvserver import KeyVaultServer

pytestmark = pytest.mark.keyvault

AVP = str(Path(sys.executable).parent / "avp-py")

# The sidecar's policy in most tests: team-a's vaults, secrets named `{app}-WORD` (a pattern
# that cannot let one app read another's: docs/security.md, issue 11 item 7).
SAFE = "^{app}-[A-Za-z0-9]+$"
POLICY = {"AVP_ALLOWED_VAULTS": "kv-team-*", "AVP_SECRET_NAME_PATTERN": SAFE}
APP = {
    "ARGOCD_APP_NAME": "web",
    "ARGOCD_APP_PROJECT_NAME": "team-a",
    "ARGOCD_APP_NAMESPACE": "prod",
}


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def details(self) -> list[str]:
        return [line.strip() for line in self.stderr.splitlines()[1:]]


@pytest.fixture(scope="module")
def kv() -> Iterator[KeyVaultServer]:
    with KeyVaultServer() as server:
        server.set_secret("kv-team-a", "web-db", "web-db-value")
        server.set_secret("kv-team-a", "api-db", "api-db-value")
        server.set_secret("kv-team-a", "wxb-db", "wxb-db-value")
        server.set_secret("kv-team-a", "team-a-prod-token", "project-namespace-value")
        server.set_secret("kv-other", "web-db", "other-team-value")
        yield server
        assert server.errors == [], "kvserver raised:\n" + "\n".join(server.errors)


Runner = Callable[[str, Mapping[str, "str | None"]], Run]


@pytest.fixture
def avp(kv: KeyVaultServer, tmp_path: Path) -> Iterator[Runner]:
    kv.reset_counters()

    def run(manifest: str, env: Mapping[str, str | None]) -> Run:
        child = clean_environment()
        child.update(kv.client_env("managed"))
        child.update(AVP_TYPE="azurekeyvault", AVP_AZURE_CREDENTIAL="managed")
        child["AVP_TIMEOUT_SECONDS"] = "20"
        for name, value in env.items():
            if value is None:
                child.pop(name, None)
            else:
                child[name] = value
        done = subprocess.run(
            [AVP, "generate", "-"],
            input=manifest.encode(),
            capture_output=True,
            env=child,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        return Run(done.returncode, done.stdout.decode(), done.stderr.decode())

    yield run


def untouched(kv: KeyVaultServer) -> None:
    """Not one connection, token request or Key Vault call reached the server."""
    assert kv.connections() == 0, kv.stats()
    assert kv.token_requests() == 0, kv.stats()
    assert kv.stats() == {}, kv.stats()


def secret(**string_data: str) -> str:
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: s", "stringData:"]
    lines += [f"  {key}: {value}" for key, value in string_data.items()]
    return "\n".join(lines) + "\n"


def refused(run: Run) -> None:
    assert run.code == 3, run.stderr
    assert run.stdout == ""
    assert run.stderr.startswith("Error: ")
    assert "nothing was fetched" in run.stderr.splitlines()[0]
    assert "Traceback" not in run.stderr


# ------------------------------------------------------------------------------ the baseline


def test_allowed_references_are_fetched(avp: Runner, kv: KeyVaultServer) -> None:
    run = avp(secret(a="<path:kv-team-a#web-db>"), {**POLICY, **APP})
    assert run.code == 0, run.stderr
    assert "a: web-db-value" in run.stdout
    assert kv.counts("kv-team-a", "get") == 1  # the server does count: zero below means zero


# ------------------------------------------------------------------------------ AVP_ALLOWED_VAULTS


def test_vault_outside_the_allow_list_is_refused_before_any_request(
    avp: Runner, kv: KeyVaultServer
) -> None:
    run = avp(
        secret(ok="<path:kv-team-a#web-db>", other="<path:kv-other#web-db>"), {**POLICY, **APP}
    )
    refused(run)
    assert run.details == [
        "<stdin> (document 1, line 1) Secret/s stringData.other: vault kv-other is not in"
        " AVP_ALLOWED_VAULTS (kv-team-*) (placeholder path:kv-other#web-db)"
    ]
    assert "other-team-value" not in run.stderr
    untouched(kv)


def test_host_and_url_forms_of_another_vault_are_refused(avp: Runner, kv: KeyVaultServer) -> None:
    manifest = secret(
        host="<path:kv-other.vault.azure.net#web-db>",
        url="<path:https://kv-other.vault.azure.net#web-db>",
        upper="<path:KV-OTHER#web-db>",
    )
    run = avp(manifest, {**POLICY, **APP})
    refused(run)
    assert len(run.details) == 3
    assert all("is not in AVP_ALLOWED_VAULTS (kv-team-*)" in line for line in run.details)
    untouched(kv)


def test_generic_placeholders_of_an_annotated_vault_are_refused(
    avp: Runner, kv: KeyVaultServer
) -> None:
    manifest = (
        "kind: Secret\nmetadata:\n  name: s\n  annotations:\n"
        "    avp.kubernetes.io/path: kv-other\nstringData:\n  a: <web-db>\n"
    )
    run = avp(manifest, {**POLICY, **APP})
    refused(run)
    assert "vault kv-other is not in AVP_ALLOWED_VAULTS" in run.stderr
    untouched(kv)


def test_base64_encoded_placeholders_are_refused(avp: Runner, kv: KeyVaultServer) -> None:
    hidden = base64.b64encode(b"password=<path:kv-other#web-db>").decode()
    run = avp(f"kind: Secret\nmetadata:\n  name: s\ndata:\n  a: {hidden}\n", {**POLICY, **APP})
    refused(run)
    assert "stringData" not in run.stderr and "data.a (base64-decoded)" in run.stderr
    assert "vault kv-other is not in AVP_ALLOWED_VAULTS" in run.stderr
    untouched(kv)


# ---------------------------------------------------------------------- AVP_SECRET_NAME_PATTERN


def test_name_pattern_uses_the_application_name(avp: Runner, kv: KeyVaultServer) -> None:
    run = avp(
        secret(mine="<path:kv-team-a#web-db>", theirs="<path:kv-team-a#api-db>"), {**POLICY, **APP}
    )
    refused(run)
    assert run.details == [
        "<stdin> (document 1, line 1) Secret/s stringData.theirs: secret name api-db does not"
        f" match AVP_SECRET_NAME_PATTERN {SAFE} (placeholder path:kv-team-a#api-db)"
    ]
    untouched(kv)

    run = avp(secret(mine="<path:kv-team-a#api-db>"), {**POLICY, **APP, "ARGOCD_APP_NAME": "api"})
    assert run.code == 0, run.stderr
    assert "mine: api-db-value" in run.stdout


def test_name_pattern_with_project_and_namespace(avp: Runner, kv: KeyVaultServer) -> None:
    # Two fields side by side can collide (project p + namespace a-x, project p-a + namespace
    # x): the sidecar warns on every run, and still enforces the pattern (issue 11, item 7).
    pattern = "^{project}-{namespace}-[A-Za-z0-9]+$"
    warning = f"avp-py: AVP_SECRET_NAME_PATTERN {pattern} lets one Application read another's"
    policy = {"AVP_SECRET_NAME_PATTERN": pattern}
    run = avp(secret(a="<path:kv-team-a#team-a-prod-token>"), {**policy, **APP})
    assert run.code == 0, run.stderr
    assert "a: project-namespace-value" in run.stdout
    assert run.stderr.startswith(warning) and run.stderr.count("\n") == 1, run.stderr

    kv.reset_counters()
    other = {**APP, "ARGOCD_APP_NAMESPACE": "staging"}
    run = avp(secret(a="<path:kv-team-a#team-a-prod-token>"), {**policy, **other})
    assert run.code == 3, run.stderr
    warned, error, *_ = run.stderr.splitlines()
    assert warned.startswith(warning)
    assert error.startswith("Error: ") and "nothing was fetched" in error
    assert f"does not match AVP_SECRET_NAME_PATTERN {pattern}" in run.stderr
    untouched(kv)


def test_application_fields_are_regex_escaped(avp: Runner, kv: KeyVaultServer) -> None:
    # An app named "w.b" must not read "wxb-db": its '.' is a dot, not "any character".
    run = avp(secret(a="<path:kv-team-a#wxb-db>"), {**POLICY, **APP, "ARGOCD_APP_NAME": "w.b"})
    refused(run)
    untouched(kv)


def test_pattern_needs_the_argo_cd_variable(avp: Runner, kv: KeyVaultServer) -> None:
    run = avp(secret(a="<path:kv-team-a#web-db>"), {**POLICY, "ARGOCD_APP_NAME": None})
    assert run.code == 2, run.stderr
    assert run.stdout == ""
    assert run.stderr == (
        "Error: AVP_SECRET_NAME_PATTERN uses {app} but ARGOCD_APP_NAME is not set\n"
    )
    untouched(kv)


# ------------------------------------------------------------------------------ ARGOCD_ENV_*


@pytest.mark.parametrize(
    ("sidecar", "per_app"),
    [
        # An Application cannot introduce a policy of its own choosing...
        ({}, {"ARGOCD_ENV_AVP_ALLOWED_VAULTS": "kv-team-*"}),
        # ...nor widen or replace the operator's.
        (POLICY, {"ARGOCD_ENV_AVP_ALLOWED_VAULTS": "*"}),
        (POLICY, {"ARGOCD_ENV_AVP_ALLOWED_VAULTS": "kv-team-*,kv-other"}),
        (POLICY, {"ARGOCD_ENV_AVP_SECRET_NAME_PATTERN": ".*"}),
        (POLICY, {"ARGOCD_ENV_avp_secret_name_pattern": ".*"}),
        (POLICY, {"ARGOCD_ENV_AVP_PATH_VALIDATION": ".*"}),
    ],
    ids=["set", "widen-vaults", "add-vault", "widen-pattern", "lower-case-key", "path-validation"],
)
def test_application_env_cannot_set_or_loosen_the_policy(
    avp: Runner, kv: KeyVaultServer, sidecar: dict[str, str], per_app: dict[str, str]
) -> None:
    run = avp(secret(a="<path:kv-other#web-db>"), {**sidecar, **APP, **per_app})
    assert run.code == 2, run.stderr
    assert run.stdout == ""
    (name,) = per_app
    key = name.removeprefix("ARGOCD_ENV_").upper()
    assert run.stderr.startswith(f"Error: {name}: an Application may not change {key};")
    untouched(kv)


def test_empty_application_values_do_not_unset_the_policy(avp: Runner, kv: KeyVaultServer) -> None:
    per_app = {"ARGOCD_ENV_AVP_ALLOWED_VAULTS": "", "ARGOCD_ENV_AVP_SECRET_NAME_PATTERN": ""}
    run = avp(secret(a="<path:kv-other#web-db>"), {**POLICY, **APP, **per_app})
    refused(run)
    assert "vault kv-other is not in AVP_ALLOWED_VAULTS" in run.stderr
    untouched(kv)


def test_repeating_the_sidecar_policy_is_accepted(avp: Runner, kv: KeyVaultServer) -> None:
    per_app = {f"ARGOCD_ENV_{key}": value for key, value in POLICY.items()}
    run = avp(secret(a="<path:kv-team-a#web-db>"), {**POLICY, **APP, **per_app})
    assert run.code == 0, run.stderr
    assert "a: web-db-value" in run.stdout


def test_application_cannot_forge_its_identity(avp: Runner, kv: KeyVaultServer) -> None:
    # plugin.env reaches the plugin as ARGOCD_ENV_*, parameters as PARAM_*: neither is
    # ARGOCD_APP_NAME, which only Argo CD sets.
    forged = {
        "ARGOCD_ENV_ARGOCD_APP_NAME": "api",
        "ARGOCD_ENV_APP_NAME": "api",
        "PARAM_ARGOCD_APP_NAME": "api",
    }
    run = avp(secret(a="<path:kv-team-a#api-db>"), {**POLICY, **APP, **forged})
    refused(run)
    assert f"secret name api-db does not match AVP_SECRET_NAME_PATTERN {SAFE}" in run.stderr
    untouched(kv)
