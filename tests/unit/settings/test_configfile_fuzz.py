"""Any text in a config file of any format gives settings or one ConfigError, never another
exception (which would be an internal error, exit 1)."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avp_py.errors import ConfigError
from avp_py.settings.configfile import load

EXTENSIONS = ["env", "properties", "ini", "yaml", "json", "toml"]
# The characters and words the formats give a meaning to.
ALPHABET = st.sampled_from([*"=:#;!'\"`\\$%{}()[]\n\r\t .,-_", "export ", "${", "\\u", '"""'])
TEXT = st.lists(st.one_of(ALPHABET, st.sampled_from(string.ascii_letters)), max_size=60).map(
    "".join
)


@pytest.mark.parametrize("extension", EXTENSIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_any_text_is_settings_or_a_config_error(extension: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"c.{extension}"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load(str(path), {})
        except ConfigError:
            return
    assert all(isinstance(value, str) for value in loaded.values())


@pytest.mark.parametrize(
    ("extension", "text"), [("json", "[" * 100_000), ("toml", "a = " + "[" * 100_000)]
)
def test_deep_nesting_is_a_config_error(tmp_path: Path, extension: str, text: str) -> None:
    path = tmp_path / f"c.{extension}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="While parsing config"):
        load(str(path), {})
