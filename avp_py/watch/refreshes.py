"""What the watcher remembers of the refreshes it asked for, and its file format. Pure.

After asking Argo CD to hard-refresh an Application the watcher notes when, and which version
each changed secret had then. Until a render of that Application is recorded after that
moment, the Application is not refreshed again for the same versions (issue 14, item 4: no
refresh storm while a render is pending, and a failing render is not retried in a loop); a
newer version of one of its secrets is a new change and asks again. The note lives in the
state directory, so that ``watch --once`` from cron behaves as the loop does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from avp_py.model import SecretRef
from avp_py.watch import records
from avp_py.watch.records import RecordError

SCHEMA = "avp-py/watch-refresh/v1"


@dataclass(frozen=True)
class Requested:
    """A hard refresh the watcher asked for: when, and the latest version(s) it was for."""

    application: str
    requested_at: float
    targets: Mapping[SecretRef, frozenset[str]] = field(default_factory=dict)


def to_json(requested: Requested) -> str:
    """The note's file text."""
    targets = [
        {"path": ref.path, "key": ref.key, "versions": sorted(versions)}
        for ref, versions in sorted(requested.targets.items())
    ]
    document = {
        "schema": SCHEMA,
        "application": requested.application,
        "requestedAt": requested.requested_at,
        "targets": targets,
    }
    return records.dump(document)


def from_json(text: str) -> Requested:
    """Parse a note; RecordError if it is not one."""
    document = records.load(text, SCHEMA)
    return Requested(
        records.text_field(document, "application", required=True),
        records.number_field(document, "requestedAt"),
        dict(_target(item) for item in records.list_field(document, "targets")),
    )


def _target(item: object) -> tuple[SecretRef, frozenset[str]]:
    if not isinstance(item, dict):
        raise RecordError("targets must hold objects")
    path = records.text_field(item, "path", required=True)
    key = records.text_field(item, "key", required=True)
    versions = records.list_field(item, "versions")
    if not all(isinstance(v, str) for v in versions):
        raise RecordError("targets[].versions must be a list of strings")
    return SecretRef(path, key), frozenset(str(v) for v in versions)
