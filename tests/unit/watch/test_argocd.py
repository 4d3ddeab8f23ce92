"""How the watcher addresses Argo CD (pure parts; the exchange itself is in tests/azure)."""

from __future__ import annotations

import json

import pytest

from avp_py.errors import ConfigError
from avp_py.settings.watch import ArgoCdServer
from avp_py.watch.argocd import ArgoCdClient, Outcome, _answer, refresh_path, split_application
from avp_py.watch.loop import JITTER, next_wait


@pytest.mark.parametrize(
    ("app_name", "expected"),
    [
        ("orders", ("", "orders")),
        ("team-a_orders", ("team-a", "orders")),  # an Application outside Argo CD's namespace
        ("a_b_c", ("a", "b_c")),  # not a Kubernetes name, but never split twice
    ],
)
def test_argocd_app_name_is_split_at_the_first_underscore(
    app_name: str, expected: tuple[str, str]
) -> None:
    assert split_application(app_name) == expected


def test_the_refresh_request_names_project_and_application_namespace() -> None:
    base = "/api/v1/applications/"
    assert refresh_path("orders", "team-a") == base + "orders?refresh=hard&project=team-a"
    assert refresh_path("apps_pay", "") == base + "pay?refresh=hard&appNamespace=apps"
    assert refresh_path("x/y", "p q") == base + "x%2Fy?refresh=hard&project=p+q"


def _body(message: str) -> bytes:
    return json.dumps({"error": message, "code": 7, "message": message}).encode()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.REFRESHED),
        (404, Outcome.GONE),
        (403, Outcome.DENIED),
        (401, Outcome.UNAUTHORIZED),
        (500, Outcome.FAILED),
        (503, Outcome.FAILED),
    ],
)
def test_answers(status: int, outcome: Outcome) -> None:
    answer = _answer(status, _body("permission denied"))
    assert answer.outcome is outcome
    assert answer.asked is (outcome is Outcome.REFRESHED)


def test_argo_cds_message_is_kept_short_and_printable() -> None:
    answer = _answer(500, _body("boom\n\x1b[31m" + "x" * 500))
    assert answer.detail.startswith("HTTP 500: boom[31mxxx")
    assert len(answer.detail) < 220 and "\n" not in answer.detail and "\x1b" not in answer.detail
    assert _answer(502, b"<html>bad gateway</html>").detail == "HTTP 502"
    assert _answer(502, b"[" * 200_000).detail == "HTTP 502"  # once a RecursionError


def test_the_wait_between_cycles_is_jittered_both_ways() -> None:
    assert next_wait(120, 0.0) == pytest.approx(120 * (1 - JITTER))
    assert next_wait(120, 0.5) == pytest.approx(120)
    assert next_wait(120, 0.999) < 120 * (1 + JITTER)


def _client(monkeypatch: pytest.MonkeyPatch, proxy: str) -> ArgoCdClient:
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    return ArgoCdClient(ArgoCdServer("argocd.example.test", 443, "t", False, "", 5.0))


@pytest.mark.parametrize(
    "proxy", ["http://user:sentinel@proxy:99999", "http://:3128", "http://" + "p" * 64 + ".test"]
)
def test_a_proxy_no_connection_can_use_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, proxy: str
) -> None:
    # Once a ValueError or UnicodeError out of every refresh request: an internal error.
    with pytest.raises(ConfigError, match="HTTPS_PROXY is not a proxy URL") as caught:
        _client(monkeypatch, proxy)
    assert "sentinel" not in str(caught.value)


@pytest.mark.parametrize(
    ("proxy", "address"),
    [
        ("http://proxy.example.test:3128", ("proxy.example.test", 3128)),
        ("proxy.example.test:3128", ("proxy.example.test", 3128)),  # no scheme, as urllib reads it
        ("http://proxy.example.test", ("proxy.example.test", 80)),
    ],
)
def test_the_proxy_address(
    monkeypatch: pytest.MonkeyPatch, proxy: str, address: tuple[str, int]
) -> None:
    assert _client(monkeypatch, proxy)._proxy == address
