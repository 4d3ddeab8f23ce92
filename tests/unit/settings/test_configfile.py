"""Config files of every format AVP (viper) reads; errors never echo the file's content."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from avp_py.errors import ConfigError
from avp_py.settings.configfile import load

FORMATS = {
    "json": '{"AVP_TYPE": "file", "avp_max_concurrency": 4}',
    "yaml": "AVP_TYPE: file\navp_max_concurrency: 4\n",
    "yml": "AVP_TYPE: file\navp_max_concurrency: 4\n",
    "env": "# comment\nexport AVP_TYPE=file\navp_max_concurrency='4'\n",
    "dotenv": 'AVP_TYPE="file"\navp_max_concurrency=4\n',
    "properties": "! comment\nAVP_TYPE: file\navp_max_concurrency = 4\n",
    "ini": "AVP_TYPE = file\navp_max_concurrency = 4\n",
    "toml": 'AVP_TYPE = "file"\navp_max_concurrency = 4\n',
}


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_formats(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"config.{extension}"
    path.write_text(FORMATS[extension])
    if extension == "toml" and sys.version_info < (3, 11):
        with pytest.raises(ConfigError, match="TOML config files need Python 3.11"):
            load(str(path))
        return
    loaded = {key.upper(): str(value) for key, value in load(str(path)).items()}
    assert loaded == {"AVP_TYPE": "file", "AVP_MAX_CONCURRENCY": "4"}


@pytest.mark.parametrize("name", ["config.hcl", "config", "config.YAML"])
def test_unsupported_types(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("a=b")
    with pytest.raises(ConfigError, match="Unsupported Config Type"):
        load(str(tmp_path / name))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="open .*nope.yaml: no such file or directory"):
        load(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.json", '{"AZURE_CLIENT_SECRET": "s3cr3t-x",}'),
        ("c.yaml", "AZURE_CLIENT_SECRET: [s3cr3t-x\n"),
        ("c.env", "s3cr3t-x\n"),
    ],
)
def test_parse_errors_do_not_echo_content(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match="While parsing config") as caught:
        load(str(tmp_path / name))
    assert "s3cr3t-x" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "text"), [("c.json", "[" * 200_000), ("c.toml", "a = " + "[" * 200_000)]
)
def test_nesting_too_deep_for_the_parser_is_a_configuration_error(
    tmp_path: Path, name: str, text: str
) -> None:
    # Once a RecursionError: "Error: internal error: RecursionError at json/decoder.py".
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=f"While parsing config: .*{name} is nested too deeply"):
        load(str(tmp_path / name))


def test_must_hold_key_values(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold key/value pairs"):
        load(str(tmp_path / "c.json"))
