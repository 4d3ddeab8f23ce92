"""What a render records for ``avp-py watch``, and the record's file format. Pure.

After every successful ``generate`` with ``AVP_WATCH_STATE_DIR`` set and an Application name,
the command line writes one record (issue 14, item 1): the Application's name as Argo CD passes
it in ``ARGOCD_APP_NAME`` (``NAMESPACE_NAME`` for an Application outside Argo CD's namespace),
its AppProject (``ARGOCD_APP_PROJECT_NAME``), the source that was rendered, the backend
identity, and every reference resolved at "latest" with the version that was served. Never a
value: a version id is Key Vault metadata. Pinned references are not recorded, since they
cannot change.

A multi-source Application renders each source separately, with the same Application name, so
a record is keyed by Application *and* source: two renders never overwrite each other's
record, and the watcher refreshes the Application once whichever of its sources changed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from avp_py import backends
from avp_py.model import LatestVersion, SecretRef
from avp_py.settings.load import SECRET_SUFFIXES, is_secret_key

SCHEMA = "avp-py/watch-record/v1"


class RecordError(ValueError):
    """A record file is not a record of this format; the message says why (never its text)."""


@dataclass(frozen=True, slots=True)
class AppSource:
    """The Application source a render was for (``ARGOCD_APP_SOURCE_*``)."""

    repo_url: str = ""
    path: str = ""
    target_revision: str = ""


@dataclass(frozen=True, slots=True)
class Identity:
    """Which backend, with which non-secret settings (credential kind, client and tenant ids,
    cloud), read the secrets. A watcher configured otherwise cannot tell what such a render
    would be served, so it leaves that record alone. Credentials are never part of it."""

    backend: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AppRecord:
    """One render of one Application source."""

    application: str
    project: str
    source: AppSource
    identity: Identity
    rendered_at: float  # seconds since the epoch (time.time())
    latest: tuple[LatestVersion, ...] = field(default=())

    @property
    def key(self) -> str:
        """The record's stable name: the same Application source always has the same key."""
        return record_key(self.application, self.source)


def record_key(application: str, source: AppSource) -> str:
    """A file-name-safe digest of the Application name and its source."""
    text = json.dumps([application, source.repo_url, source.path, source.target_revision])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def identity_of(backend: str, options: Mapping[str, str]) -> Identity:
    """The backend identity ``options`` select (its registry entry says which settings make
    it, as for the cache's namespace), without any secret setting."""
    full = backends.entry(backend).identity(options)
    return Identity(full.backend, tuple(item for item in full.options if not _is_secret(item[0])))


def _is_secret(key: str) -> bool:
    # AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PASSWORD have secret suffixes too.
    return is_secret_key(key) or key.endswith(SECRET_SUFFIXES)


def to_json(record: AppRecord) -> str:
    """The record's file text."""
    document = {
        "schema": SCHEMA,
        "application": record.application,
        "project": record.project,
        "source": {
            "repoURL": record.source.repo_url,
            "path": record.source.path,
            "targetRevision": record.source.target_revision,
        },
        "identity": {"backend": record.identity.backend, "options": record.identity.options},
        "renderedAt": record.rendered_at,
        "latest": [
            {"path": item.ref.path, "key": item.ref.key, "version": item.version}
            for item in record.latest
        ],
    }
    return dump(document)


def dump(document: Mapping[str, object]) -> str:
    """A state file's text: indented, sorted JSON."""
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def load(text: str, schema: str) -> Mapping[str, object]:
    """The JSON object of a state file of ``schema``; RecordError (never quoting it) if not."""
    try:
        document = json.loads(text)
    except ValueError:
        raise RecordError("not JSON") from None
    except RecursionError:  # "[" * 100_000 fits in a state file; no record nests so deep
        raise RecordError("JSON nested too deeply") from None
    if not isinstance(document, dict) or document.get("schema") != schema:
        raise RecordError(f"not an {schema} document")
    return document


def from_json(text: str) -> AppRecord:
    """Parse a record file; RecordError for anything that is not a valid record."""
    document = load(text, SCHEMA)
    source = _mapping(document, "source")
    identity = _mapping(document, "identity")
    return AppRecord(
        application=text_field(document, "application", required=True),
        project=text_field(document, "project"),
        source=AppSource(
            text_field(source, "repoURL"),
            text_field(source, "path"),
            text_field(source, "targetRevision"),
        ),
        identity=Identity(text_field(identity, "backend", required=True), _options(identity)),
        rendered_at=number_field(document, "renderedAt"),
        latest=tuple(_latest(item) for item in list_field(document, "latest")),
    )


def _mapping(document: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise RecordError(f"{name} must be an object")
    return value


def list_field(document: Mapping[str, object], name: str) -> list[object]:
    value = document.get(name)
    if not isinstance(value, list):
        raise RecordError(f"{name} must be a list")
    return value


def text_field(document: Mapping[str, object], name: str, *, required: bool = False) -> str:
    value = document.get(name, "")
    if not isinstance(value, str) or (required and not value):
        raise RecordError(f"{name} must be a{' non-empty' if required else ''} string")
    return value


def number_field(document: Mapping[str, object], name: str) -> float:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{name} must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of 400 digits is JSON, but no float
        number = math.inf
    if not math.isfinite(number):  # also JSON's NaN and Infinity, which Python reads
        raise RecordError(f"{name} must be a finite number")
    return number


def _options(identity: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in list_field(identity, "options"):
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
        ):
            raise RecordError("identity.options must hold [name, value] string pairs")
        pairs.append((item[0], item[1]))
    return tuple(pairs)


def _latest(item: object) -> LatestVersion:
    if not isinstance(item, dict):
        raise RecordError("latest must hold objects")
    version = item.get("version")
    if version is not None and (not isinstance(version, str) or not version):
        raise RecordError("latest[].version must be a non-empty string or null")
    ref = SecretRef(text_field(item, "path", required=True), text_field(item, "key", required=True))
    return LatestVersion(ref, version)
