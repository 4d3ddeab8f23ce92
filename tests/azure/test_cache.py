"""The cross-run cache in front of the real Azure backend: revocation and faults (issue 11).

The installed console script against the Key Vault test server through the real SDK; every
assertion is on what Argo CD sees (exit code, stdout, stderr) and on the server's counters.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.keyvault.secrets import SecretClient

from avp_py.backends.cache.files import FILENAME
from tests.kvserver import KeyVaultServer

from .conftest import ClientFactory, Runner

pytestmark = pytest.mark.keyvault

VAULT = "cachevault"
VALUE = "sentinel-pinned-value-3b7e"
CACHE_KEY = "a-cache-key-of-at-least-32-characters"


@pytest.fixture
def pinned(kv: KeyVaultServer) -> str:
    """A secret with one version; returns the version id."""
    return kv.set_secret(VAULT, "db", VALUE)


def _manifest(version: str) -> str:
    return f"kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:{VAULT}#db#{version}>\n"


def _cache_env(tmp_path: Path, **extra: str) -> dict[str, str | None]:
    return {"AVP_CACHE_DIR": str(tmp_path / "cache"), "AVP_CACHE_KEY": CACHE_KEY, **extra}


def test_a_disabled_pinned_version_stops_being_served_after_its_ttl(
    kv: KeyVaultServer, avp: Runner, make_client: ClientFactory, pinned: str, tmp_path: Path
) -> None:
    """Issue 11, item 9: disabling a version is how Key Vault revokes a leaked value."""
    manifest = _manifest(pinned)
    first = avp(manifest, env=_cache_env(tmp_path))
    assert first.code == 0, first.stderr
    assert VALUE in first.stdout
    assert kv.counts(VAULT, "get") == 1

    # Revoked through the SDK, as an operator would.
    client: SecretClient = make_client(VAULT)
    client.update_secret_properties("db", pinned, enabled=False)

    # Within AVP_CACHE_PINNED_TTL_SECONDS (600 s by default) the cached value is still served.
    within = avp(manifest, env=_cache_env(tmp_path))
    assert within.code == 0, within.stderr
    assert VALUE in within.stdout
    assert kv.counts(VAULT, "get") == 1

    # After it, the version is asked for again, and Key Vault says it is disabled.
    time.sleep(1.2)
    after = avp(manifest, env=_cache_env(tmp_path, AVP_CACHE_PINNED_TTL_SECONDS="1"))
    assert after.code == 4, after.stderr
    assert after.stdout == ""
    assert VALUE not in after.stderr
    assert f"{VAULT}#db#{pinned}" in after.stderr and "disabled" in after.stderr
    assert kv.counts(VAULT, "get") == 2


@pytest.fixture
def locked_cache(tmp_path: Path) -> Iterator[Path]:
    """A cache database whose lock another process holds (and keeps), exclusively."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    holder = sqlite3.connect(directory / FILENAME, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("CREATE TABLE IF NOT EXISTS held (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO held VALUES (1)")
    yield directory
    holder.close()


def test_a_locked_cache_waits_only_a_share_of_the_deadline(
    kv: KeyVaultServer, avp: Runner, pinned: str, tmp_path: Path, locked_cache: Path
) -> None:
    """Issue 11, item 10: the lock was waited for 10 s whatever AVP_TIMEOUT_SECONDS said, so
    the backend then had no time left and the run failed because of the cache."""
    env = _cache_env(tmp_path, AVP_TIMEOUT_SECONDS="4")
    run = avp(_manifest(pinned), env=env)
    assert run.code == 0, run.stderr
    assert VALUE in run.stdout
    assert "cache disabled" in run.stderr and "database is locked" in run.stderr
    assert not any(line.startswith("Error:") for line in run.stderr.splitlines())
    assert kv.counts(VAULT, "get") == 1


@pytest.mark.parametrize(
    "damage",
    [
        ("UPDATE meta SET value = 'text, not bytes' WHERE name = 'salt'",),
        (
            "CREATE TABLE m2 (name TEXT PRIMARY KEY, value BLOB)",
            "INSERT INTO m2 SELECT * FROM meta",
            "DROP TABLE meta",
            "ALTER TABLE m2 RENAME TO meta",
            "UPDATE meta SET value = NULL WHERE name = 'salt'",
        ),
    ],
    ids=["text-salt", "null-salt"],
)
def test_a_tampered_meta_row_never_fails_the_run(
    kv: KeyVaultServer, avp: Runner, pinned: str, tmp_path: Path, damage: tuple[str, ...]
) -> None:
    """Issue 11, item 10: a bad or NULL salt was an internal error (exit 1)."""
    manifest = _manifest(pinned)
    assert avp(manifest, env=_cache_env(tmp_path)).code == 0
    db = sqlite3.connect(tmp_path / "cache" / FILENAME)
    with db:
        for statement in damage:
            db.execute(statement)
    db.close()
    for expected_gets in (2, 2):  # refetched once, then cached again
        run = avp(manifest, env=_cache_env(tmp_path))
        assert run.code == 0, run.stderr
        assert VALUE in run.stdout
        assert kv.counts(VAULT, "get") == expected_gets
