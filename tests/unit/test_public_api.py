"""The package's public surface: exactly the names in ``__all__``, and the documented example."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

import avp_py


def test_all_lists_every_public_name() -> None:
    assert all(hasattr(avp_py, name) for name in avp_py.__all__)  # imported on first use
    public = {name for name in vars(avp_py) if not name.startswith("_")}
    modules = {name for name, value in vars(avp_py).items() if isinstance(value, types.ModuleType)}
    assert sorted(public - modules) == sorted(set(avp_py.__all__) - {"__version__"})
    assert set(avp_py.__all__) <= set(dir(avp_py))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'rendr'"):
        avp_py.rendr  # noqa: B018 - the lookup is the test


def test_importing_the_package_imports_nothing_heavy() -> None:
    # The render server's client runs before anything else in every `avp-py generate`
    # (issue 13): `import avp_py` must not pull in click, PyYAML or the Azure SDK.
    code = (
        "import sys, avp_py, avp_py.cli, avp_py.server.client;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('click', 'yaml', 'azure', 'requests', 'jinja2') or m.startswith('avp_py.')"
        " and m not in ('avp_py.cli', 'avp_py.server', 'avp_py.server.client',"
        " 'avp_py.server.protocol')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_documented_library_use(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("kv:\n  k: value-1\n")
    settings = avp_py.load_settings(
        {"AVP_TYPE": "file", "AVP_FILE_PATH": str(tmp_path / "secrets.yaml")}
    )
    text = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv#k>\n"
    result = avp_py.render([avp_py.Source("app.yaml", text)], settings, avp_py.start_deadline(10))
    assert result.text.endswith("  a: value-1\n---\n")
    assert result.stats.distinct_secrets == 1
