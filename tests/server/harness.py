"""Start a real ``avp-py serve`` and run real ``avp-py generate`` clients against it.

Every server gets its own short socket path under /tmp (a Unix socket path holds at most 107
bytes; pytest's tmp_path can be longer) and its own log file. Waiting is polling with
generous timeouts: these tests run on a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from avp_py.server.status import request_status
from tests.isolation import clean_environment

AVP = Path(sys.executable).parent / "avp-py"
READY_TIMEOUT = 60.0


def eventually(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.05) -> Any:
    """``check()``'s first truthy result; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check}")
        time.sleep(every)


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment (no inherited AVP_/AZURE_/proxy settings)."""
    env = clean_environment()
    env.pop("AVP_SERVER_SOCKET", None)
    env.update(extra)
    return env


class ServerProcess:
    """One ``avp-py serve`` (or a test's variant of it, ``code``) in a temporary directory."""

    def __init__(
        self, env: Mapping[str, str], code: str | None = None, directory: Path | None = None
    ) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="avp-srv-", dir="/tmp"))
        self.socket = str(self.directory / "s" / "server.sock")
        self.env = {**env, "AVP_SERVER_SOCKET": self.socket}
        self.log_path = self.directory / "server.log"
        argv = (
            [sys.executable, "-m", "avp_py", "serve"]
            if code is None
            else [
                sys.executable,
                "-c",
                code,
            ]
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    def wait_ready(self) -> ServerProcess:
        def answered() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited {self.process.returncode}: {self.log()}")
            with contextlib.suppress(OSError, ValueError):
                return bool(request_status(self.socket, timeout=2))
            return False

        eventually(answered, READY_TIMEOUT, 0.1)
        return self

    def status(self) -> dict[str, Any]:
        return request_status(self.socket, timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` pointed at this server."""
        return {**env, "AVP_SERVER_SOCKET": self.socket}

    def stop(self, keep_directory: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        if not keep_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def running_server(env: Mapping[str, str], code: str | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(env, code)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def generate(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    stdin: bytes | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """``avp-py ARGS`` through the real console script."""
    return subprocess.run(
        [str(AVP), *args],
        input=stdin if stdin is not None else b"",
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def start_client(
    args: Sequence[str], env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """A client whose stdin stays open until the test closes it: its render waits on it."""
    return subprocess.Popen(
        [str(AVP), *args],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def terminate(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    process.wait(30)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def environ_of(pid: int) -> dict[str, str]:
    """Another process's environment (Linux)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {os.fsdecode(k): os.fsdecode(v) for k, v in pairs}
