"""The render server's own settings, read once from its environment at start.

``AVP_SERVER_SOCKET`` (the socket; empty turns the server and the client fast path off),
``AVP_SERVER_MAX_RENDERS`` (renders at once; the rest wait) and ``AVP_SERVER_RESTARTS`` (set by
``avp-py sidecar`` when it restarts the server, for ``serve --status``). None of them reaches a
render: a render gets its client's environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from avp_py.errors import ConfigError
from avp_py.server import protocol

MAX_RENDERS_VARIABLE = "AVP_SERVER_MAX_RENDERS"
RESTARTS_VARIABLE = "AVP_SERVER_RESTARTS"
RENDERS_PER_CPU = 4  # a render mostly waits for Key Vault: 4 per CPU keep the CPU busy
MAX_RENDERS_CEILING = 16  # by default; each render is a process (~15-30 MB of its own)
MAX_RENDERS_LIMIT = 256


@dataclass(frozen=True)
class ServerConfig:
    """Where to listen, how many renders may run at once, how often it was restarted."""

    socket_path: str
    max_renders: int
    restarts: int = 0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], cpus: int | None = None) -> ServerConfig:
        """ConfigError names the variable that is wrong."""
        path = protocol.socket_path(environ, os.geteuid())
        if path is None:
            raise ConfigError(
                f"{protocol.SOCKET_VARIABLE} is empty: the render server is turned off"
            )
        if not os.path.isabs(path):
            raise ConfigError(f"{protocol.SOCKET_VARIABLE} must be an absolute path, not {path!r}")
        if len(os.fsencode(path)) > protocol.MAX_SOCKET_PATH:
            raise ConfigError(
                f"{protocol.SOCKET_VARIABLE} is longer than {protocol.MAX_SOCKET_PATH} bytes"
            )
        default = default_max_renders(available_cpus() if cpus is None else cpus)
        return cls(
            socket_path=path,
            max_renders=_count(environ, MAX_RENDERS_VARIABLE, default, 1, MAX_RENDERS_LIMIT),
            restarts=_count(environ, RESTARTS_VARIABLE, 0, 0, 1 << 30),
        )


def default_max_renders(cpus: int) -> int:
    """``AVP_SERVER_MAX_RENDERS`` when unset: 4 per CPU, at least 2, at most 16."""
    return max(2, min(MAX_RENDERS_CEILING, RENDERS_PER_CPU * cpus))


def available_cpus() -> int:
    """CPUs this process may use: its affinity (taskset, cpusets), lowered by a cgroup v2 CPU
    quota (a container's CPU limit), rounded up."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cpus, math.ceil(quota)) if quota else cpus)


def _cgroup_quota(path: str = "/sys/fs/cgroup/cpu.max") -> float | None:
    try:
        with open(path, encoding="ascii") as handle:
            limit, period = handle.read().split()[:2]
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _count(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value
