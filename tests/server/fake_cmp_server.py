"""A stand-in for argocd-cmp-server under ``avp-py sidecar`` (tests only).

FAKE_DIR gets ``pid`` at start and ``signals`` (one name per line) as they arrive.
FAKE_MODE: ``wait`` (until SIGTERM, then exit 7), ``exit3`` (exit 3 at once), ``orphan``
(leave a grandchild behind, then wait like ``wait``), ``killed`` (die of SIGKILL).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

directory = Path(os.environ["FAKE_DIR"])
mode = os.environ.get("FAKE_MODE", "wait")


def on_signal(number: int, _frame: object) -> None:
    with open(directory / "signals", "a") as handle:
        handle.write(signal.Signals(number).name + "\n")
    if number == signal.SIGTERM:
        sys.exit(7)


for name in ("SIGTERM", "SIGHUP", "SIGUSR1"):
    signal.signal(getattr(signal, name), on_signal)
(directory / "pid").write_text(str(os.getpid()))
if mode == "exit3":
    sys.exit(3)
if mode == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "orphan":
    # The middle process exits at once: its child (sleep) becomes an orphan.
    subprocess.run(["sh", "-c", f"sleep 2 & echo $! > {directory / 'orphan'}"], check=True)
while True:
    time.sleep(0.1)
