"""The server's own settings: socket, concurrency bound, CPU count."""

from __future__ import annotations

from pathlib import Path

import pytest

from avp_py.errors import ConfigError
from avp_py.server import config


@pytest.mark.parametrize(("cpus", "renders"), [(1, 4), (2, 8), (3, 12), (8, 16), (64, 16)])
def test_the_default_bound_follows_the_cpus(cpus: int, renders: int) -> None:
    assert config.default_max_renders(cpus) == renders
    assert (
        config.ServerConfig.from_environ({"AVP_SERVER_SOCKET": "/s/x.sock"}, cpus).max_renders
        == renders
    )


def test_the_variables_are_read() -> None:
    env = {
        "AVP_SERVER_SOCKET": "/s/x.sock",
        "AVP_SERVER_MAX_RENDERS": "3",
        "AVP_SERVER_RESTARTS": "2",
    }
    assert config.ServerConfig.from_environ(env, 4) == config.ServerConfig("/s/x.sock", 3, 2)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AVP_SERVER_SOCKET": ""}, "AVP_SERVER_SOCKET is empty: the render server is turned off"),
        ({"AVP_SERVER_SOCKET": "relative.sock"}, "must be an absolute path"),
        ({"AVP_SERVER_SOCKET": "/" + "x" * 200}, "longer than 107 bytes"),
        ({"AVP_SERVER_SOCKET": "/s", "AVP_SERVER_MAX_RENDERS": "0"}, "between 1 and 256, not 0"),
        ({"AVP_SERVER_SOCKET": "/s", "AVP_SERVER_MAX_RENDERS": "many"}, "must be an integer"),
    ],
)
def test_bad_settings_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.ServerConfig.from_environ(env, 2)


@pytest.mark.parametrize(
    ("text", "quota"), [("max 100000\n", None), ("150000 100000\n", 1.5), ("garbage", None)]
)
def test_a_cgroup_cpu_quota_is_read(tmp_path: Path, text: str, quota: float | None) -> None:
    (tmp_path / "cpu.max").write_text(text)
    assert config._cgroup_quota(str(tmp_path / "cpu.max")) == quota


def test_the_cpus_are_at_least_one() -> None:
    assert config.available_cpus() >= 1
