"""Every golden case again, both ways: through a running ``avp-py serve`` and in-process.

The real console script runs each case twice, as a client of the server and with
``AVP_SERVER_SOCKET=''`` (in-process): stdout must be byte-identical (and the golden output
when the case succeeds), stderr identical except the ``--verbose`` line that says which path
ran and the run's duration, and the exit code the case's (issue 13).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_cases import _case_dirs, _check_counts, _environment, _spec, _stdin
from tests.kvserver import KeyVaultServer
from tests.server.harness import ServerProcess, base_env, generate, running_server

ROUTE_LINE = re.compile(
    rb"^avp-py: (rendered by the avp-py server at|rendering in-process).*\n", re.M
)
DURATION = re.compile(rb"(\d+ cache hits), \d+\.\d\d s$", re.M)


@pytest.fixture(scope="module")
def file_server() -> Iterator[ServerProcess]:
    with running_server(base_env()) as server:
        yield server


def _subprocess_env(case: Path, spec: dict[str, Any]) -> dict[str, str]:
    env = base_env()
    for name, value in _environment(case, spec).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _arm(kv: KeyVaultServer, config: dict[str, Any]) -> None:
    """The case's faults, fresh for each of the two runs (a one-shot 429 is spent by one)."""
    kv.clear_faults()
    kv.reset_counters()
    kv.faults.latency = float(config.get("latency", 0))
    if "throttle_after" in config:
        kv.faults.throttle_after(int(config["throttle_after"]), retry_after=1)


@contextmanager
def _servers(
    spec: dict[str, Any], env: dict[str, str], shared: ServerProcess
) -> Iterator[tuple[ServerProcess, KeyVaultServer | None]]:
    config = spec.get("keyvault")
    if not config:
        yield shared, None
        return
    with KeyVaultServer() as kv:
        for vault, secrets in config.get("vaults", {}).items():
            for name, values in secrets.items():
                for value in values if isinstance(values, list) else [values]:
                    kv.set_secret(vault, name, str(value))
        env.update(kv.client_env("managed"), AVP_TYPE="azurekeyvault")
        env.pop("AVP_FILE_PATH", None)
        # Its own server: what a render learns about a vault must not carry over to a case
        # that counts challenges on a new test server with the same vault names.
        with running_server(base_env()) as server:
            yield server, kv


def _normalised(stderr: bytes) -> bytes:
    return DURATION.sub(rb"\1, N s", ROUTE_LINE.sub(b"", stderr))


@pytest.mark.parametrize("case", _case_dirs(), ids=lambda p: p.name)
def test_case_through_the_server(case: Path, file_server: ServerProcess) -> None:
    spec = _spec(case)
    args = [str(a) for a in spec.get("args", ["generate", "-"])]
    stdin = _stdin(case, args) or b""
    env = _subprocess_env(case, spec)
    with _servers(spec, env, file_server) as (server, kv):
        runs = []
        for route_env in (server.client_env(env), {**env, "AVP_SERVER_SOCKET": ""}):
            if kv is not None:
                _arm(kv, spec["keyvault"])
            runs.append(generate(args, route_env, stdin=stdin, cwd=case))
            if kv is not None:
                _check_counts(kv, spec["keyvault"].get("expect_counts", {}))
    served, local = runs
    expected_code = int(spec.get("exit_code", 0))
    assert (served.returncode, local.returncode) == (expected_code, expected_code), served.stderr
    assert served.stdout == local.stdout
    assert _normalised(served.stderr) == _normalised(local.stderr)
    if "--verbose" in args:
        assert b"avp-py: rendered by the avp-py server at " in served.stderr
    if expected_code == 0:
        assert served.stdout == (case / "expected.yaml").read_bytes()
    else:
        assert served.stdout == b""
