"""The ``watch`` scenario: requests per cycle of ``avp-py watch`` (issue 14, "Done when").

200 Applications watching 500 distinct secrets (each Application reads 5; each secret is read
by 2), in 5 vaults of the Key Vault test server with the suite's injected latency, and the Argo
CD test server. The records are written with the library's own record format (what 200 renders
would leave; rendering them would take minutes), then the real ``avp-py watch --once`` runs
three cycles in a new process each: nothing changed; after 50 secrets were rotated; and again
without a render. The server's counters give the requests of each cycle.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from avp_py.model import LatestVersion, SecretRef
from avp_py.watch.records import AppRecord, AppSource, Identity
from avp_py.watch.store import StateDirectory
from bench.measure import BenchError, clean_env
from tests.argocdserver import ArgoCdServer
from tests.kvserver import KeyVaultServer

APPS = 200
SECRETS = 500
PER_APP = 5
VAULTS = 5
ROTATED = 50
CONCURRENCY = 16
LIMIT_PER_10S = 4_000  # Key Vault's transactions per vault per 10 s
_SUMMARY = re.compile(r"cycle: .*")


@dataclass(frozen=True)
class Cycle:
    """One ``watch --once`` run."""

    name: str
    wall: float
    key_vault: int  # Key Vault API requests (listings, challenges, anything else)
    listings: int
    gets: int  # value reads: must stay 0
    tokens: int
    argocd: int  # hard-refresh requests Argo CD received
    summary: str


@dataclass(frozen=True)
class WatchOutcome:
    cycles: tuple[Cycle, ...]
    affected: int  # Applications reading a rotated secret
    latency: float


def _secret(index: int) -> SecretRef:
    return SecretRef(f"kv-bench-{index % VAULTS}", f"secret-{index:03d}")


def _app_secrets(app: int) -> list[SecretRef]:
    # App a reads secrets 5a..5a+4 (mod 500): every secret is read by exactly two apps.
    return [_secret((app * PER_APP + k) % SECRETS) for k in range(PER_APP)]


def _seed(kv: KeyVaultServer, state: StateDirectory, argocd: ArgoCdServer) -> dict[str, str]:
    served = {}
    for index in range(SECRETS):
        ref = _secret(index)
        served[ref.key] = kv.set_secret(ref.path, ref.key, f"value-{index}")
    identity = Identity("azurekeyvault", (("AVP_AZURE_CREDENTIAL", "managed"),))
    now = time.time()
    for app in range(APPS):
        name = f"app-{app:03d}"
        argocd.add_app(name, project="bench")
        latest = tuple(LatestVersion(ref, served[ref.key]) for ref in _app_secrets(app))
        source = AppSource("https://git.example/bench.git", name, "HEAD")
        state.write_record(AppRecord(name, "bench", source, identity, now, latest))
    return served


def _cycle(name: str, kv: KeyVaultServer, argocd: ArgoCdServer, env: Mapping[str, str]) -> Cycle:
    kv.reset_counters()
    before = len(argocd.hard_refreshes())
    started = time.perf_counter()
    done = subprocess.run(
        [env["AVP_PY"], "watch", "--once", "--verbose"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"avp-py watch failed ({done.returncode}):\n{done.stderr}")
    stats = kv.stats()
    by_op: dict[str, int] = {}
    for key, value in stats.items():
        parts = key.split("/")
        if parts[0] == "vault" and len(parts) == 3:
            by_op[parts[2]] = by_op.get(parts[2], 0) + value
    found = _SUMMARY.search(done.stderr)
    return Cycle(
        name=name,
        wall=wall,
        key_vault=sum(by_op.values()),
        listings=by_op.get("list_versions", 0),
        gets=by_op.get("get", 0),
        tokens=sum(v for k, v in stats.items() if k.startswith("token/")),
        argocd=len(argocd.hard_refreshes()) - before,
        summary=found.group(0) if found else "",
    )


def _rotate(kv: KeyVaultServer) -> int:
    """New versions of every 10th secret; returns the Applications that read one."""
    second = int(time.time())
    while int(time.time()) == second:  # Key Vault's created time has one-second resolution
        time.sleep(0.02)
    rotated = {_secret(index) for index in range(0, SECRETS, SECRETS // ROTATED)}
    for ref in rotated:
        kv.set_secret(ref.path, ref.key, "rotated")
    return sum(1 for app in range(APPS) if rotated & set(_app_secrets(app)))


def run_watch(avp: Path, latency: float) -> WatchOutcome:
    """The three cycles (see the module docs)."""
    with (
        tempfile.TemporaryDirectory(prefix="avp-bench-watch-") as tmp,
        KeyVaultServer() as kv,
        ArgoCdServer() as argocd,
    ):
        kv.faults.latency = latency
        kv.faults.token_latency = latency
        state = StateDirectory(Path(tmp) / "state").open()
        _seed(kv, state, argocd)
        env = clean_env(
            {
                **kv.client_env("managed"),
                **argocd.client_env(),
                "AVP_PY": str(avp),
                "AVP_TYPE": "azurekeyvault",
                "AVP_AZURE_CREDENTIAL": "managed",
                "AVP_MAX_CONCURRENCY": str(CONCURRENCY),
                "AVP_WATCH_STATE_DIR": str(state.path),
            }
        )
        cycles = [_cycle("nothing changed", kv, argocd, env)]
        affected = _rotate(kv)
        cycles.append(_cycle(f"{ROTATED} secrets rotated", kv, argocd, env))
        cycles.append(_cycle("again, no render yet", kv, argocd, env))
        if kv.errors or argocd.errors:
            raise BenchError("a test server raised:\n" + "\n".join(kv.errors + argocd.errors))
    return WatchOutcome(tuple(cycles), affected, latency)


def watch_table(outcome: WatchOutcome) -> str:
    """The Markdown section of the report."""
    header = (
        f"{APPS} Applications watching {SECRETS} distinct secrets ({PER_APP} each, each read by"
        f" 2) in {VAULTS} vaults, {outcome.latency * 1000:g} ms per Key Vault request,"
        f" AVP_MAX_CONCURRENCY={CONCURRENCY}; `avp-py watch --once`, a new process per cycle."
        f" Rotating {ROTATED} secrets affects {outcome.affected} Applications.\n\n"
    )
    rows = [
        "| Cycle | Key Vault requests | of which listings | value reads | token requests"
        " | Argo CD hard refreshes | wall (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    rows.extend(
        f"| {cycle.name} | {cycle.key_vault} | {cycle.listings} | {cycle.gets} |"
        f" {cycle.tokens} | {cycle.argocd} | {cycle.wall:.2f} |"
        for cycle in outcome.cycles
    )
    budget = (
        f"\n\nKey Vault allows {LIMIT_PER_10S:,} requests per vault per 10 s; a cycle of"
        f" {APPS} Applications uses about {SECRETS // VAULTS} per vault, once per"
        " AVP_WATCH_INTERVAL_SECONDS (120 s).\n\n"
    )
    summaries = "\n".join(f"- {c.name}: `{c.summary}`" for c in outcome.cycles)
    return header + "\n".join(rows) + budget + "The watcher's own summaries:\n\n" + summaries
