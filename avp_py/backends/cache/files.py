"""The cache's directory and files: private, ours, and never reached through a symlink.

``AVP_CACHE_DIR`` may be a path an attacker prepared (a shared ``/tmp``, a volume), so nothing
here follows a symlink or changes a directory avp-py did not create (issue 11, item 10): the
directory is created 0700 or must already be a private directory of ours (checked with
``lstat``), and the database files must be regular files (``lstat``; ``O_NOFOLLOW`` when their
mode is tightened).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILENAME = "avp-py-cache.sqlite3"
# SQLite's own files next to the database (WAL mode; the rollback journal if a tool used one).
FILES = (FILENAME, FILENAME + "-wal", FILENAME + "-shm", FILENAME + "-journal")


class StoreUnavailable(Exception):
    """The store cannot be used (permissions, corruption); the run goes on without it."""


def private_directory(directory: Path, setting: str = "AVP_CACHE_DIR") -> Path:
    """Create ``directory`` 0700, or accept an existing one only if it is ours and private;
    ``setting`` names the setting to change in the message."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass  # checked below, never changed
    except OSError as exc:
        raise StoreUnavailable(f"cannot create {directory}: {exc.strerror}") from exc
    try:
        info = os.lstat(directory)
    except OSError as exc:
        raise StoreUnavailable(f"cannot read {directory}: {exc.strerror}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise StoreUnavailable(f"{directory} is a symlink; refusing to follow it")
    if not stat.S_ISDIR(info.st_mode):
        raise StoreUnavailable(f"{directory} is not a directory")
    if info.st_uid != os.getuid():
        raise StoreUnavailable(f"{directory} belongs to another user")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise StoreUnavailable(
            f"{directory} is open to other users (mode {mode:04o}): make it 0700, or point"
            f" {setting} at a directory avp-py creates"
        )
    return directory


def check_files(directory: Path) -> None:
    """Refuse a database file that is a symlink or not a regular file (before SQLite opens it)."""
    for name in FILES:
        path = directory / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            raise StoreUnavailable(f"{path} is a symlink; refusing to follow it")
        if not stat.S_ISREG(info.st_mode):
            raise StoreUnavailable(f"{path} is not a regular file")


def restrict_files(directory: Path) -> None:
    """Make the database files 0600, through a descriptor that cannot follow a symlink."""
    for name in FILES:
        try:
            fd = os.open(
                directory / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            )
        except FileNotFoundError:
            continue
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
