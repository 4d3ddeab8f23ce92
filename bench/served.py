"""Server mode (issue 13): the scenarios' renders through a warm ``avp-py serve``.

The suite starts one server for all scenarios, with the clients' own environment: in Argo
CD the server and every render get the sidecar's environment, so the server's warm token and
the challenges it learns apply to every render, as they do here. The in-process runs set
``AVP_SERVER_SOCKET=''`` so that they never reach a server.

A render through the server is two processes: the client (``avp-py generate``, measured by
the launcher like any render) and the render process, a child of the server. The render's CPU
time is in the server's log line for it (``cpu N s``, from ``os.wait4``), which the server
writes before it tells the client the exit code; a sample's CPU is the sum of both.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from avp_py.server.protocol import ProtocolError
from avp_py.server.status import request_status
from bench.limits import Startup
from bench.measure import BenchError, Sample, median_sample

READY_SECONDS = 60.0
STOP_SECONDS = 30.0
_RENDER_LINE = re.compile(
    r"^avp-py serve: render pid \d+ app \S*: (?P<outcome>.+?), \d+\.\d+ s,"
    r" cpu (?P<cpu>\d+\.\d+) s",
    re.M,
)


@dataclass(frozen=True)
class Ended:
    """One render the server logged: how it ended (``exit 0``...) and its CPU seconds."""

    outcome: str
    cpu: float


class RenderServer:
    """A running ``avp-py serve`` (optionally pinned to one CPU with ``taskset``)."""

    def __init__(
        self, avp: Path, env: Mapping[str, str], directory: Path, cpu: int | None = None
    ) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        self.socket = str(directory / "s" / "server.sock")
        self.log_path = directory / "server.log"
        self.env = {**env, "AVP_SERVER_SOCKET": self.socket}
        argv = [str(avp), "serve"]
        if cpu is not None:
            argv = ["taskset", "--cpu-list", str(cpu), *argv]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        self._read = 0
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"avp-py serve exited {self.process.returncode}: {self.tail()}")
            try:
                request_status(self.socket, timeout=2)
                return
            except (OSError, ProtocolError):
                time.sleep(0.1)
        self.stop()
        raise BenchError(f"avp-py serve did not answer within {READY_SECONDS:.0f} s")

    def wait_warm(self) -> bool:
        """Until the server holds a token of its own identity (it fetches one in the
        background after it starts); False if none within ``READY_SECONDS``."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if request_status(self.socket, timeout=5).get("warm_tokens", 0) >= 1:
                return True
            time.sleep(0.1)
        return False

    def client_env(self, env: Mapping[str, str]) -> dict[str, str]:
        return {**env, "AVP_SERVER_SOCKET": self.socket}

    def ended(self) -> list[Ended]:
        """The renders logged since the last call."""
        text = self.log_path.read_text(errors="replace")
        new, self._read = text[self._read :], len(text)
        return [Ended(m["outcome"], float(m["cpu"])) for m in _RENDER_LINE.finditer(new)]

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-1500:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)

    def __enter__(self) -> RenderServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def with_render_cpu(sample: Sample, ended: Sequence[Ended], expected: int) -> Sample:
    """``sample`` (the client processes) plus the CPU of the renders the server ran for it;
    BenchError unless the server logged exactly ``expected`` renders (all went through it)."""
    if len(ended) != expected:
        raise BenchError(
            f"expected {expected} render(s) through the server, its log shows {len(ended)}"
        )
    return replace(sample, cpu=sample.cpu + sum(e.cpu for e in ended))


@dataclass
class Served:
    """A scenario's renders through the server, beside its in-process ones."""

    samples: list[Sample]
    starts: list[Startup] = field(default_factory=list)
    """Yardsticks paired with the served renders (``python -c pass``, the client imports)."""
    failures: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> Sample:
        return median_sample(self.samples)
