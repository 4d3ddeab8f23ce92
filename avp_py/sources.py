"""Find and read the input files, and decode input bytes to text (§1.3).

AVP's rules: a file is read as is; a directory is walked recursively in byte-wise lexical
order, hidden directories included, symlinked directories not followed, and only names ending
exactly in ``.yaml``, ``.yml`` or ``.json`` are read. Unlike AVP, avp-py fails closed where AVP
silently skips (an unreadable directory) and refuses a symlink that leaves the walked tree,
because a repository could otherwise make the sidecar print its own files.
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from avp_py.errors import InputError, ManifestParseError

EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class Source:
    """The decoded text of one input (a file, or ``-`` for stdin)."""

    name: str
    text: str


def decode(name: str, data: bytes, max_bytes: int) -> Source:
    """Bytes → text: UTF-8 (a BOM is accepted), or UTF-16 with a BOM; nothing else."""
    if len(data) > max_bytes:
        raise too_large(name, max_bytes)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, data = "utf-16", data
    else:
        encoding, data = "utf-8", data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ManifestParseError(
            f"{name}: input is not {encoding.upper()} text (invalid byte at offset {exc.start});"
            " binary files cannot be manifests"
        ) from exc
    if "\x00" in text:
        raise ManifestParseError(
            f"{name}: input contains NUL characters; binary files cannot be manifests"
        )
    return Source(name, text)


def discover(root: str) -> list[str]:
    """The files ``generate ROOT`` reads, in AVP's order; an error if there are none."""
    if not os.path.isdir(root):
        # A single file is walked as itself, so its extension must match too; a missing
        # file is still "found", and reading it reports the error.
        return [root] if root.endswith(EXTENSIONS) else []
    found: list[str] = []
    _walk(Path(root), Path(root).resolve(), found)
    return found


def _walk(directory: Path, top: Path, found: list[str]) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: os.fsencode(entry.name))
    except OSError as exc:
        raise InputError(f"cannot list directory {directory}: {exc.strerror}") from exc
    for entry in entries:
        path = directory / entry.name
        if entry.is_dir(follow_symlinks=False):
            _walk(path, top, found)
        elif entry.name.endswith(EXTENSIONS):
            if entry.is_symlink() and not _inside(path, top):
                raise InputError(f"{path}: symlink points outside {top}; refusing to read it")
            found.append(os.path.normpath(path))


def _inside(path: Path, top: Path) -> bool:
    try:
        return path.resolve().is_relative_to(top)
    except OSError:
        return False


def read_file(path: str, max_bytes: int) -> Source:
    """Read one file, with a size limit checked before the whole file is in memory."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise too_large(path, max_bytes)  # refused without reading a byte
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"could not read file: {path} from disk: {exc.strerror}") from exc
    return decode(path, data, max_bytes)


def too_large(name: str, max_bytes: int) -> InputError:
    """The error for an input over ``AVP_MAX_INPUT_BYTES``."""
    return InputError(f"{name}: input is larger than {max_bytes} bytes (AVP_MAX_INPUT_BYTES)")
