"""The read step ``generate`` and ``check`` share (render.read_documents)."""

from __future__ import annotations

import pytest

from avp_py.check.run import check
from avp_py.errors import InputError
from avp_py.render import read_documents, render, start_deadline
from avp_py.settings import load_settings
from avp_py.sources import Source

EMPTY = [Source("in.yaml", "# nothing but a comment\n---\n")]


def test_generate_and_check_refuse_empty_input_with_one_message() -> None:
    settings = load_settings({"AVP_TYPE": "file"})
    with pytest.raises(InputError) as generating:
        render(EMPTY, settings, start_deadline(5))
    with pytest.raises(InputError) as checking:
        check(EMPTY, settings, start_deadline(5))
    assert str(generating.value) == str(checking.value)
    assert "--allow-empty or AVP_ALLOW_EMPTY=true" in str(generating.value)


def test_empty_input_may_be_allowed() -> None:
    settings = load_settings({"AVP_TYPE": "file", "AVP_ALLOW_EMPTY": "true"})
    assert read_documents(EMPTY, settings, directory_mode=False) == []


def test_the_settings_limits_apply() -> None:
    settings = load_settings({"AVP_TYPE": "file", "AVP_MAX_DEPTH": "4"})
    deep = [Source("in.yaml", "kind: X\na: {b: {c: {d: {e: 1}}}}\n")]
    with pytest.raises(InputError, match="deeper than 4"):
        read_documents(deep, settings, directory_mode=False, load_all=True)
