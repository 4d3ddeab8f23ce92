"""The server's socket: private directory, 0600 socket, stale ones replaced, live ones kept."""

from __future__ import annotations

import os
import select
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from avp_py.errors import ConfigError
from avp_py.server.listener import Listener


@pytest.fixture
def base() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="avp-listen-", dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_directory_0700_and_socket_0600(base: Path) -> None:
    os.umask(previous := os.umask(0))  # the process umask must not matter
    listener = Listener(str(base / "s" / "server.sock"))
    try:
        assert stat.S_IMODE(os.lstat(base / "s").st_mode) == 0o700
        info = os.lstat(base / "s" / "server.sock")
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
        assert sorted(os.listdir(base / "s")) == ["server.sock"]  # no temporary left behind
    finally:
        listener.close()
        os.umask(previous)
    assert not (base / "s" / "server.sock").exists()


def test_an_existing_directory_open_to_others_is_refused(base: Path) -> None:
    (base / "s").mkdir(mode=0o755)
    os.chmod(base / "s", 0o755)
    with pytest.raises(
        ConfigError, match=r"refusing to serve: .* is open to other users \(mode 0755\)"
    ):
        Listener(str(base / "s" / "server.sock"))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a directory of another uid")
def test_a_directory_of_another_uid_is_refused(base: Path) -> None:
    (base / "s").mkdir(mode=0o700)
    os.chown(base / "s", 4242, -1)
    with pytest.raises(ConfigError, match="owned by uid 4242"):
        Listener(str(base / "s" / "server.sock"))


def test_a_symlink_in_place_of_the_directory_is_refused(base: Path) -> None:
    (base / "elsewhere").mkdir(mode=0o700)
    (base / "s").symlink_to(base / "elsewhere")
    with pytest.raises(ConfigError, match="is not a directory"):
        Listener(str(base / "s" / "server.sock"))


def test_a_file_in_place_of_the_socket_is_refused(base: Path) -> None:
    (base / "s").mkdir(mode=0o700)
    (base / "s" / "server.sock").write_text("not a socket")
    with pytest.raises(ConfigError, match="exists and is not a socket"):
        Listener(str(base / "s" / "server.sock"))


def test_a_stale_socket_is_replaced(base: Path) -> None:
    (base / "s").mkdir(mode=0o700)
    path = str(base / "s" / "server.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays; nobody listens
    listener = Listener(path)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)  # the new one answers
    finally:
        listener.close()


def test_a_live_server_is_left_alone(base: Path) -> None:
    path = str(base / "s" / "server.sock")
    first = Listener(path)
    try:
        with pytest.raises(ConfigError, match="another avp-py server is already listening"):
            Listener(path)
        assert os.path.exists(path)
    finally:
        first.close()


def test_closing_does_not_remove_a_successors_socket(base: Path) -> None:
    path = str(base / "s" / "server.sock")
    first = Listener(path)
    first.sock.close()  # as if it had died
    second = Listener(path)
    try:
        first.close()  # the late cleanup of the first server
        assert os.path.exists(path)
    finally:
        second.close()


def _accepted(listener: Listener, path: str) -> tuple[socket.socket | None, bytes]:
    """Connect to ``listener``; what it accepted, and what the client then reads."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(path)
        select.select([listener.sock], [], [], 10)
        conn = listener.accept()
        if conn is not None:
            conn.sendall(b"hello")
        try:
            answer = client.recv(16)
        except ConnectionResetError:
            answer = b""
    return conn, answer


def test_a_peer_of_this_uid_is_accepted(base: Path) -> None:
    path = str(base / "s" / "server.sock")
    listener = Listener(path, peer_uid=os.geteuid())
    try:
        conn, answer = _accepted(listener, path)
        assert conn is not None and answer == b"hello"
        conn.close()
    finally:
        listener.close()


def test_a_peer_of_another_uid_is_closed_unanswered(base: Path) -> None:
    # SO_PEERCRED says the client runs as this uid; a listener that serves another uid (as a
    # server of that uid would) must close the connection without a word.
    path = str(base / "s" / "server.sock")
    listener = Listener(path, peer_uid=os.geteuid() + 1)
    try:
        conn, answer = _accepted(listener, path)
        assert conn is None and answer == b""
    finally:
        listener.close()
