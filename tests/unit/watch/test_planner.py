"""The watcher's decisions (issue 14, item 4), pure: records + current versions -> refreshes."""

from __future__ import annotations

from collections.abc import Mapping

from avp_py.backends.base import VersionInfo
from avp_py.model import LatestVersion, SecretRef
from avp_py.watch.planner import Current, Observation, Unknown, current_of, plan
from avp_py.watch.records import AppRecord, AppSource, Identity
from avp_py.watch.refreshes import Requested

V1, V2, V3 = "1" * 32, "2" * 32, "3" * 32
SHARED, OWN, OTHER = SecretRef("kv", "shared"), SecretRef("kv", "own"), SecretRef("kv", "other")
NOW = 1_700_000_000.0
DAY = 86_400.0


def _record(
    application: str,
    served: Mapping[SecretRef, str | None],
    *,
    rendered_at: float = NOW - 600,
    path: str = "",
    project: str = "default",
) -> AppRecord:
    return AppRecord(
        application=application,
        project=project,
        source=AppSource("https://git.example/r.git", path or application, "HEAD"),
        identity=Identity("azurekeyvault"),
        rendered_at=rendered_at,
        latest=tuple(LatestVersion(ref, version) for ref, version in served.items()),
    )


def _now(*versions: str, enabled: bool | None = True) -> Current:
    return Current(frozenset(versions), enabled)


APPS = [
    _record("orders", {SHARED: V1, OWN: V1}),
    _record("payments", {SHARED: V1}),
    _record("search", {OTHER: V1}),
]


def test_only_the_applications_that_read_the_rotated_secret_are_refreshed() -> None:
    result = plan(APPS, {SHARED: _now(V2), OWN: _now(V1), OTHER: _now(V1)}, {}, NOW, 2 * DAY)
    assert [(r.application, [c.describe() for c in r.changes]) for r in result.refreshes] == [
        ("orders", [f"kv#shared {V1} -> {V2}"]),
        ("payments", [f"kv#shared {V1} -> {V2}"]),
    ]
    assert result.applications == 3 and result.unusable == {} and result.unknown == {}


def test_nothing_changed_nothing_is_refreshed() -> None:
    result = plan(APPS, {SHARED: _now(V1), OWN: _now(V1), OTHER: _now(V1)}, {}, NOW, 2 * DAY)
    assert result.refreshes == () and result.awaiting == ()


def test_an_application_is_refreshed_once_whatever_changed_in_how_many_sources() -> None:
    records = [
        _record("orders", {SHARED: V1, OWN: V1}, path="a", rendered_at=NOW - 100),
        _record("orders", {OWN: V1}, path="b", project="team-a", rendered_at=NOW - 50),
    ]
    result = plan(records, {SHARED: _now(V2), OWN: _now(V3)}, {}, NOW, 2 * DAY)
    (refresh,) = result.refreshes
    assert refresh.project == "team-a"  # the newest render's
    assert [c.ref for c in refresh.changes] == [OWN, SHARED]
    assert refresh.targets() == {OWN: frozenset({V3}), SHARED: frozenset({V2})}
    assert result.applications == 1


def test_asked_once_it_waits_for_a_render() -> None:
    asked = {"orders": Requested("orders", NOW - 120, {SHARED: frozenset({V2})})}
    result = plan(APPS[:2], {SHARED: _now(V2), OWN: _now(V1)}, asked, NOW, 2 * DAY)
    assert [r.application for r in result.refreshes] == ["payments"]
    assert result.awaiting == ("orders",) and result.settled == ()


def test_a_newer_version_while_waiting_asks_again() -> None:
    asked = {"orders": Requested("orders", NOW - 120, {SHARED: frozenset({V2})})}
    result = plan(APPS[:1], {SHARED: _now(V3), OWN: _now(V1)}, asked, NOW, 2 * DAY)
    assert [c.describe() for c in result.refreshes[0].changes] == [f"kv#shared {V1} -> {V3}"]


def test_another_secret_changing_while_waiting_asks_again() -> None:
    asked = {"orders": Requested("orders", NOW - 120, {SHARED: frozenset({V2})})}
    result = plan(APPS[:1], {SHARED: _now(V2), OWN: _now(V2)}, asked, NOW, 2 * DAY)
    assert [c.ref for c in result.refreshes[0].changes] == [OWN, SHARED]


def test_a_render_after_the_request_settles_it() -> None:
    asked = {"orders": Requested("orders", NOW - 700, {SHARED: frozenset({V2})})}
    current = {SHARED: _now(V2), OWN: _now(V1)}
    rendered = [_record("orders", {SHARED: V2, OWN: V1}, rendered_at=NOW - 600)]
    result = plan(rendered, current, asked, NOW, 2 * DAY)
    assert result.settled == ("orders",) and result.refreshes == () and result.awaiting == ()
    # rendered since, yet still behind (e.g. served from the cross-run cache): asked again
    stale = [_record("orders", {SHARED: V1, OWN: V1}, rendered_at=NOW - 600)]
    result = plan(stale, current, asked, NOW, 2 * DAY)
    assert result.settled == ("orders",) and [r.application for r in result.refreshes] == ["orders"]


def test_notes_of_applications_without_a_record_are_forgotten() -> None:
    asked = {"gone": Requested("gone", NOW - 100)}
    assert plan(APPS, {}, asked, NOW, 2 * DAY).settled == ("gone",)


def test_a_deleted_or_disabled_secret_is_reported_never_refreshed() -> None:
    current = {SHARED: _now(), OWN: _now(V2, enabled=False), OTHER: _now(V1, enabled=False)}
    result = plan(APPS, current, {}, NOW, 2 * DAY)
    assert result.refreshes == ()
    assert result.unusable == {
        SHARED: "not found",
        OWN: "its latest version is disabled",
        OTHER: "its latest version is disabled",  # the served version itself was revoked
    }


def test_a_secret_missing_at_render_time_that_now_exists_is_a_change() -> None:
    records = [_record("orders", {SHARED: None})]
    assert plan(records, {SHARED: _now()}, {}, NOW, 2 * DAY).refreshes == ()
    (refresh,) = plan(records, {SHARED: _now(V1)}, {}, NOW, 2 * DAY).refreshes
    assert refresh.changes[0].describe() == f"kv#shared (missing) -> {V1}"


def test_versions_created_in_the_same_second() -> None:
    records = [_record("orders", {SHARED: V1})]
    # the served version may be the latest: nothing to do
    assert plan(records, {SHARED: _now(V1, V2)}, {}, NOW, 2 * DAY).refreshes == ()
    # neither is the served one: behind, whichever is the latest
    (refresh,) = plan(records, {SHARED: _now(V2, V3)}, {}, NOW, 2 * DAY).refreshes
    assert refresh.changes[0].describe() == f"kv#shared {V1} -> {V2}|{V3}"
    # they disagree on enabled: cannot tell
    result = plan(records, {SHARED: _now(V2, V3, enabled=None)}, {}, NOW, 2 * DAY)
    assert result.refreshes == () and SHARED in result.unusable


def test_version_ids_compare_without_case() -> None:
    records = [_record("orders", {SHARED: "A" * 32})]
    result = plan(records, {SHARED: _now("a" * 32)}, {}, NOW, 2 * DAY)
    assert result.refreshes == ()


def test_a_failed_lookup_refreshes_nothing_for_that_secret() -> None:
    current: dict[SecretRef, Observation] = {SHARED: Unknown("throttled"), OWN: _now(V2)}
    result = plan(APPS[:2], current, {}, NOW, 2 * DAY)
    assert [(r.application, [c.ref for c in r.changes]) for r in result.refreshes] == [
        ("orders", [OWN])
    ]
    assert result.unknown == {SHARED: "throttled"}
    assert plan(APPS[:1], {}, {}, NOW, 2 * DAY).unknown == {
        SHARED: "not looked up",
        OWN: "not looked up",
    }


def test_records_older_than_the_maximum_age_expire() -> None:
    old = _record("retired", {SHARED: V1}, rendered_at=NOW - 3 * DAY)
    current = {SHARED: _now(V2), OWN: _now(V1), OTHER: _now(V1)}
    result = plan([*APPS, old], current, {}, NOW, 2 * DAY)
    assert result.expired == (old,)
    assert "retired" not in [r.application for r in result.refreshes]


def test_what_a_listing_says() -> None:
    assert current_of([]) == Current(frozenset(), True)
    listing = [
        VersionInfo(V1, True, 100.0),
        VersionInfo(V2.upper(), False, 200.0),
        VersionInfo(V3, True, 200.0),
    ]
    assert current_of(listing) == Current(frozenset({V2, V3}), None)
    assert current_of(listing[:1]) == Current(frozenset({V1}), True)
    assert isinstance(current_of([VersionInfo(V1, True, None)]), Unknown)
