"""Find and read the input files, and decode input bytes to text (§1.3).

AVP's rules: a file is read as is; a directory is walked recursively in byte-wise lexical
order, hidden directories included, symlinked directories not followed, and only names ending
exactly in ``.yaml``, ``.yml`` or ``.json`` are read. Unlike AVP, avp-py fails closed where AVP
silently skips (an unreadable directory) and refuses a symlink that leaves the walked tree,
because a repository could otherwise make the sidecar print its own files; it also refuses, as
input errors naming the path, a symlink loop, a walked file that is not a regular file (a FIFO
would block the run forever) and a tree deeper than :data:`MAX_TREE_DEPTH` (issue 11), and
a Helm chart's templates, which are no manifests until Helm renders them (issue 10 item 6).
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Iterator
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


MAX_TREE_DEPTH = 1000  # directory levels below the root (issue 11, item 5)


def discover(root: str) -> list[str]:
    """The files ``generate ROOT`` reads, in AVP's order; an error if there are none."""
    if not os.path.isdir(root):
        # A single file is walked as itself, so its extension must match too; a missing
        # file is still "found", and reading it reports the error.
        single = [root] if root.endswith(EXTENSIONS) else []
        refuse_chart_templates(single)
        return single
    top = Path(os.path.realpath(root))
    found: list[str] = []
    # Depth first, each directory in byte-wise order (filepath.Walk's order), with a stack
    # instead of recursion: a tree of any depth is an input error, never a RecursionError.
    stack = [_listing(Path(root))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if len(stack) > MAX_TREE_DEPTH:
                raise InputError(
                    f"{path}: the directory tree is deeper than {MAX_TREE_DEPTH} levels"
                )
            stack.append(_listing(path))
        elif entry.name.endswith(EXTENSIONS):
            _check_walked_file(entry, path, top)
            found.append(os.path.normpath(path))
    refuse_chart_templates(found)
    return found


HELM_PLUGIN = "argocd-vault-plugin-helm"  # metadata.name in plugin.yaml


def refuse_chart_templates(files: list[str]) -> None:
    """InputError if a file is a Helm chart's template (``templates/`` beside ``Chart.yaml``).

    A template is not a manifest until Helm renders it: read as YAML it fails on ``{{`` (or,
    worse, passes with the braces in it). The error says so and names the Helm plugin.
    """
    charts = sorted({chart for name in files if (chart := _chart_of_template(name))})
    if not charts:
        return
    first = charts[0]
    raise InputError(
        f"{first} is a Helm chart ({os.path.join(first, 'Chart.yaml')} and templates/): its"
        " templates are not manifests until Helm renders them; in Argo CD use the Helm plugin"
        f" {HELM_PLUGIN}, by hand run helm template {first} | avp-py generate -",
        [f"also a Helm chart: {chart}" for chart in charts[1:]],
    )


def _chart_of_template(name: str) -> str | None:
    """The chart directory if ``name`` lies under a chart's ``templates/`` directory."""
    path = Path(name)
    for parent in path.parents:
        if parent.name == "templates" and (parent.parent / "Chart.yaml").is_file():
            return str(parent.parent)
    return None


def _listing(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            listed = sorted(entries, key=lambda entry: os.fsencode(entry.name))
    except OSError as exc:
        raise InputError(f"cannot list directory {directory}: {exc.strerror}") from exc
    return iter(listed)


def _check_walked_file(entry: os.DirEntry[str], path: Path, top: Path) -> None:
    """Refuse what must not be read: a symlink leaving ``top`` or looping, a non-regular file.

    Opening a FIFO blocks until someone writes to it, and a device or socket is no manifest
    (issue 11, item 12): the type is read with lstat (scandir's), never by opening the file.
    """
    if entry.is_symlink():
        try:
            target = os.stat(path)  # follows the link: ELOOP for a loop
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InputError(f"{path}: symlink loop; refusing to read it") from exc
            raise InputError(f"could not read file: {path} from disk: {exc.strerror}") from exc
        if not Path(os.path.realpath(path)).is_relative_to(top):
            raise InputError(f"{path}: symlink points outside {top}; refusing to read it")
        mode = target.st_mode
    else:
        mode = entry.stat(follow_symlinks=False).st_mode
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file ({_file_type(mode)}); refusing to read it")


def _file_type(mode: int) -> str:
    for test, name in _FILE_TYPES:
        if test(mode):
            return name
    return "unknown type"


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def read_file(path: str, max_bytes: int, walked: bool = False) -> Source:
    """Read one file, with a size limit checked before the whole file is in memory.

    A ``walked`` file (found by :func:`discover` in a directory) must be a regular file; it is
    opened non-blocking, so a FIFO swapped in after the walk cannot hang the run either. A file
    named on the command line is read as is (a pipe too), like stdin.
    """
    flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_NONBLOCK if walked else 0)
    try:
        with os.fdopen(os.open(path, flags), "rb") as handle:
            info = os.fstat(handle.fileno())
            if walked and not stat.S_ISREG(info.st_mode):
                kind = _file_type(info.st_mode)
                raise InputError(f"{path}: not a regular file ({kind}); refusing to read it")
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise too_large(path, max_bytes)  # refused without reading a byte
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"could not read file: {path} from disk: {exc.strerror}") from exc
    return decode(path, data, max_bytes)


def too_large(name: str, max_bytes: int) -> InputError:
    """The error for an input over ``AVP_MAX_INPUT_BYTES``."""
    return InputError(f"{name}: input is larger than {max_bytes} bytes (AVP_MAX_INPUT_BYTES)")
