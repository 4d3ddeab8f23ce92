"""``avp-py serve`` end to end: real server process, real ``avp-py generate`` clients.

Each render through the server is compared with the same render in-process
(``AVP_SERVER_SOCKET=''``): stdout bytes, stderr and exit code (issue 13).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from avp_py.server import protocol
from tests.server.harness import (
    ServerProcess,
    alive,
    base_env,
    environ_of,
    eventually,
    generate,
    running_server,
    start_client,
    terminate,
)

SECRETS = "kv:\n  k: value-of-k-7f3a\n  other: value-of-other-91c2\n"
MANIFEST = (
    b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
    b"stringData:\n  a: <path:kv#k>\n  b: <path:kv#other>\n"
)
VALUES = ("value-of-k-7f3a", "value-of-other-91c2")
ROUTE_LINE = re.compile(
    rb"^avp-py: (rendered by the avp-py server at|rendering in-process).*\n", re.M
)
TIMING = re.compile(rb", \d+\.\d\d s$", re.M)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    # The server's own environment is deliberately different from every client's: a render
    # must see only its client's (AVP_TYPE here would make a client without one succeed).
    env = base_env(
        AVP_TYPE="file",
        AVP_FILE_PATH="/nonexistent/server-only.yaml",
        SERVER_ONLY_MARKER="from-the-server",
    )
    with running_server(env) as started:
        yield started


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "secrets.yaml").write_text(SECRETS)
    (tmp_path / "app.yaml").write_bytes(MANIFEST)
    return tmp_path


def client_env(**extra: str) -> dict[str, str]:
    return base_env(**{"AVP_TYPE": "file", "AVP_FILE_PATH": "secrets.yaml", **extra})


def both_ways(
    server: ServerProcess, args: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b""
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """(through the server, in-process), after checking they agree."""
    served = generate(args, server.client_env(env), stdin=stdin, cwd=cwd)
    local = generate(args, {**env, "AVP_SERVER_SOCKET": ""}, stdin=stdin, cwd=cwd)
    assert served.returncode == local.returncode, (served.stderr, local.stderr)
    assert served.stdout == local.stdout
    assert normalised(served.stderr) == normalised(local.stderr)
    return served, local


def normalised(stderr: bytes) -> bytes:
    """stderr without the --verbose route line and the run's duration."""
    return TIMING.sub(b", N s", ROUTE_LINE.sub(b"", stderr))


def test_a_render_through_the_server_is_the_in_process_render(
    server: ServerProcess, app: Path
) -> None:
    served, _ = both_ways(server, ["generate", "--verbose", "app.yaml"], client_env(), app)
    assert served.returncode == 0
    assert b"a: value-of-k-7f3a" in served.stdout
    assert b"avp-py: rendered by the avp-py server at " + server.socket.encode() in served.stderr


def test_stdin_reaches_the_render(server: ServerProcess, app: Path) -> None:
    served, _ = both_ways(server, ["generate", "-"], client_env(), app, MANIFEST)
    assert b"b: value-of-other-91c2" in served.stdout


@pytest.mark.parametrize(
    ("args", "extra", "code"),
    [
        (["generate", "missing.yaml"], {}, 3),
        (["generate"], {}, 2),
        (["generate", "app.yaml"], {"AVP_FILE_PATH": "absent.yaml"}, 2),
        (["generate", "-"], {}, 3),  # empty stdin: an empty render is refused
        (["generate", "app.yaml", "--bogus-flag"], {}, 2),
    ],
)
def test_failures_and_exit_codes_are_the_same(
    server: ServerProcess, app: Path, args: list[str], extra: dict[str, str], code: int
) -> None:
    served, _ = both_ways(server, args, client_env(**extra), app)
    assert served.returncode == code
    assert served.stdout == b""


def test_an_unresolved_placeholder_fails_the_same(server: ServerProcess, app: Path) -> None:
    (app / "bad.yaml").write_bytes(MANIFEST.replace(b"kv#other", b"kv#absent"))
    served, _ = both_ways(server, ["generate", "bad.yaml"], client_env(), app)
    assert served.returncode == 4
    assert b"Error:" in served.stderr


def test_the_working_directory_is_the_clients(server: ServerProcess, app: Path) -> None:
    # AVP_FILE_PATH is relative: only the client's working directory finds it.
    (app / "sub").mkdir()
    (app / "sub" / "secrets.yaml").write_text("kv:\n  k: from-sub\n  other: o\n")
    (app / "sub" / "app.yaml").write_bytes(MANIFEST)
    served, _ = both_ways(server, ["generate", "app.yaml"], client_env(), app / "sub")
    assert b"a: from-sub" in served.stdout


def test_the_servers_environment_never_reaches_a_render(server: ServerProcess, app: Path) -> None:
    assert environ_of(server.process.pid)["SERVER_ONLY_MARKER"] == "from-the-server"
    env = base_env()  # no AVP_TYPE: the server has one, the render must not see it
    served, _ = both_ways(server, ["generate", "app.yaml"], env, app)
    assert served.returncode == 2
    assert b"supported Vault Type, received  (" in served.stderr


def test_per_application_restrictions_hold(server: ServerProcess, app: Path) -> None:
    # D5: an Application may not choose the backend (ARGOCD_ENV_AVP_TYPE).
    env = client_env(ARGOCD_ENV_AVP_TYPE="vault")
    served, _ = both_ways(server, ["generate", "app.yaml"], env, app)
    assert served.returncode == 2
    assert b"ARGOCD_ENV_AVP_TYPE" in served.stderr


def test_text_streams_encode_as_the_clients_interpreter(server: ServerProcess, app: Path) -> None:
    (app / "bad.yaml").write_text(
        "kind: Secret\nmetadata:\n  name: ßé\nstringData:\n  a: <path:kv#nein-ü>\n"
    )
    for encoding in ("utf-8", "ascii:backslashreplace", "latin-1"):
        env = client_env(PYTHONIOENCODING=encoding)
        served, _ = both_ways(server, ["generate", "bad.yaml"], env, app)
        assert served.returncode != 0


def test_the_server_logs_one_line_per_render_and_no_value(server: ServerProcess, app: Path) -> None:
    env = client_env(ARGOCD_APP_NAME="shop-prod")
    generate(["generate", "--verbose", "app.yaml"], server.client_env(env), cwd=app)
    generate(["generate", "--verbose", "-"], server.client_env(env), cwd=app, stdin=MANIFEST)
    log = eventually(lambda: server.log() if server.log().count("app shop-prod:") >= 2 else "")
    assert re.search(r"render pid \d+ app shop-prod: exit 0, \d+\.\d+ s", log)
    assert not any(value in log for value in VALUES)
    status = server.status()
    assert not any(value in repr(status) for value in VALUES)


def test_the_log_shows_only_name_characters_of_the_app(server: ServerProcess, app: Path) -> None:
    env = client_env(ARGOCD_APP_NAME="evil\nforged line: exit 0")
    generate(["generate", "app.yaml"], server.client_env(env), cwd=app)
    log = eventually(
        lambda: server.log() if "app evil?forged?line:?exit?0:" in server.log() else ""
    )
    assert "\nforged line" not in log


def test_status_counts_renders(server: ServerProcess, app: Path) -> None:
    before = server.status()
    generate(["generate", "app.yaml"], server.client_env(client_env()), cwd=app)
    generate(["generate", "missing.yaml"], server.client_env(client_env()), cwd=app)
    after = eventually(lambda: (s := server.status())["served"] >= before["served"] + 2 and s)
    assert after["failed"] >= before["failed"] + 1
    assert after["pid"] == server.process.pid
    printed = generate(["serve", "--status"], server.client_env(base_env()))
    assert printed.returncode == 0
    assert f"pid: {server.process.pid}\n".encode() in printed.stdout
    assert b"served: " in printed.stdout


def test_status_without_a_server_fails(tmp_path: Path) -> None:
    done = generate(["serve", "--status"], base_env(AVP_SERVER_SOCKET=str(tmp_path / "none.sock")))
    assert done.returncode == 1
    assert done.stderr.startswith(b"Error: no avp-py server answers at ")


# -- fallback ---------------------------------------------------------------------------------
def route_line(stderr: bytes) -> str:
    match = ROUTE_LINE.search(stderr)
    assert match, stderr
    return match.group(0).decode()


def test_no_socket_renders_in_process(app: Path, tmp_path: Path) -> None:
    env = client_env(AVP_SERVER_SOCKET=str(tmp_path / "absent" / "server.sock"))
    done = generate(["generate", "--verbose", "app.yaml"], env, cwd=app)
    assert done.returncode == 0 and b"value-of-k-7f3a" in done.stdout
    assert "rendering in-process: no avp-py server socket at" in route_line(done.stderr)


def test_a_stale_socket_renders_in_process(app: Path) -> None:
    server = ServerProcess(base_env()).wait_ready()
    server.process.kill()  # no cleanup: the socket file stays
    server.process.wait(30)
    assert Path(server.socket).exists()
    env = server.client_env(client_env())
    try:
        done = generate(["generate", "--verbose", "app.yaml"], env, cwd=app)
        assert done.returncode == 0 and b"value-of-k-7f3a" in done.stdout
        assert "a stale socket" in route_line(done.stderr)
        # A new server replaces the stale socket (in place: clients never miss the path).
        server = ServerProcess(base_env(), directory=server.directory).wait_ready()
        served = generate(["generate", "--verbose", "app.yaml"], env, cwd=app)
        assert "rendered by the avp-py server" in route_line(served.stderr)
    finally:
        server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a file of another uid")
def test_a_socket_of_another_uid_is_not_used(server: ServerProcess, app: Path) -> None:
    os.chown(server.socket, 4242, -1)
    try:
        done = generate(
            ["generate", "--verbose", "app.yaml"], server.client_env(client_env()), cwd=app
        )
    finally:
        os.chown(server.socket, os.geteuid(), -1)
    assert done.returncode == 0 and b"value-of-k-7f3a" in done.stdout
    assert "is owned by uid 4242" in route_line(done.stderr)


def test_a_directory_open_to_others_is_not_used(server: ServerProcess, app: Path) -> None:
    directory = os.path.dirname(server.socket)
    os.chmod(directory, 0o755)
    try:
        done = generate(
            ["generate", "--verbose", "app.yaml"], server.client_env(client_env()), cwd=app
        )
    finally:
        os.chmod(directory, 0o700)
    assert done.returncode == 0
    assert "is open to other users (mode 0755)" in route_line(done.stderr)


def test_no_server_flag_renders_in_process(server: ServerProcess, app: Path) -> None:
    before = server.status()["served"]
    done = generate(
        ["generate", "--verbose", "--no-server", "app.yaml"],
        server.client_env(client_env()),
        cwd=app,
    )
    assert done.returncode == 0
    assert route_line(done.stderr) == "avp-py: rendering in-process (--no-server)\n"
    assert server.status()["served"] == before


def test_empty_socket_variable_renders_in_process(app: Path) -> None:
    done = generate(
        ["generate", "--verbose", "app.yaml"], client_env(AVP_SERVER_SOCKET=""), cwd=app
    )
    assert done.returncode == 0
    assert "AVP_SERVER_SOCKET is empty" in route_line(done.stderr)


def test_another_protocol_version_renders_in_process(app: Path) -> None:
    directory = Path(tempfile.mkdtemp(prefix="avp-fake-", dir="/tmp")) / "s"
    directory.mkdir(mode=0o700)
    path = str(directory / "server.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def refuse_like_a_newer_server() -> None:
        conn, _ = listener.accept()
        with conn:
            decoder = protocol.Decoder()
            while True:
                data, fds = protocol.receive(conn, decoder, 4)
                protocol.close_all(fds)
                if decoder.feed(data):
                    break
            conn.sendall(
                protocol.encode(
                    {"type": "refused", "reason": "protocol version 1; this server speaks 2"}
                )
            )

    thread = threading.Thread(target=refuse_like_a_newer_server)
    thread.start()
    try:
        done = generate(
            ["generate", "--verbose", "app.yaml"], client_env(AVP_SERVER_SOCKET=path), cwd=app
        )
    finally:
        thread.join(30)
        listener.close()
    assert done.returncode == 0 and b"value-of-k-7f3a" in done.stdout
    assert "refused the render: protocol version 1; this server speaks 2" in route_line(done.stderr)


def test_the_server_refuses_another_protocol_version(server: ServerProcess) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(server.socket)
        protocol.send(sock, {"type": "status", "version": protocol.VERSION + 1})
        answer = protocol.Decoder().feed(sock.recv(1 << 16))[0]
    assert answer["type"] == "refused"
    assert f"this server speaks {protocol.VERSION}" in answer["reason"]


def test_a_deeply_nested_message_does_not_take_the_server_down(server: ServerProcess) -> None:
    body = b"[" * 200_000  # json.loads raises RecursionError, not ValueError, for this
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(server.socket)
        sock.sendall(len(body).to_bytes(4, "big") + body)
        assert sock.recv(1 << 16) == b""  # a peer that broke the protocol is dropped
    assert server.status()["type"] == "status"


# -- cancellation, crashes, limits ------------------------------------------------------------
def running_render(server: ServerProcess) -> int:
    """The pid of the one render the server runs (waits for it)."""
    renders = eventually(lambda: server.status()["renders"])
    return int(renders[0]["pid"])


def test_a_killed_client_kills_its_render(app: Path) -> None:
    with running_server(base_env()) as server:
        client = start_client(["generate", "-"], server.client_env(client_env()), cwd=app)
        try:
            pid = running_render(server)  # waits on the client's stdin, which stays open
            assert alive(pid)
            client.kill()  # as Argo CD's deadline does to the command's process group
            eventually(lambda: not alive(pid), timeout=10)
        finally:
            terminate(client)
        status = eventually(lambda: (s := server.status())["abandoned"] == 1 and s)
        assert status["running"] == 0
        assert "killed: its client went away" in server.log()


def test_a_killed_server_fails_its_clients_closed(app: Path) -> None:
    with running_server(base_env()) as server:
        client = start_client(["generate", "-"], server.client_env(client_env()), cwd=app)
        try:
            pid = running_render(server)
            server.process.kill()
            assert client.wait(60) == 1  # its stdin still open: the render never finished
            eventually(lambda: not alive(pid), timeout=10)  # the render died with its server
            out, err = output_of(client)
        finally:
            terminate(client)
        assert out == b""
        assert err.startswith(b"Error: the avp-py server at ")
        assert b"closed the connection before the render finished" in err
        assert b"Traceback" not in err


def output_of(client: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """stdout and stderr of a client that has exited (its stdin left open until then)."""
    assert client.stdout is not None and client.stderr is not None
    return client.stdout.read(), client.stderr.read()


def test_a_crashing_render_does_not_take_the_server_down(app: Path) -> None:
    code = (
        "import avp_py.server.child as child; child.ABORT_WHEN = 'AVP_TEST_ABORT_RENDER';"
        " from avp_py.cli import main; main(['serve'])"
    )
    with running_server(base_env(), code) as server:
        crashed = generate(
            ["generate", "app.yaml"],
            server.client_env(client_env(AVP_TEST_ABORT_RENDER="1")),
            cwd=app,
        )
        assert crashed.returncode == 1
        assert crashed.stdout == b""
        assert b"Error: the render process (pid " in crashed.stderr
        assert b"died of SIGABRT" in crashed.stderr
        fine = generate(["generate", "app.yaml"], server.client_env(client_env()), cwd=app)
        assert fine.returncode == 0 and b"value-of-k-7f3a" in fine.stdout
        status = server.status()
        assert status["crashed"] == 1 and status["pid"] == server.process.pid


def test_the_abort_hook_is_off_in_a_normal_server(server: ServerProcess, app: Path) -> None:
    done = generate(
        ["generate", "app.yaml"], server.client_env(client_env(AVP_TEST_ABORT_RENDER="1")), cwd=app
    )
    assert done.returncode == 0


def test_concurrent_renders_are_bounded(app: Path) -> None:
    with running_server(base_env(AVP_SERVER_MAX_RENDERS="2")) as server:
        clients = [
            start_client(["generate", "-"], server.client_env(client_env()), cwd=app)
            for _ in range(4)
        ]
        try:
            status = eventually(lambda: (s := server.status())["running"] + s["queued"] == 4 and s)
            assert status["running"] == 2 and status["queued"] == 2
            for client in clients:  # every render can now finish, in whatever order
                assert client.stdin is not None
                client.stdin.write(MANIFEST)
                client.stdin.close()
                client.stdin = None  # communicate() must not flush it again
            outputs = []
            for client in clients:
                out, err = client.communicate(timeout=60)
                outputs.append((client.returncode, out, err))
                assert server.status()["running"] <= 2
        finally:
            for client in clients:
                terminate(client)
        assert all(code == 0 and b"value-of-k-7f3a" in out for code, out, _ in outputs), outputs


@pytest.mark.slow
def test_a_render_past_its_deadline_is_stopped(app: Path) -> None:
    with running_server(base_env()) as server:
        client = start_client(
            ["generate", "-"], server.client_env(client_env(AVP_TIMEOUT_SECONDS="1")), cwd=app
        )
        try:
            pid = running_render(server)
            client.wait(60)  # stdin stays open: the render hangs until the server stops it
            out, err = output_of(client)
        finally:
            terminate(client)
        assert client.returncode == 5
        assert out == b""
        assert err.startswith(b"Error: the render did not finish within its deadline")
        assert not alive(pid)
        assert server.status()["timed_out"] == 1


def test_sigterm_lets_running_renders_finish(app: Path) -> None:
    server = ServerProcess(base_env()).wait_ready()
    try:
        client = start_client(["generate", "-"], server.client_env(client_env()), cwd=app)
        running_render(server)
        server.process.send_signal(signal.SIGTERM)
        eventually(lambda: not Path(server.socket).exists())  # new clients render in-process
        out, _ = client.communicate(MANIFEST, timeout=60)
        assert client.returncode == 0 and b"value-of-k-7f3a" in out
        assert server.process.wait(30) == 0
    finally:
        server.stop()
