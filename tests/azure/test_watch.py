"""``avp-py watch`` end to end (issue 14): the installed console script, as the sidecar runs
it, against the Key Vault test server (real SDK, verified TLS, a real credential) and the Argo
CD test server (HTTPS, bearer token), with records written by real ``generate`` runs.

Every assertion is on what an operator or Argo CD sees: the hard-refresh requests Argo CD got,
the watcher's log lines and exit code, the state directory. Every log of every run is kept
and searched for the secret values and the Argo CD token at the end of each test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import pytest
import yaml

from tests.argocdserver import ArgoCdServer
from tests.kvserver import KeyVaultServer, eventually

from .conftest import Run, Runner, base_environment, console_script

pytestmark = pytest.mark.keyvault

VAULT = "myvault"
SHARED_V1 = "sentinel-shared-value-1-c0de"
SHARED_V2 = "sentinel-shared-value-2-beef"
OWN_VALUE = "sentinel-search-value-f00d"
VALUES = (SHARED_V1, SHARED_V2, OWN_VALUE)

WORKLOAD = """\
apiVersion: v1
kind: Secret
metadata:
  name: {app}-db
stringData:
  password: <path:myvault#shared-db>
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  annotations:
    avp.kubernetes.io/rollout-on-change: "true"
spec:
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec:
      containers:
        - name: app
          image: example/app
          envFrom: [{{secretRef: {{name: {app}-db}}}}]
"""
SEARCH = """\
apiVersion: v1
kind: Secret
metadata: {{name: search}}
stringData:
  key: <path:myvault#search-key>
"""
# ARGOCD_APP_NAME as Argo CD passes it -> (Argo CD's namespace, name, project)
APPS = {
    "orders": ("", "orders", "team-a"),
    "apps_payments": ("apps", "payments", "team-b"),  # an Application outside argocd
    "search": ("", "search", "team-a"),
}


class Bench:
    """The two servers, the state directory, and every log the test produced."""

    def __init__(
        self, kv: KeyVaultServer, argocd: ArgoCdServer, avp: Runner, tmp_path: Path
    ) -> None:
        self.kv = kv
        self.argocd = argocd
        self.avp = avp
        self.state = tmp_path / "state"
        self.logs: list[str] = []

    def render(self, app: str, manifest: str, **extra: str) -> Run:
        _, _, project = APPS[app]
        env: dict[str, str | None] = {
            **extra,
            "AVP_AZURE_CREDENTIAL": "managed",
            "AVP_WATCH_STATE_DIR": str(self.state),
            "ARGOCD_APP_NAME": app,
            "ARGOCD_APP_PROJECT_NAME": project,
            "ARGOCD_APP_NAMESPACE": "prod",  # the destination: never used to find the app
            "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example/gitops.git",
            "ARGOCD_APP_SOURCE_PATH": f"apps/{app}",
        }
        run = self.avp(manifest.format(app=app.rpartition("_")[2]), env=env)
        self.logs.append(run.stderr)  # stdout is the manifests: it holds the values
        assert run.code == 0, run.stderr
        return run

    def watch_env(self, **extra: str | None) -> dict[str, str | None]:
        return {
            "AVP_AZURE_CREDENTIAL": "managed",
            "AVP_WATCH_STATE_DIR": str(self.state),
            "AVP_TIMEOUT_SECONDS": "10",
            **self.argocd.client_env(),
            **extra,
        }

    def watch(self, expect: int = 0, **extra: str | None) -> Run:
        """``watch --once --verbose``; ``expect`` 5: a lookup or refresh request failed."""
        run = self.avp(args=("watch", "--once", "--verbose"), env=self.watch_env(**extra))
        self.logs.append(run.stdout + run.stderr)
        assert run.code == expect, run.stderr
        assert run.stdout == ""
        if expect == 5:  # the last line says so, for cron and CI
            last = run.stderr.splitlines()[-1]
            assert last.startswith("Error: ") and last.endswith("in this cycle (logged above)")
        else:
            assert "Error: " not in run.stderr
        return run

    def rotate(self, name: str, value: str) -> str:
        _next_second()  # Key Vault's "created" has a one-second resolution
        return self.kv.set_secret(VAULT, name, value)

    def refreshed(self) -> list[tuple[str, str]]:
        return sorted(self.argocd.hard_refreshes())

    def records(self) -> dict[str, dict[str, object]]:
        found = {}
        for path in self.state.glob("record-*.json"):
            record = json.loads(path.read_text(encoding="utf-8"))
            found[record["application"]] = record
        return found

    def assert_nothing_leaked(self) -> None:
        forbidden = [*VALUES, self.argocd.token]
        for text in self.logs:
            assert not [item for item in forbidden if item in text], text
        for path in self.state.iterdir() if self.state.exists() else ():
            text = path.read_text(encoding="utf-8")
            assert not [item for item in forbidden if item in text], path


def _next_second() -> None:
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.02)


@pytest.fixture
def argocd() -> Iterator[ArgoCdServer]:
    with ArgoCdServer() as server:
        for namespace, name, project in APPS.values():
            server.add_app(name, project=project, namespace=namespace)
        yield server
        assert server.errors == [], "\n".join(server.errors)


@pytest.fixture
def bench(kv: KeyVaultServer, argocd: ArgoCdServer, avp: Runner, tmp_path: Path) -> Iterator[Bench]:
    kv.set_secret(VAULT, "shared-db", SHARED_V1)
    kv.set_secret(VAULT, "search-key", OWN_VALUE)
    setup = Bench(kv, argocd, avp, tmp_path)
    yield setup
    setup.assert_nothing_leaked()


def _rendered_all(bench: Bench, **extra: str) -> dict[str, Run]:
    return {
        "orders": bench.render("orders", WORKLOAD, **extra),
        "apps_payments": bench.render("apps_payments", WORKLOAD, **extra),
        "search": bench.render("search", SEARCH, **extra),
    }


def _annotation(run: Run) -> str:
    for doc in yaml.safe_load_all(run.stdout):
        if doc and doc["kind"] == "Deployment":
            return str(
                doc["spec"]["template"]["metadata"]["annotations"][
                    "avp.kubernetes.io/secret-versions"
                ]
            )
    raise AssertionError("no Deployment")


def test_an_empty_state_directory_says_nothing_is_watched_yet(bench: Bench) -> None:
    run = bench.watch()  # a new pod: nothing rendered since it started
    assert f"no watch records in {bench.state} yet: nothing is watched until" in run.stderr
    _rendered_all(bench)
    assert "no watch records" not in bench.watch().stderr


def test_a_rotation_refreshes_exactly_the_applications_that_read_the_secret(bench: Bench) -> None:
    first = _rendered_all(bench)
    old = bench.kv.versions(VAULT, "shared-db")[-1]
    quiet = bench.watch()
    assert bench.refreshed() == []
    assert "0 refresh(es) due" in quiet.stderr

    new = bench.rotate("shared-db", SHARED_V2)
    rotated = bench.watch()
    # one hard refresh each for the two Applications that read the secret, the third none;
    # the one outside Argo CD's namespace is addressed with appNamespace, not its destination
    assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]
    requests = {r.application: r.query for r in bench.argocd.requests()}
    assert requests[("argocd", "orders")] == {"refresh": ["hard"], "project": ["team-a"]}
    assert requests[("apps", "payments")] == {
        "refresh": ["hard"],
        "project": ["team-b"],
        "appNamespace": ["apps"],
    }
    for app in ("orders", "apps_payments"):
        assert f"hard refresh of {app}: myvault#shared-db {old} -> {new}" in rotated.stderr
    assert "search" not in rotated.stderr.replace("search-key", "")

    # no render yet: the next cycle asks nothing more
    bench.watch()
    assert len(bench.argocd.hard_refreshes()) == 2

    # Argo CD re-renders orders: the record has the new version, the rollout annotation moved
    rerendered = bench.render("orders", WORKLOAD)
    assert bench.records()["orders"]["latest"] == [
        {"path": VAULT, "key": "shared-db", "version": new}
    ]
    assert _annotation(rerendered) != _annotation(first["orders"])
    settled = bench.watch()
    assert len(bench.argocd.hard_refreshes()) == 2
    assert "1 awaiting a render" in settled.stderr  # payments is still being rendered


def test_each_project_is_watched_with_its_own_identity(bench: Bench) -> None:
    """AVP_AZURE_IDENTITIES (issue 15 part 1): the renders of team-a and team-b read with
    their own identities; the watcher with the same mapping owns both projects' records and
    lists each secret with the identity of a project that reads it."""
    team_a, team_b = str(uuid.uuid4()), str(uuid.uuid4())
    mapping = f"team-a={team_a},team-b={team_b}"
    bench.kv.restrict(VAULT, [team_a, team_b])
    _rendered_all(bench, AVP_AZURE_IDENTITIES=mapping)
    assert {token.client_id for token in bench.kv.tokens()} == {team_a, team_b}
    issued = len(bench.kv.tokens())
    bench.rotate("shared-db", SHARED_V2)
    rotated = bench.watch(AVP_AZURE_IDENTITIES=mapping)
    assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]
    assert "of another identity" in rotated.stderr and "0 of another identity" in rotated.stderr
    assert {token.client_id for token in bench.kv.tokens()[issued:]} == {team_a, team_b}
    # Without the mapping the watcher is another identity: it leaves the records alone.
    other = bench.watch()
    assert "3 of another identity" in other.stderr
    assert len(bench.argocd.hard_refreshes()) == 2


def test_argo_cd_down_is_logged_and_retried_next_cycle(bench: Bench) -> None:
    _rendered_all(bench)
    bench.rotate("shared-db", SHARED_V2)
    bench.argocd.stop()
    down = bench.watch(expect=5)
    assert down.stderr.endswith(
        "Error: 2 hard refresh request(s) failed in this cycle (logged above)\n"
    )
    assert bench.refreshed() == []
    assert down.stderr.count("cannot reach Argo CD") == 2
    assert "connection refused" in down.stderr and "asking again next cycle" in down.stderr
    bench.argocd.start()
    bench.watch()
    assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]


def test_argo_cd_errors_slow_answers_and_a_wrong_token(bench: Bench) -> None:
    _rendered_all(bench)
    bench.rotate("shared-db", SHARED_V2)
    bench.argocd.fail_next(2, status=500)
    failed = bench.watch(expect=5)
    assert failed.stderr.count("HTTP 500: injected failure") == 2 and bench.refreshed() == []

    wrong = bench.watch(expect=5, ARGOCD_AUTH_TOKEN="not-the-token")
    assert "check ARGOCD_AUTH_TOKEN" in wrong.stderr and bench.refreshed() == []
    assert "not-the-token" not in wrong.stderr

    # Answers 6 s late, a 2 s timeout: room for a loaded machine to connect and send in time
    # (a connection not made within the timeout is "cannot reach", not sent)
    bench.argocd.latency = 6.0
    slow = bench.watch(AVP_WATCH_ARGOCD_TIMEOUT_SECONDS="2")
    assert "no answer within 2 s; Argo CD acts on it anyway" in slow.stderr
    bench.argocd.latency = 0.0
    # the server finishes the two slow answers
    assert eventually(lambda: len(bench.refreshed()) == 2, timeout=60)
    bench.watch()  # sent counts as asked: not again
    assert len(bench.refreshed()) == 2


def test_key_vault_throttling_is_honoured_then_logged(bench: Bench) -> None:
    _rendered_all(bench)
    bench.rotate("shared-db", SHARED_V2)
    bench.kv.reset_counters()
    # 429 with a Retry-After longer than the cycle's deadline: nothing can be looked up
    bench.kv.faults.throttle_after(0, count=None, retry_after=30)
    # refused by the deadline at once; 20 s leave room for a loaded machine to ask first
    throttled = bench.watch(expect=5, AVP_TIMEOUT_SECONDS="20")
    assert "could not be looked up, trying again next cycle" in throttled.stderr
    assert "Error: 2 watched secret(s) could not be looked up in this cycle" in throttled.stderr
    assert "HTTP 429" in throttled.stderr and bench.refreshed() == []
    # a short burst of 429s is waited out (Retry-After) within the same cycle
    bench.kv.clear_faults()
    bench.kv.faults.throttle_after(0, count=2, retry_after=1)
    bench.kv.reset_counters()
    bench.watch()
    assert bench.kv.status_count(429) == 2
    assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]
    # one listing per distinct secret; never a value read
    assert bench.kv.counts(VAULT, "list_versions") == 2 and bench.kv.counts(VAULT, "get") == 0


def test_a_damaged_record_is_removed_and_the_others_still_watched(bench: Bench) -> None:
    _rendered_all(bench)
    damaged = bench.state / "record-0000.json"
    damaged.write_text("{not json", encoding="utf-8")
    os.chmod(damaged, 0o600)
    bench.rotate("shared-db", SHARED_V2)
    run = bench.watch()
    assert f"damaged watch record {damaged}: not JSON; removed" in run.stderr
    assert not damaged.exists()
    assert len(bench.refreshed()) == 2


def test_records_of_a_deleted_application_age_out(bench: Bench) -> None:
    _rendered_all(bench)
    bench.argocd.delete_app("orders")
    bench.rotate("shared-db", SHARED_V2)
    run = bench.watch()
    assert "Application orders no longer exists in Argo CD (project team-a)" in run.stderr
    assert bench.refreshed() == [("apps", "payments")]
    assert "orders" not in bench.records()
    bench.watch()
    assert len(bench.argocd.requests()) == 2  # orders is never asked again


def test_old_records_expire(bench: Bench) -> None:
    _rendered_all(bench)
    for path in bench.state.glob("record-*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["renderedAt"] -= 200.0
        path.write_text(json.dumps(record), encoding="utf-8")
    run = bench.watch(AVP_WATCH_RECORD_MAX_AGE_SECONDS="100")
    assert "removed 3 watch record(s) older than" in run.stderr
    assert bench.records() == {}


def test_a_secret_deleted_in_key_vault_is_reported_not_refreshed(bench: Bench) -> None:
    _rendered_all(bench)
    bench.kv.delete_secret(VAULT, "shared-db")
    run = bench.watch()
    assert "watched secret myvault#shared-db is unusable (not found)" in run.stderr
    assert bench.refreshed() == []
    bench.kv.set_secret(VAULT, "search-key", "sentinel-search-value-f00d")  # same value
    bench.kv.set_enabled(VAULT, "search-key", False)
    run = bench.watch()
    assert "myvault#search-key is unusable (its latest version is disabled)" in run.stderr
    assert bench.refreshed() == []


def test_configuration_errors_stop_watch_once(bench: Bench, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("myvault: {shared-db: x}\n", encoding="utf-8")
    cases: Mapping[str, dict[str, str | None]] = {
        "ARGOCD_SERVER must be set": {"ARGOCD_SERVER": None},
        "ARGOCD_AUTH_TOKEN must be set": {"ARGOCD_AUTH_TOKEN": None},
        "AVP_WATCH_STATE_DIR must be set": {"AVP_WATCH_STATE_DIR": None},
        "for plain HTTP set AVP_WATCH_ARGOCD_PLAINTEXT=true": {"ARGOCD_SERVER": "http://x"},
        "AVP_TYPE=file cannot be watched": {"AVP_TYPE": "file", "AVP_FILE_PATH": str(secrets)},
        "AVP_WATCH_ARGOCD_CA_FILE: cannot load": {"AVP_WATCH_ARGOCD_CA_FILE": "/nonexistent"},
        "AVP_WATCH_INTERVAL_SECONDS must be": {"AVP_WATCH_INTERVAL_SECONDS": "0"},
    }
    for message, extra in cases.items():
        run = bench.avp(args=("watch", "--once"), env=bench.watch_env(**extra))
        bench.logs.append(run.stderr)
        assert run.code == 2, (message, run.stderr)
        assert run.stderr.startswith("Error: ") and message in run.stderr, run.stderr
        assert "Traceback" not in run.stderr


def _start_loop(
    bench: Bench, cwd: Path, stderr: IO[bytes], **extra: str | None
) -> subprocess.Popen[bytes]:
    """``avp-py watch --verbose`` (the loop, a cycle every second), its log into ``stderr``."""
    env = base_environment()
    env.update(bench.kv.client_env("managed"))
    env["AVP_TYPE"] = "azurekeyvault"
    for name, value in bench.watch_env(AVP_WATCH_INTERVAL_SECONDS="1", **extra).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.Popen(
        [console_script(), "watch", "--verbose"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )


def _stop(process: subprocess.Popen[bytes]) -> bytes:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return out


def test_the_loop_outlives_configuration_problems_and_recovers(
    bench: Bench, tmp_path: Path
) -> None:
    """Beside the render sidecars an exited watcher keeps the pod from being Ready: the loop
    logs one Error: line per cycle instead, and works as soon as the problem is fixed."""
    _rendered_all(bench)
    bench.rotate("shared-db", SHARED_V2)
    os.chmod(bench.state, 0o755)  # open to other users: refused
    log = tmp_path / "watch.log"

    def errors() -> list[str]:
        lines = log.read_text(encoding="utf-8").splitlines()
        return [line for line in lines if "avp-py watch: Error: AVP_WATCH_STATE_DIR" in line]

    with log.open("wb") as stderr:
        process = _start_loop(bench, tmp_path, stderr)
    try:
        assert eventually(lambda: len(errors()) >= 2, timeout=60), log.read_text()
        assert process.poll() is None, "the watcher exited"
        assert bench.refreshed() == []
        assert "is open to other users (mode 0755)" in errors()[0]
        assert "trying again in about 1 s" in errors()[0]
        os.chmod(bench.state, 0o700)
        assert eventually(lambda: len(bench.refreshed()) == 2, timeout=60), log.read_text()
    finally:
        out = _stop(process)
    bench.logs.append(log.read_text(encoding="utf-8"))
    assert process.returncode == 0 and out == b""
    assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]


def test_the_loop_without_a_token_stays_up(bench: Bench, tmp_path: Path) -> None:
    log = tmp_path / "watch.log"
    with log.open("wb") as stderr:
        process = _start_loop(bench, tmp_path, stderr, ARGOCD_AUTH_TOKEN=None)
    try:
        assert eventually(
            lambda: (
                log.read_text(encoding="utf-8").count("Error: ARGOCD_AUTH_TOKEN must be set") >= 2
            ),
            timeout=60,
        ), log.read_text()
        assert process.poll() is None, "the watcher exited"
    finally:
        out = _stop(process)
    text = log.read_text(encoding="utf-8")
    bench.logs.append(text)
    assert process.returncode == 0 and out == b""
    assert "Traceback" not in text


def test_the_loop_refreshes_within_an_interval_and_stops_on_sigterm(
    bench: Bench, tmp_path: Path
) -> None:
    _rendered_all(bench)
    log = tmp_path / "watch.log"

    def cycles() -> int:
        return log.read_text(encoding="utf-8").count("cycle: ")

    with log.open("wb") as stderr:
        process = _start_loop(bench, tmp_path, stderr)
    try:
        bench.rotate("shared-db", SHARED_V2)
        assert eventually(lambda: len(bench.refreshed()) >= 2, timeout=60), log.read_text()
        assert bench.refreshed() == [("apps", "payments"), ("argocd", "orders")]
        asked = "2 refresh(es) due, 2 asked"  # the summary of the cycle that asked
        assert eventually(lambda: asked in log.read_text(encoding="utf-8"), timeout=60)
        seen = cycles()
        # two more cycles (counted, not timed): still one request each
        assert eventually(lambda: cycles() >= seen + 2, timeout=60), log.read_text()
        assert len(bench.refreshed()) == 2
    finally:
        out = _stop(process)
    text = log.read_text(encoding="utf-8")
    bench.logs.append(text)
    assert process.returncode == 0, text
    assert out == b"" and text.count("cycle: ") >= 3
