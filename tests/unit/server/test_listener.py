"""The server's socket: private directory, 0600 socket, stale ones replaced, live ones kept."""

from __future__ import annotations

import os
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
