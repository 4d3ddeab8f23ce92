"""The start-up check of the workload identity token file (``localfiles``), offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from avp_py.backends.azurekeyvault import create
from avp_py.backends.azurekeyvault.localfiles import check_file
from avp_py.backends.base import BackendContext
from avp_py.errors import ConfigError
from avp_py.model import Deadline


def _problem(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        check_file("SETTING", str(path), "the fix")
    assert list(caught.value.details()) == ["the fix"]
    message = str(caught.value)
    assert message.startswith(f"SETTING={path} ")
    return message.removeprefix(f"SETTING={path} ")


def test_a_readable_file_and_a_symlink_to_one_pass(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("header.payload.signature")
    link = tmp_path / "link"  # projected volumes reach the file through symlinks
    link.symlink_to(token)
    check_file("SETTING", str(token), "fix")
    check_file("SETTING", str(link), "fix")


def test_each_unusable_file_says_why(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("")
    (tmp_path / "file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert _problem(tmp_path / "absent") == "does not exist"
    assert _problem(tmp_path / "dangling") == "does not exist"
    assert _problem(tmp_path) == "is a directory, not a file"
    assert _problem(tmp_path / "empty") == "is empty"
    assert _problem(tmp_path / "file" / "token") == "cannot be read: Not a directory"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "token"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert _problem(fifo) == "is not a regular file"


def test_create_checks_the_token_file_of_workload_identity_only(tmp_path: Path) -> None:
    options = {
        "AZURE_TENANT_ID": "t",
        "AZURE_CLIENT_ID": "c",
        "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "absent"),
    }
    deadline = Deadline(5.0, 1e12)
    with pytest.raises(ConfigError, match="AZURE_FEDERATED_TOKEN_FILE=.* does not exist"):
        create(BackendContext({**options, "AVP_AZURE_CREDENTIAL": "workload"}, deadline, 4))
    # The default chain tries workload identity among others: a missing file is not fatal.
    create(BackendContext({**options, "AVP_AZURE_CREDENTIAL": "default"}, deadline, 4)).close()
