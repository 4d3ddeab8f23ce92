"""The render server's wire format, descriptor passing and socket checks (no server)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from avp_py.server import protocol


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        yield left, right


def test_messages_survive_any_split() -> None:
    data = protocol.encode({"type": "render", "env": {"A": "é" * 3}}) + protocol.encode(
        {"type": "go"}
    )
    for cut in range(len(data) + 1):
        decoder = protocol.Decoder()
        messages = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert [m["type"] for m in messages] == ["render", "go"]
        assert not decoder.pending


def test_a_partial_message_is_pending() -> None:
    decoder = protocol.Decoder()
    assert decoder.feed(protocol.encode({"type": "go"})[:-1]) == []
    assert decoder.pending


@pytest.mark.parametrize(
    "body",
    [b"[1]", b'{"no": "type"}', b'{"type": 3}', b"\xff\xfe", b"{not json", b"[" * 200_000],
    ids=["list", "no-type", "type-not-a-string", "not-utf-8", "not-json", "nested-too-deeply"],
)
def test_a_message_that_is_not_an_object_with_a_type_is_refused(body: bytes) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.Decoder().feed(len(body).to_bytes(4, "big") + body)


def test_an_oversized_message_is_refused_before_it_is_buffered() -> None:
    with pytest.raises(protocol.ProtocolError, match="exceeds"):
        protocol.Decoder().feed((protocol.MAX_MESSAGE + 1).to_bytes(4, "big"))


def test_descriptors_travel_with_the_message(
    pair: tuple[socket.socket, socket.socket], tmp_path: Path
) -> None:
    left, right = pair
    target = tmp_path / "out.txt"
    with open(target, "wb") as handle:
        protocol.send(left, {"type": "render"}, (handle.fileno(),))
        decoder = protocol.Decoder()
        data, fds = protocol.receive(right, decoder, 4)
    assert decoder.feed(data) == [{"type": "render"}]
    [fd] = fds
    os.write(fd, b"written through the received descriptor")
    os.close(fd)
    assert target.read_bytes() == b"written through the received descriptor"


def test_more_descriptors_than_allowed_are_closed_and_refused(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    read, write = os.pipe()
    try:
        protocol.send(left, {"type": "status"}, (read, write))
        before = set(os.listdir("/proc/self/fd"))
        with pytest.raises(protocol.ProtocolError, match="descriptors"):
            protocol.receive(right, protocol.Decoder(), 1)
        assert set(os.listdir("/proc/self/fd")) <= before  # nothing received was kept
    finally:
        os.close(read)
        os.close(write)


def test_the_peer_is_this_uid(pair: tuple[socket.socket, socket.socket]) -> None:
    assert protocol.peer_uid(pair[0]) == os.geteuid()


def test_the_socket_path_comes_from_the_environment() -> None:
    assert protocol.socket_path({}, 999) == "/tmp/avp-py-999/server.sock"
    assert protocol.socket_path({"AVP_SERVER_SOCKET": "/run/x.sock"}, 999) == "/run/x.sock"
    assert protocol.socket_path({"AVP_SERVER_SOCKET": ""}, 999) is None


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[str]:
    directory = Path(os.path.realpath("/tmp")) / f"avp-proto-{os.getpid()}-{tmp_path.name[-8:]}"
    directory.mkdir(mode=0o700)
    path = str(directory / "server.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    try:
        yield path
    finally:
        sock.close()
        os.unlink(path)
        directory.rmdir()


def test_a_private_socket_passes(listening: str) -> None:
    assert protocol.socket_problem(listening, os.geteuid()) is None


def test_socket_problems_name_the_cause(listening: str, tmp_path: Path) -> None:
    uid = os.geteuid()
    assert protocol.socket_problem(str(tmp_path / "none.sock"), uid) == (
        f"no avp-py server socket at {tmp_path / 'none.sock'}"
    )
    (tmp_path / "file").write_text("")
    assert (
        protocol.socket_problem(str(tmp_path / "file"), uid)
        == f"{tmp_path / 'file'} is not a socket"
    )
    assert (
        protocol.socket_problem(listening, uid + 1)
        == f"{listening} is owned by uid {uid}, not {uid + 1}"
    )
    os.chmod(os.path.dirname(listening), 0o750)
    try:
        problem = protocol.socket_problem(listening, uid)
    finally:
        os.chmod(os.path.dirname(listening), 0o700)
    assert problem == f"{os.path.dirname(listening)} is open to other users (mode 0750)"
    assert "longer than 107 bytes" in str(protocol.socket_problem("/" + "x" * 120, uid))


def test_a_symlinked_directory_is_not_private(listening: str, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(os.path.dirname(listening))
    assert (
        protocol.private_directory_problem(str(link), os.geteuid()) == f"{link} is not a directory"
    )
