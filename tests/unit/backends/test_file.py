"""The file backend's content types (issue 15): declared under ``"#contentTypes"``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from avp_py.backends.base import BackendContext
from avp_py.backends.file import create
from avp_py.errors import ConfigError, SecretNotFoundError
from avp_py.model import Deadline, SecretRef

DATA = """\
kv:
  tls: MIIK
  plain: text
"kv#0123":
  tls: OLD
"#contentTypes":
  kv:
    tls: application/x-pkcs12
  "kv#0123":
    tls: application/x-pem-file
"""


def _backend(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "secrets.yaml"
    path.write_text(text)
    deadline = Deadline(5, time.monotonic() + 5)
    return create(BackendContext({"AVP_FILE_PATH": str(path)}, deadline, 1))


def test_content_types_by_entry_and_version(tmp_path: Path) -> None:
    backend = _backend(tmp_path, DATA)
    assert backend.fetch(SecretRef("kv", "tls")).content_type == "application/x-pkcs12"
    assert backend.fetch(SecretRef("kv", "tls", "0123")).content_type == "application/x-pem-file"
    assert backend.fetch(SecretRef("kv", "plain")).content_type is None


def test_a_version_without_its_own_type_has_the_path_s(tmp_path: Path) -> None:
    backend = _backend(
        tmp_path, DATA.replace('  "kv#0123":\n    tls: application/x-pem-file\n', "")
    )
    assert backend.fetch(SecretRef("kv", "tls", "0123")).content_type == "application/x-pkcs12"


def test_the_section_is_not_a_path(tmp_path: Path) -> None:
    backend = _backend(tmp_path, DATA)
    with pytest.raises(SecretNotFoundError):
        backend.fetch(SecretRef("#contentTypes", "kv"))
    assert not backend.fetch_state(SecretRef("#contentTypes", "kv")).usable


@pytest.mark.parametrize(
    "section",
    [
        '"#contentTypes": [a]\n',
        '"#contentTypes":\n  kv: text\n',
        '"#contentTypes":\n  kv:\n    tls: [x]\n',
    ],
)
def test_a_malformed_section_is_a_configuration_error(tmp_path: Path, section: str) -> None:
    with pytest.raises(
        ConfigError, match='"#contentTypes" in the secrets file .* must be a mapping'
    ):
        _backend(tmp_path, "kv:\n  tls: x\n" + section)
