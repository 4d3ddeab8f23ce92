"""``avp-py sidecar -- COMMAND``: the supervisor as a process, with a fake argocd-cmp-server.

No container engine here: the supervisor runs as an ordinary process (its subreaper setting
makes it inherit orphans as PID 1 would).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from avp_py.server.status import request_status
from tests.server.harness import AVP, alive, base_env, eventually

FAKE = Path(__file__).with_name("fake_cmp_server.py")


@dataclass
class Sidecar:
    process: subprocess.Popen[bytes]
    directory: Path
    socket: str

    def fake_pid(self) -> int:
        return int(
            eventually(
                lambda: (self.directory / "pid").exists() and (self.directory / "pid").read_text()
            )
        )

    def signals(self) -> list[str]:
        path = self.directory / "signals"
        return path.read_text().split() if path.exists() else []

    def server_status(self) -> dict[str, object] | None:
        try:
            return request_status(self.socket, timeout=5)
        except OSError:
            return None

    def log(self) -> str:
        return (self.directory / "sidecar.log").read_text(errors="replace")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Sidecar]]:
    started: list[Sidecar] = []

    def run(mode: str = "wait", **env: str) -> Sidecar:
        directory = (
            Path(os.path.realpath("/tmp"))
            / f"avp-sidecar-{os.getpid()}-{len(started)}-{tmp_path.name[-6:]}"
        )
        directory.mkdir(mode=0o700)
        socket = str(directory / "s" / "server.sock")
        full = {
            **base_env(AVP_SERVER_SOCKET=socket, FAKE_DIR=str(directory), FAKE_MODE=mode),
            **env,
        }
        with open(directory / "sidecar.log", "wb") as log:
            process = subprocess.Popen(
                [str(AVP), "sidecar", "--", sys.executable, str(FAKE)],
                env=full,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        sidecar = Sidecar(process, directory, socket)
        started.append(sidecar)
        return sidecar

    yield run
    for sidecar in started:
        left = children_of(sidecar.process.pid)  # before they are orphaned
        if sidecar.process.poll() is None:
            sidecar.process.kill()
            sidecar.process.wait(30)
        for child in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


def children_of(pid: int, zombies: bool = False) -> list[int]:
    """The children of ``pid`` (living ones, or with ``zombies`` the unreaped dead)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and (fields[0] == "Z") is zombies:
                found.append(int(entry.name))
    return found


def test_both_run_and_sigterm_reaches_both(start: Callable[..., Sidecar]) -> None:
    sidecar = start()
    fake = sidecar.fake_pid()
    status = eventually(sidecar.server_status, timeout=60)
    server = int(status["pid"])
    assert set(children_of(sidecar.process.pid)) == {fake, server}
    sidecar.process.send_signal(signal.SIGTERM)
    assert sidecar.process.wait(60) == 7  # the fake's exit status
    assert sidecar.signals() == ["SIGTERM"]
    eventually(lambda: not alive(server), timeout=30)
    assert not os.path.exists(sidecar.socket)


def test_other_signals_go_to_the_command(start: Callable[..., Sidecar]) -> None:
    sidecar = start()
    sidecar.fake_pid()
    eventually(sidecar.server_status, timeout=60)
    sidecar.process.send_signal(signal.SIGHUP)
    eventually(lambda: sidecar.signals() == ["SIGHUP"])
    assert sidecar.process.poll() is None


def test_a_dead_server_is_restarted(start: Callable[..., Sidecar]) -> None:
    sidecar = start()
    first = eventually(sidecar.server_status, timeout=60)
    os.kill(int(first["pid"]), signal.SIGKILL)
    second = eventually(
        lambda: (s := sidecar.server_status()) and s["pid"] != first["pid"] and s, timeout=60
    )
    assert second["restarts"] == 1
    assert "the render server exited with status 137" in sidecar.log()
    assert sidecar.process.poll() is None


def test_the_command_ending_ends_the_sidecar(start: Callable[..., Sidecar]) -> None:
    sidecar = start("exit3")
    assert sidecar.process.wait(60) == 3
    assert children_of(sidecar.process.pid) == []
    assert "exited with status 3" in sidecar.log()


def test_a_command_killed_by_a_signal_is_128_plus_it(start: Callable[..., Sidecar]) -> None:
    sidecar = start("killed")
    assert sidecar.process.wait(60) == 128 + signal.SIGKILL


def test_orphans_are_reaped(start: Callable[..., Sidecar]) -> None:
    sidecar = start("orphan")
    orphan_file = sidecar.directory / "orphan"
    orphan = int(eventually(lambda: orphan_file.exists() and orphan_file.read_text().strip()))
    eventually(lambda: orphan in children_of(sidecar.process.pid))  # inherited, as by PID 1
    eventually(lambda: not alive(orphan), timeout=30)
    eventually(lambda: children_of(sidecar.process.pid, zombies=True) == [], timeout=30)


def test_an_empty_socket_variable_runs_the_command_alone(start: Callable[..., Sidecar]) -> None:
    alone = start(AVP_SERVER_SOCKET="")
    fake = alone.fake_pid()
    assert children_of(alone.process.pid) == [fake]
    alone.process.send_signal(signal.SIGTERM)
    assert alone.process.wait(60) == 7


def test_a_missing_command_is_an_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(AVP), "sidecar", "--", str(tmp_path / "absent")],
        env=base_env(AVP_SERVER_SOCKET=""),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 127
    assert done.stderr.startswith(b"Error: cannot start ")
    bare = subprocess.run(
        [str(AVP), "sidecar", "--"], env=base_env(), capture_output=True, timeout=60, check=False
    )
    assert bare.returncode == 2
