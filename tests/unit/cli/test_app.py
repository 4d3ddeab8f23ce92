"""``avp_py.cli.app.run``: how the command line ends, whichever process runs it."""

from __future__ import annotations

import pytest

from avp_py.cli import app


def test_an_exit_with_text_prints_no_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sys.exit("...")`` deep in a library: Python would print the text, which may quote a
    value; the run ends as an internal error naming the type and place only (the render
    server's children run this same function)."""

    def exit_with_text(*_args: object) -> None:
        raise SystemExit("password=hunter2")

    monkeypatch.setattr(app, "_generate", exit_with_text)
    with pytest.raises(SystemExit) as exited:
        app.run(["generate", "-"])
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "hunter2" not in err
    assert err.startswith("Error: internal error: SystemExit at ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("code", [None, 0, 4])
def test_a_numeric_exit_passes_through(monkeypatch: pytest.MonkeyPatch, code: int | None) -> None:
    def exit_with(*_args: object) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(app, "_generate", exit_with)
    with pytest.raises(SystemExit) as exited:
        app.run(["generate", "-"])
    assert exited.value.code == code
