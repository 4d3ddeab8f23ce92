"""``avp_py.cli.stdout``: every byte written through a real pipe, or a StdoutError (issue 11)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from avp_py.cli import stdout
from avp_py.model import Deadline


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(fd)


def _stdout_on(fd: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sys.stdout`` on ``fd`` as an unbuffered run has it (a raw FileIO below), set inside
    the test: pytest's own capture sets ``sys.stdout`` again after the fixtures ran."""
    raw = io.FileIO(fd, "wb", closefd=False)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="utf-8", write_through=True))


def _drain(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 1 << 16):
        into.extend(chunk)


def test_every_byte_reaches_the_reader(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_end, write_end = pipe
    _stdout_on(write_end, monkeypatch)
    data = os.urandom(3 << 20)  # many pipe buffers: the kernel takes each write in parts
    received = bytearray()
    reader = threading.Thread(target=_drain, args=(read_end, received))
    reader.start()
    stdout.write_all(data, Deadline(60, time.monotonic() + 60))
    os.close(write_end)
    reader.join()
    assert bytes(received) == data


def test_a_reader_that_left_is_a_failure(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdout_on(pipe[1], monkeypatch)
    os.close(pipe[0])
    with pytest.raises(stdout.StdoutError, match="stdout was closed before all output"):
        stdout.write_all(b"x" * 100)


def test_a_reader_that_stops_reading_fails_at_the_deadline(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdout_on(pipe[1], monkeypatch)
    # Nobody reads: the pipe fills, and the write must give up when the run's time is up
    # instead of blocking past AVP_TIMEOUT_SECONDS.
    with pytest.raises(stdout.StdoutError, match="AVP_TIMEOUT_SECONDS"):
        stdout.write_all(b"x" * (4 << 20), Deadline(0.2, time.monotonic() + 0.2))


def test_a_closed_stdout_fails_and_the_guard_keeps_failing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(stdout.StdoutError, match="stdout is closed"):
        stdout.write_all(b"x")
    stdout.guard()
    with pytest.raises(stdout.StdoutError, match="stdout is closed"):
        print("help text")


def test_the_guard_turns_write_errors_into_stdout_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        monkeypatch.setattr(sys, "stdout", full)
        stdout.guard()
        guarded = sys.stdout
        assert guarded.encoding == full.encoding  # click writes through it, not around it
        with pytest.raises(stdout.StdoutError, match="No space left on device"):
            guarded.write("x" * 100_000)
            guarded.flush()
        monkeypatch.setattr(sys, "stdout", io.StringIO())  # nothing left to flush at exit
