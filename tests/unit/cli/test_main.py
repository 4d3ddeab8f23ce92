"""``avp_py.cli.main``: which runs go to a render server first, and the route they report."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import avp_py.cli
from avp_py.cli import app
from avp_py.cli.route import Route
from avp_py.server import client


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    seen: dict[str, list[object]] = {"server": [], "run": []}

    def fake_server(args: Sequence[str], environ: object) -> int | str:
        seen["server"].append(list(args))
        return 4 if "--served" in args else "rendering in-process: no avp-py server socket at X"

    def fake_run(argv: Sequence[str] | None = None, route: Route | None = None) -> None:
        seen["run"].append((list(argv or []), route))

    monkeypatch.setattr(client, "render_via_server", fake_server)
    monkeypatch.setattr(app, "run", fake_run)
    return seen


def test_generate_goes_to_the_server_first(calls: dict[str, list[object]]) -> None:
    with pytest.raises(SystemExit) as exited:
        avp_py.cli.main(["generate", "--served", "-"])
    assert exited.value.code == 4
    assert calls["run"] == []


def test_without_a_server_it_renders_here_and_says_why(calls: dict[str, list[object]]) -> None:
    avp_py.cli.main(["generate", "-"])
    assert calls["server"] == [["generate", "-"]]
    [(argv, route)] = calls["run"]  # type: ignore[misc]
    assert argv == ["generate", "-"]
    assert route == Route("rendering in-process: no avp-py server socket at X")


def test_no_server_skips_the_server(calls: dict[str, list[object]]) -> None:
    avp_py.cli.main(["generate", "--no-server", "-"])
    assert calls["server"] == []
    assert calls["run"] == [
        (["generate", "--no-server", "-"], Route("rendering in-process (--no-server)"))
    ]


def test_no_server_after_double_dash_is_a_path(calls: dict[str, list[object]]) -> None:
    avp_py.cli.main(["generate", "--", "--no-server"])
    assert calls["server"] == [["generate", "--", "--no-server"]]


@pytest.mark.parametrize("args", [["check", "-"], ["version"], [], ["serve", "--status"]])
def test_other_commands_never_ask_a_server(calls: dict[str, list[object]], args: list[str]) -> None:
    avp_py.cli.main(args)
    assert calls["server"] == []
    assert calls["run"] == [(args, None)]


def test_a_route_starts_the_deadline_at_the_requests_arrival() -> None:
    told = []
    deadline = Route("x", arrived=100.0, on_deadline=told.append).start_deadline(45)
    assert (deadline.seconds, deadline.expires_at) == (45, 145.0)
    assert told == [deadline]
