"""Peers of another uid, for real (issue 13): the uid a process runs as is what SO_PEERCRED
reports, and both ends check it, not only the socket file's owner.

Making a process of another uid needs root (the suite runs as root in CI's container); the
same checks are unit-tested with an injected uid in tests/unit/server.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from avp_py.server import protocol
from tests.server.harness import ServerProcess, base_env, eventually, generate, running_server

OTHER_UID = 4242

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another uid")

SECRETS = "kv:\n  k: value-of-k-7f3a\n"
MANIFEST = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv#k>\n"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "secrets.yaml").write_text(SECRETS)
    (tmp_path / "app.yaml").write_bytes(MANIFEST)
    return tmp_path


def client_env(**extra: str) -> dict[str, str]:
    return base_env(**{"AVP_TYPE": "file", "AVP_FILE_PATH": "secrets.yaml", **extra})


def as_other_uid(body: Callable[[], int]) -> int:
    """Fork a child that switches to OTHER_UID and runs ``body``: the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(OTHER_UID, OTHER_UID, OTHER_UID)
            os.setresuid(OTHER_UID, OTHER_UID, OTHER_UID)
            code = body()
        except BaseException:  # noqa: BLE001 - the test reads it from the child's stderr
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.fixture
def impostor() -> Iterator[str]:
    """A socket path whose file and directory are ours and private, but whose listening
    process runs as another uid (SO_PEERCRED reports the credentials the listener had when
    it called listen())."""
    directory = Path(tempfile.mkdtemp(prefix="avp-uid-", dir="/tmp")) / "s"
    directory.mkdir(mode=0o700)
    path = str(directory / "server.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o600)
    ready_read, ready_write = os.pipe()
    done_read, done_write = os.pipe()

    def listen_until_done() -> int:
        sock.listen()
        os.write(ready_write, b"listening")
        os.read(done_read, 1)
        return 0

    pid = as_other_uid(listen_until_done)
    try:
        assert os.read(ready_read, 16) == b"listening"
        yield path
    finally:
        os.write(done_write, b"x")
        assert exit_code(pid) == 0
        sock.close()
        for fd in (ready_read, ready_write, done_read, done_write):
            os.close(fd)
        shutil.rmtree(directory.parent)


def test_a_server_running_as_another_uid_is_not_used(impostor: str, app: Path) -> None:
    env = client_env(AVP_SERVER_SOCKET=impostor)
    done = generate(["generate", "--verbose", "app.yaml"], env, cwd=app)
    assert done.returncode == 0 and b"a: value-of-k-7f3a" in done.stdout
    assert f"the process at {impostor} runs as uid {OTHER_UID}, not 0".encode() in done.stderr
    assert b"rendering in-process" in done.stderr


def test_the_server_closes_connections_of_another_uid(app: Path) -> None:
    with running_server(base_env()) as server:
        _open_to_everyone(server)
        try:

            def connect_and_read() -> int:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(30)
                    sock.connect(server.socket)  # the kernel lets it; the server must not
                    try:
                        protocol.send(sock, {"type": "status", "version": protocol.VERSION})
                        answer = sock.recv(1 << 16)
                    except (BrokenPipeError, ConnectionResetError):
                        answer = b""
                    return 7 if answer == b"" else 9

            assert exit_code(as_other_uid(connect_and_read)) == 7  # closed, no answer
        finally:
            _close_again(server)
        # The server is still there for its own uid.
        eventually(lambda: server.status()["served"] == 0)
        done = generate(
            ["generate", "--verbose", "app.yaml"], server.client_env(client_env()), cwd=app
        )
        assert b"rendered by the avp-py server" in done.stderr


def _open_to_everyone(server: ServerProcess) -> None:
    """What a server refuses to serve from, but a mistake (or an attacker's own directory)
    could produce: only the peer check stands between the other uid and the server."""
    for directory in (server.directory, os.path.dirname(server.socket)):
        os.chmod(directory, 0o711)
    os.chmod(server.socket, 0o666)


def _close_again(server: ServerProcess) -> None:
    os.chmod(server.socket, 0o600)
    for directory in (server.directory, os.path.dirname(server.socket)):
        os.chmod(directory, 0o700)
