"""The process's stdout: every byte written, or a reported failure, never a silent short write.

Argo CD takes whatever a plugin printed when it exits 0, so output that did not all arrive
must end in an ``Error:`` line and a non-zero exit (issue 11, items 1 and 4):

* :func:`write_all` writes to the file descriptor itself, in a loop, until every byte is out.
  ``sys.stdout.buffer`` is a raw ``FileIO`` when Python runs unbuffered (``PYTHONUNBUFFERED``,
  which the image sets), and its ``write()`` may return a short count; a pipe whose reader
  left may also take part of a write and then refuse the rest.
* :func:`guard` puts a :class:`GuardedStdout` in front of ``sys.stdout`` for what click
  prints (``--help``, ``version``, ``check``'s report): a write that fails raises
  :class:`StdoutError`, which click does not swallow (it silently exits 1 on EPIPE), and a
  stdout that was closed when the process started (``sys.stdout`` is None, Python's marker)
  fails instead of printing nothing with exit 0.
"""

from __future__ import annotations

import io
import os
import select
import sys
import time
from typing import Any, TextIO, cast

from avp_py.model import Deadline

CHUNK = 1 << 16  # one pipe buffer: between two chunks the deadline is looked at again
CLOSED = "stdout is closed: the output cannot be written"


class StdoutError(Exception):
    """stdout did not take the whole output; ``str()`` says why (never any of the output).

    Not an ``OSError``: click catches those around a command and exits 1 without a word.
    """


class GuardedStdout:
    """``sys.stdout`` as click sees it: the real stream, whose failures raise StdoutError.

    Every other attribute is the real stream's (``encoding``, ``errors``, ``buffer``): click
    keeps a text stream whose encoding it accepts, so it writes through this object.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    @property
    def stream(self) -> Any:
        """The real text stream (None when stdout was closed at start)."""
        return self._stream

    def write(self, text: str) -> int:
        stream = self._open()
        try:
            stream.write(text)
        except OSError as exc:
            raise _failure(exc) from None
        return len(text)

    def flush(self) -> None:
        if self._stream is None:
            return  # nothing was written to it
        try:
            self._stream.flush()
        except OSError as exc:
            raise _failure(exc) from None

    def fileno(self) -> int:
        fileno: int = self._open().fileno()
        return fileno

    def isatty(self) -> bool:
        return self._stream is not None and bool(self._stream.isatty())

    def __getattr__(self, name: str) -> Any:  # encoding, errors, buffer, ...: the real stream's
        return getattr(self._open(), name)

    def _open(self) -> Any:
        if self._stream is None:
            raise StdoutError(CLOSED)
        return self._stream


def guard() -> None:
    """Put a :class:`GuardedStdout` in front of ``sys.stdout`` (once)."""
    if not isinstance(sys.stdout, GuardedStdout):
        sys.stdout = cast(TextIO, GuardedStdout(sys.stdout))


def write_all(data: bytes, deadline: Deadline | None = None) -> None:
    """Write all of ``data`` to stdout within ``deadline``; StdoutError if it cannot."""
    current: Any = sys.stdout
    stream = current.stream if isinstance(current, GuardedStdout) else current
    if stream is None:
        raise StdoutError(CLOSED)
    try:
        stream.flush()  # anything printed before goes first
        fd = stream.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        # An in-memory stream (a library caller's, click's test runner): it takes every byte.
        stream.buffer.write(data)
        stream.flush()
        return
    except OSError as exc:
        raise _failure(exc) from None
    _write_fd(fd, data, deadline)


def _write_fd(fd: int, data: bytes, deadline: Deadline | None) -> None:
    view = memoryview(data)
    while view:
        _wait_writable(fd, deadline)
        try:
            written = os.write(fd, view[:CHUNK])
        except BlockingIOError:
            continue  # a non-blocking descriptor that filled up: wait for room again
        except OSError as exc:
            raise _failure(exc) from None
        if written <= 0:
            raise StdoutError("stdout took no more bytes: the output is incomplete")
        view = view[written:]


def _wait_writable(fd: int, deadline: Deadline | None) -> None:
    """Until ``fd`` can take bytes; StdoutError once the deadline passed (a reader that stopped
    reading must not hold the run beyond AVP_TIMEOUT_SECONDS)."""
    if deadline is None:
        return
    left = deadline.remaining(time.monotonic())
    if left > 0:
        _, ready, _ = select.select([], [fd], [], left)
        if ready:
            return
    raise StdoutError(
        f"the deadline of {deadline.seconds:g} s (AVP_TIMEOUT_SECONDS) passed while stdout"
        " was being written (its reader stopped reading): the output is incomplete"
    )


def _failure(exc: OSError) -> StdoutError:
    if isinstance(exc, BrokenPipeError):
        return StdoutError("stdout was closed before all output was written")
    reason = exc.strerror or type(exc).__name__
    return StdoutError(f"the output could not be written to stdout ({reason}): it is incomplete")


def discard_pending() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is still
    buffered cannot fail again (and print a traceback-like note) after the Error: line."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    if devnull != 1:  # 1 itself when stdout was closed and nothing else took it
        os.dup2(devnull, 1)
        os.close(devnull)
