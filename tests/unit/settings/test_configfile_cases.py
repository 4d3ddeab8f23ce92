"""Golden cases: each file in configfiles/ read as AVP (viper) reads its format.

``NAME.EXT`` is the config file, ``NAME.expected.json`` holds ``settings`` (what ``load``
returns, with ``environ`` as the process environment) or ``error`` (the ConfigError's text
after ``While parsing config: PATH: ``). Error cases hold ``s3cr3t-x`` where a credential
would be: no message may quote it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from avp_py.errors import ConfigError
from avp_py.settings import load_settings
from avp_py.settings.configfile import load

CASES = Path(__file__).parent / "configfiles"
SENTINEL = "s3cr3t-x"


def _cases() -> list[Path]:
    return sorted(path for path in CASES.iterdir() if not path.name.endswith(".expected.json"))


def _expected(path: Path) -> dict[str, object]:
    data = json.loads((CASES / f"{path.stem}.expected.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("path", _cases(), ids=lambda path: path.name)
def test_case(path: Path) -> None:
    expected = _expected(path)
    environ = expected.get("environ", {})
    assert isinstance(environ, dict)
    if path.suffix == ".toml" and sys.version_info < (3, 11):
        pytest.skip("TOML config files need Python 3.11 (tomllib)")
    if "error" in expected:
        with pytest.raises(ConfigError) as caught:
            load(str(path), environ)
        assert str(caught.value) == f"While parsing config: {path}: {expected['error']}"
        assert SENTINEL not in str(caught.value)
        assert SENTINEL not in repr(caught.value.__cause__)
    else:
        assert load(str(path), environ) == expected["settings"]


def test_every_case_has_its_expectation() -> None:
    names = {path.stem for path in _cases()}
    expectations = CASES.glob("*.expected.json")
    assert {path.name.removesuffix(".expected.json") for path in expectations} == names
    assert {path.suffix for path in _cases()} == {
        ".env",
        ".properties",
        ".ini",
        ".yaml",
        ".yml",
        ".json",
        ".toml",
    }


@pytest.mark.parametrize(
    "name",
    ["env-gotenv.env", "properties-magiconair.properties", "ini-goini.ini", "yaml-viper.yaml"],
)
def test_the_settings_reach_avp_keys(name: str) -> None:
    """Whatever the format and the keys' case, AVP_TYPE is the backend setting."""
    path = CASES / name
    settings = load_settings({}, load(str(path), {"HOME": "/h"}))
    assert settings.backend == "azurekeyvault"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\rB=2", {"A": "1", "B": "2"}),  # a lone CR ends a line, as in gotenv
        ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ('A="x\\ry"', {"A": "x\ry"}),
    ],
)
def test_dotenv_line_ends(tmp_path: Path, text: str, expected: dict[str, str]) -> None:
    path = tmp_path / "c.env"
    path.write_bytes(text.encode())
    assert load(str(path), {}) == expected


def test_properties_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "c.properties"
    path.write_bytes(b"A=1\rB=one \\\r\n  two\r\nC=\\u00zz")
    with pytest.raises(ConfigError, match="line 4: an invalid"):
        load(str(path), {})


@pytest.mark.parametrize("name", [p.name for p in _cases() if "error" in _expected(p)])
def test_a_bad_file_is_one_error_line_exit_2(tmp_path: Path, name: str) -> None:
    """Through the command line: nothing on stdout, one Error: line naming file and line."""
    from click.testing import CliRunner

    from avp_py.cli.app import cli

    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    path = CASES / name
    result = CliRunner().invoke(cli, ["generate", "-c", str(path), str(manifest)], env={})
    assert (result.exit_code, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    expected = _expected(path)["error"]
    assert lines == [f"Error: While parsing config: {path}: {expected}"]
    assert SENTINEL not in result.stderr
