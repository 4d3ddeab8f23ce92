"""The watch state directory: private, atomic, and damaged files never stop the watcher."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from avp_py.model import LatestVersion, SecretRef
from avp_py.watch.records import AppRecord, AppSource, Identity
from avp_py.watch.refreshes import Requested
from avp_py.watch.store import StateDirectory, StateUnavailable


def _record(application: str = "orders", version: str = "a" * 32) -> AppRecord:
    return AppRecord(
        application=application,
        project="default",
        source=AppSource("https://git.example/r.git", "apps/" + application, "HEAD"),
        identity=Identity("azurekeyvault"),
        rendered_at=1_700_000_000.0,
        latest=(LatestVersion(SecretRef("kv", "db"), version),),
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_the_directory_is_created_private_and_files_are_0600(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "watch").open()
    state.write_record(_record())
    assert _mode(tmp_path / "watch") == 0o700
    (written,) = (tmp_path / "watch").iterdir()
    assert written.name.startswith("record-") and _mode(written) == 0o600


def test_a_new_render_replaces_the_record_of_the_same_source(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "watch").open()
    state.write_record(_record(version="a" * 32))
    state.write_record(_record(version="b" * 32))
    state.write_record(_record("payments"))
    loaded = state.load_records()
    assert loaded.problems == ()
    versions = {r.application: r.latest[0].version for r in loaded.records}
    assert versions == {"orders": "b" * 32, "payments": "a" * 32}
    assert not [p for p in (tmp_path / "watch").iterdir() if p.name.startswith(".tmp-")]


def test_a_directory_open_to_others_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "watch"
    directory.mkdir(mode=0o777)
    os.chmod(directory, 0o777)
    with pytest.raises(StateUnavailable, match="AVP_WATCH_STATE_DIR: .* open to other users") as e:
        StateDirectory(directory).open()
    assert "point AVP_WATCH_STATE_DIR at a directory" in str(e.value)  # not AVP_CACHE_DIR


def test_a_symlinked_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "watch").symlink_to(tmp_path / "real")
    with pytest.raises(StateUnavailable, match="symlink"):
        StateDirectory(tmp_path / "watch").open()


def test_damaged_records_are_reported_by_name_and_removed(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "watch").open()
    state.write_record(_record())
    directory = tmp_path / "watch"
    (directory / "record-corrupt.json").write_text("sentinel-value {", encoding="utf-8")
    (directory / "record-binary.json").write_bytes(b"\xff\xfe")
    (directory / "record-big.json").write_bytes(b" " * ((1 << 20) + 1))
    (tmp_path / "elsewhere.json").write_text("{}", encoding="utf-8")
    (directory / "record-link.json").symlink_to(tmp_path / "elsewhere.json")
    loaded = state.load_records()
    assert [r.application for r in loaded.records] == ["orders"]
    assert sorted(p.split(": ", 1)[1] for p in loaded.problems) == [
        "a symlink; removed",
        "larger than 1048576 bytes; removed",
        "not JSON; removed",
        "not UTF-8 text; removed",
    ]
    assert all(str(directory) in p for p in loaded.problems)
    assert "sentinel" not in " ".join(loaded.problems)
    assert sorted(p.name for p in directory.iterdir()) == [f"record-{_record().key}.json"]
    assert (tmp_path / "elsewhere.json").exists()  # the link's target is never touched


def test_state_files_nested_too_deeply_are_removed_like_damaged_ones(tmp_path: Path) -> None:
    # Once a RecursionError out of every cycle: an internal error, and the file stayed.
    state = StateDirectory(tmp_path / "watch").open()
    (tmp_path / "watch" / "record-deep.json").write_text("[" * 200_000, encoding="utf-8")
    (tmp_path / "watch" / "refresh-deep.json").write_text("[" * 200_000, encoding="utf-8")
    assert [p.split(": ", 1)[1] for p in state.load_records().problems] == [
        "JSON nested too deeply; removed"
    ]
    assert state.load_requests() == {}
    assert list((tmp_path / "watch").iterdir()) == []


def test_refresh_notes_are_kept_per_application(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "watch").open()
    state.write_request(Requested("orders", 10.0, {SecretRef("kv", "db"): frozenset({"v2"})}))
    state.write_request(Requested("orders", 20.0))
    state.write_request(Requested("payments", 30.0))
    assert {k: v.requested_at for k, v in state.load_requests().items()} == {
        "orders": 20.0,
        "payments": 30.0,
    }
    state.remove_request("orders")
    assert list(state.load_requests()) == ["payments"]
    assert state.load_records().records == ()  # notes are not records


def test_temporaries_of_killed_writers_are_removed_when_old(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "watch").open()
    old = tmp_path / "watch" / ".tmp-old.json"
    new = tmp_path / "watch" / ".tmp-new.json"
    old.write_text("{", encoding="utf-8")
    new.write_text("{", encoding="utf-8")
    os.utime(old, (1_000.0, 1_000.0))
    state.remove_stale_temporaries()
    assert not old.exists() and new.exists()
