"""avp.kubernetes.io annotations → typed directives."""

from __future__ import annotations

import pytest

from avp_py.directives import Directives, parse_directives
from avp_py.errors import PlaceholderError
from avp_py.model import YamlNode


def _object(**annotations: YamlNode) -> dict[str, YamlNode]:
    prefixed = {f"avp.kubernetes.io/{k.replace('_', '-')}": v for k, v in annotations.items()}
    return {"kind": "Secret", "metadata": {"name": "x", "annotations": prefixed}}


def test_defaults_without_annotations() -> None:
    assert parse_directives({"kind": "Secret"}) == Directives()
    assert not Directives().generic


def test_all_annotations() -> None:
    found = parse_directives(
        _object(path="kv", secret_version="3", ignore="True", remove_missing="1", kv_version="2")
    )
    assert found == Directives("kv", "3", ignore=True, remove_missing=True)
    assert found.generic


def test_empty_path_still_selects_generic_mode() -> None:
    assert parse_directives(_object(path="")).generic


@pytest.mark.parametrize("value", ["yes", "on", "TrUe", ""])
def test_ambiguous_booleans_are_errors(value: str) -> None:
    with pytest.raises(PlaceholderError, match='must be "true" or "false"'):
        parse_directives(_object(ignore=value))


@pytest.mark.parametrize("value", [True, 1, None, ["x"]])
def test_non_string_values_are_errors(value: YamlNode) -> None:
    with pytest.raises(PlaceholderError, match="must be a string"):
        parse_directives(_object(remove_missing=value))


def test_other_annotations_may_be_anything() -> None:
    body: YamlNode = {"metadata": {"annotations": {"foo": 1, "avp.kubernetes.io/path": "kv"}}}
    assert parse_directives(body).path == "kv"


def test_annotations_must_be_a_mapping() -> None:
    with pytest.raises(PlaceholderError):
        parse_directives({"metadata": {"annotations": ["a"]}})
