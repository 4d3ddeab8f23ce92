"""The watch state directory (``AVP_WATCH_STATE_DIR``): render records and refresh notes.

Shared by the renders (every sidecar writes the records of what it rendered) and the watcher
(reads them, writes its refresh notes), all running as the same user. Like the cache
directory it is created 0700, or must already be a private directory of ours (never a symlink,
never another user's); every file is written 0600 under a temporary name and renamed into
place, so a reader never sees half a record. Files that are symlinks, not regular, too large
or not valid are skipped: a damaged record is removed with a warning (the next render writes
it again), never a reason to stop.

* ``record-<key>.json``: one render of one Application source (:mod:`avp_py.watch.records`);
* ``refresh-<digest>.json``: a hard refresh the watcher asked for (:mod:`avp_py.watch.refreshes`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from avp_py.backends.cache.files import StoreUnavailable, private_directory
from avp_py.watch import records, refreshes
from avp_py.watch.records import AppRecord, RecordError
from avp_py.watch.refreshes import Requested

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1 << 20
# A temporary file older than this was left by a render that was killed while writing.
STALE_TEMPORARY_SECONDS = 600.0
_RECORD, _REFRESH, _TEMPORARY = "record-", "refresh-", ".tmp-"
T = TypeVar("T")


class StateUnavailable(Exception):  # noqa: N818 - the name says what the caller sees
    """The state directory cannot be used (permissions, not ours); the message says why."""


@dataclass(frozen=True)
class Loaded:
    """The valid records of the directory, and the files that had to be skipped."""

    records: tuple[AppRecord, ...]
    problems: tuple[str, ...]


class StateDirectory:
    """One state directory; every method may be called from several processes at once."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def open(self) -> StateDirectory:
        """Create the directory (0700) or check that it is ours and private."""
        try:
            private_directory(self.path, "AVP_WATCH_STATE_DIR")
        except StoreUnavailable as exc:
            raise StateUnavailable(f"AVP_WATCH_STATE_DIR: {exc}") from None
        return self

    # -- records -------------------------------------------------------------------------------
    def write_record(self, record: AppRecord) -> None:
        """Replace the record of ``record``'s Application source, atomically."""
        self._write(f"{_RECORD}{record.key}.json", records.to_json(record))

    def remove_record(self, record: AppRecord) -> None:
        """Forget one record (an Application that no longer exists, or a record too old)."""
        self._remove(f"{_RECORD}{record.key}.json")

    def load_records(self) -> Loaded:
        """Every valid record; damaged ones are removed and reported by file name."""
        found, problems = self._load(_RECORD, records.from_json)
        return Loaded(tuple(found), tuple(problems))

    # -- refresh notes -------------------------------------------------------------------------
    def write_request(self, requested: Requested) -> None:
        """Note a hard refresh asked for (replaces the Application's previous note)."""
        self._write(_request_name(requested.application), refreshes.to_json(requested))

    def remove_request(self, application: str) -> None:
        """Forget the note of ``application``."""
        self._remove(_request_name(application))

    def load_requests(self) -> dict[str, Requested]:
        """The notes by Application name; damaged ones are removed (with a warning)."""
        found, problems = self._load(_REFRESH, refreshes.from_json)
        for problem in problems:
            log.warning("%s", problem)
        return {note.application: note for note in found}

    # -- files ---------------------------------------------------------------------------------
    def remove_stale_temporaries(self, now: float | None = None) -> None:
        """Delete temporary files left by a writer that was killed."""
        limit = (time.time() if now is None else now) - STALE_TEMPORARY_SECONDS
        for name in self._names(_TEMPORARY):
            with contextlib.suppress(OSError):
                if os.lstat(self.path / name).st_mtime < limit:
                    os.unlink(self.path / name)

    def _write(self, name: str, text: str) -> None:
        # mkstemp creates the file 0600 (O_EXCL, never through a symlink); rename is atomic.
        fd, temporary = tempfile.mkstemp(prefix=_TEMPORARY, suffix=".json", dir=self.path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, self.path / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path / name)

    def _names(self, prefix: str) -> Iterator[str]:
        try:
            names = sorted(os.listdir(self.path))
        except OSError as exc:
            raise StateUnavailable(f"cannot list {self.path}: {exc.strerror}") from exc
        return (name for name in names if name.startswith(prefix))

    def _load(self, prefix: str, parse: Callable[[str], T]) -> tuple[list[T], list[str]]:
        found: list[T] = []
        problems: list[str] = []
        for name in self._names(prefix):
            if not name.endswith(".json"):
                continue
            try:
                found.append(parse(self._read(name)))
            except (RecordError, OSError, UnicodeDecodeError) as exc:
                problems.append(f"{self.path / name}: {_reason(exc)}; removed")
                self._remove(name)
        return found, problems

    def _read(self, name: str) -> str:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(self.path / name, flags)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise RecordError("not a regular file")
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise RecordError(f"larger than {MAX_FILE_BYTES} bytes")
        return data.decode("utf-8")


def _request_name(application: str) -> str:
    digest = hashlib.sha256(application.encode("utf-8")).hexdigest()[:40]
    return f"{_REFRESH}{digest}.json"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return "a symlink" if exc.errno == errno.ELOOP else (exc.strerror or type(exc).__name__)
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(exc)
