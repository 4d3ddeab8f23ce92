"""The client's own check of its peer (SO_PEERCRED), with the uid it expects injected: a
socket file that is ours is not enough, the listening process must run as this uid too."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator

import pytest

from avp_py.server import client


@pytest.fixture
def listening() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="avp-client-", dir="/tmp")
    path = os.path.join(directory, "server.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen()
    try:
        yield path
    finally:
        sock.close()
        shutil.rmtree(directory)


def test_a_peer_of_this_uid_is_connected(listening: str) -> None:
    with client._connect(listening, os.geteuid()) as sock:
        assert sock.getpeername() == listening


def test_a_peer_of_another_uid_is_not_used(listening: str) -> None:
    uid = os.geteuid()
    with pytest.raises(client.Fallback) as refused:
        client._connect(listening, uid + 1)
    assert str(refused.value) == f"the process at {listening} runs as uid {uid}, not {uid + 1}"


def test_nothing_listening_is_a_stale_socket(listening: str) -> None:
    dead = os.path.join(os.path.dirname(listening), "dead.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(dead)
    sock.close()
    with pytest.raises(client.Fallback, match=r"nothing answers at .*dead\.sock .*stale socket"):
        client._connect(dead, os.geteuid())
