"""A render request is checked field by field before the server forks for it."""

from __future__ import annotations

from typing import Any

import pytest

from avp_py.server.child import RenderRequest, _exit_code

GOOD: dict[str, Any] = {
    "type": "render",
    "argv": ["avp-py", "generate", "-"],
    "env": {"ARGOCD_APP_NAME": "shop"},
    "umask": 0o022,
    "stdio": [["utf-8", "strict"], ["utf-8", "strict"], ["utf-8", "backslashreplace"]],
}


def test_a_good_request() -> None:
    request = RenderRequest.parse(GOOD, [5, 6, 7, 8])
    assert request.fds == (5, 6, 7, 8)
    assert request.app == "shop"
    assert request.stdio[2] == ("utf-8", "backslashreplace")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("argv", [], "argv"),
        ("argv", ["avp-py", 3], "argv"),
        ("env", {"A": 1}, "env"),
        ("env", ["A=1"], "env"),
        ("umask", 0o1000, "umask"),
        ("umask", "022", "umask"),
        ("stdio", [["utf-8", "strict"]], "stdio"),
    ],
)
def test_a_malformed_field_is_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RenderRequest.parse({**GOOD, field: value}, [5, 6, 7, 8])


def test_four_descriptors_are_required() -> None:
    with pytest.raises(ValueError, match="four file descriptors"):
        RenderRequest.parse(GOOD, [5, 6, 7])


@pytest.mark.parametrize(
    ("value", "code"), [(None, 0), (0, 0), (4, 4), (256, 0), (-1, 255), ("token=abc", 1)]
)
def test_exit_values_follow_pythons_rules_but_print_nothing(
    value: object, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(value) == code
    assert capsys.readouterr() == ("", "")  # text could quote a value: never printed
