"""The watcher's settings: Argo CD's address and token as the argocd CLI names them."""

from __future__ import annotations

import pytest

from avp_py.errors import ConfigError
from avp_py.settings import load_settings
from avp_py.settings.watch import load_watch_settings, parse_server

BASE = {
    "AVP_TYPE": "azurekeyvault",
    "AVP_WATCH_STATE_DIR": "/var/run/avp-py/watch",
    "ARGOCD_SERVER": "argocd-server.argocd.svc",
    "ARGOCD_AUTH_TOKEN": "sentinel-token\n",
}


def _load(**changes: str | None) -> object:
    environ = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    return load_watch_settings(load_settings(environ), environ)


def test_defaults() -> None:
    settings = _load()
    assert settings.state_dir == "/var/run/avp-py/watch"  # type: ignore[attr-defined]
    assert settings.interval_seconds == 120  # type: ignore[attr-defined]
    assert settings.record_max_age_seconds == 172_800  # type: ignore[attr-defined]
    argocd = settings.argocd  # type: ignore[attr-defined]
    assert (argocd.host, argocd.port, argocd.plaintext, argocd.ca_file) == (
        "argocd-server.argocd.svc",
        443,
        False,
        "",
    )
    assert argocd.token == "sentinel-token"  # a Secret's trailing newline is dropped
    assert "sentinel" not in repr(settings)


@pytest.mark.parametrize(
    ("server", "plaintext", "expected"),
    [
        ("argocd.example.com", False, ("argocd.example.com", 443)),
        ("argocd.example.com:8443", False, ("argocd.example.com", 8443)),
        ("https://argocd.example.com", False, ("argocd.example.com", 443)),
        ("argocd-server", True, ("argocd-server", 80)),
        ("[::1]:8080", False, ("::1", 8080)),
    ],
)
def test_server_is_host_and_port(server: str, plaintext: bool, expected: tuple[str, int]) -> None:
    assert parse_server(server, plaintext) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AVP_WATCH_STATE_DIR": None}, "AVP_WATCH_STATE_DIR must be set"),
        ({"ARGOCD_SERVER": None}, "ARGOCD_SERVER must be set"),
        ({"ARGOCD_SERVER": "http://argocd"}, "AVP_WATCH_ARGOCD_PLAINTEXT=true"),
        ({"ARGOCD_SERVER": "argocd/api"}, "not host\\[:port\\]"),
        ({"ARGOCD_SERVER": "user@argocd"}, "not host\\[:port\\]"),
        ({"ARGOCD_SERVER": "argocd:http"}, "not host\\[:port\\]"),
        ({"ARGOCD_SERVER": "a" * 64 + ".example.test"}, "longer than 63 characters"),
        ({"ARGOCD_AUTH_TOKEN": " "}, "ARGOCD_AUTH_TOKEN must be set"),
        ({"ARGOCD_AUTH_TOKEN": "a\r\nX-Injected: 1"}, "characters an HTTP header cannot carry"),
        ({"AVP_WATCH_INTERVAL_SECONDS": "0.5"}, "AVP_WATCH_INTERVAL_SECONDS must be between"),
        ({"AVP_WATCH_RECORD_MAX_AGE_SECONDS": "x"}, "AVP_WATCH_RECORD_MAX_AGE_SECONDS must be"),
        ({"AVP_WATCH_ARGOCD_PLAINTEXT": "maybe"}, "AVP_WATCH_ARGOCD_PLAINTEXT must be true"),
    ],
)
def test_invalid_settings_are_named(changes: dict[str, str | None], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _load(**changes)
    assert "Injected" not in str(caught.value)


def test_an_application_cannot_point_the_renders_elsewhere() -> None:
    environ = {**BASE, "ARGOCD_ENV_AVP_WATCH_STATE_DIR": "/tmp/elsewhere"}
    with pytest.raises(ConfigError, match="may not change AVP_WATCH_STATE_DIR"):
        load_settings(environ)
