"""The package's public surface: exactly the names in ``__all__``, and the documented example."""

from __future__ import annotations

from pathlib import Path

import avp_py


def test_all_lists_every_public_name() -> None:
    public = {name for name in vars(avp_py) if not name.startswith("_")}
    modules = {name for name, value in vars(avp_py).items() if type(value) is type(avp_py)}
    assert sorted(public - modules) == sorted(set(avp_py.__all__) - {"__version__"})
    assert all(hasattr(avp_py, name) for name in avp_py.__all__)


def test_the_documented_library_use(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("kv:\n  k: value-1\n")
    settings = avp_py.load_settings(
        {"AVP_TYPE": "file", "AVP_FILE_PATH": str(tmp_path / "secrets.yaml")}
    )
    text = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv#k>\n"
    result = avp_py.render([avp_py.Source("app.yaml", text)], settings, avp_py.start_deadline(10))
    assert result.text.endswith("  a: value-1\n---\n")
    assert result.stats.distinct_secrets == 1
