"""Planning: which strings hold placeholders, which secrets they need, plan-time problems."""

from __future__ import annotations

import base64
import json

from avp_py.directives import parse_directives
from avp_py.documents import Document
from avp_py.model import SecretRef, YamlNode
from avp_py.planner import decode_base64, plan_document
from avp_py.settings.policy import ReferenceRules, TenantPolicy, compile_path_validation
from avp_py.stream import Chunk

OPEN = ReferenceRules(None, TenantPolicy())


def _doc(body: dict[str, YamlNode]) -> Document:
    # The text a parsed document came from (JSON is YAML): planning looks at it for shortcuts.
    return Document(Chunk("in.yaml", 1, 1, json.dumps(body), False), body)


def _plan(body: dict[str, YamlNode], rules: ReferenceRules = OPEN):
    return plan_document(_doc(body), parse_directives(body), rules)


def _annotated(data: dict[str, YamlNode], kind: str = "ConfigMap", **annotations: str):
    return {
        "kind": kind,
        "metadata": {
            "name": "x",
            "annotations": {
                f"avp.kubernetes.io/{k.replace('_', '-')}": v for k, v in annotations.items()
            },
        },
        "data": data,
    }


def test_generic_refs_use_the_annotation_path_and_version() -> None:
    result = _plan(
        _annotated({"a": "<k1>-<k2>", "b": "<path:other#k3#7>"}, path="kv", secret_version="2")
    )
    assert result.problems == ()
    assert result.plan.refs() == {
        SecretRef("kv", "k1", "2"),
        SecretRef("kv", "k2", "2"),
        SecretRef("other", "k3", "7"),
    }


def test_without_annotation_only_inline_placeholders_count() -> None:
    result = _plan({"kind": "ConfigMap", "data": {"a": "<k1>", "b": "x <path:kv#s> y"}})
    assert [slot.path for slot in result.plan.slots] == [("data", "b")]


def test_empty_path_annotation_means_every_generic_key_is_missing() -> None:
    result = _plan(_annotated({"a": "<k1>"}, path=""))
    assert result.plan.slots[0].placeholders[0].ref is None
    assert result.plan.refs() == set()


def test_base64_templates_in_secrets_only() -> None:
    encoded = base64.b64encode(b"user: <path:kv#u>\n").decode()
    secret = _plan({"kind": "Secret", "data": {"f": encoded, "plain": "aGk="}})
    (slot,) = secret.plan.slots
    assert (slot.base64, slot.template) == (True, "user: <path:kv#u>\n")
    assert _plan({"kind": "ConfigMap", "data": {"f": encoded}}).plan.slots == ()


def test_list_elements_are_not_mapping_values() -> None:
    (slot,) = _plan({"kind": "X", "spec": {"args": ["<path:kv#a>"]}}).plan.slots
    assert (slot.path, slot.in_mapping) == (("spec", "args", 0), False)


def test_problems_are_collected_before_any_fetch() -> None:
    body = _annotated(
        {"a": "<k | nope>", "b": "<k | indent x>", "c": "<path:v#<path:v#k>>"},
        kind="Service",
        path="kv",
        remove_missing="true",
    )
    problems = _plan(body).problems
    assert len(problems) == 4
    assert "remove-missing annotation can only be used on Secret or ConfigMap" in (
        problems[0].message
    )
    assert problems[0].path is None and problems[0].field == ""  # the object itself
    by_field = {p.field: p.message for p in problems[1:]}
    assert by_field["data.a"] == "invalid modifier: nope for placeholder k"
    assert "indent: invalid indentation level" in by_field["data.b"]
    assert "nested placeholders are not supported" in by_field["data.c"]
    assert {p.where for p in problems} == {
        "in.yaml (document 1, line 1) Service/x",
        *(f"in.yaml (document 1, line 1) Service/x data.{f}" for f in "abc"),
    }


def test_path_validation_reports_the_annotation_once() -> None:
    rules = ReferenceRules(compile_path_validation("^allowed/"), TenantPolicy())
    problems = _plan(
        _annotated({"a": "<k1>", "b": "<k2>", "c": "<path:bad#x>"}, path="kv"), rules
    ).problems
    assert len(problems) == 2
    assert "the path kv is disallowed" in problems[0].message
    assert problems[1].message == (
        "the path bad is disallowed by AVP_PATH_VALIDATION restriction (placeholder path:bad#x)"
    )


def test_placeholders_in_keys_are_reported() -> None:
    (problem,) = _plan({"kind": "ConfigMap", "data": {"<path:kv#k>": "v"}}).problems
    assert (problem.where, problem.message) == (
        "in.yaml (document 1, line 1) ConfigMap/? data",
        "placeholders in keys are never replaced: <path:kv#k>",
    )


def test_decode_base64() -> None:
    assert decode_base64("PGE+") == "<a>"
    assert decode_base64("PGE+\n") == "<a>"
    for not_base64 in ("abc", "PGE", "P GE+", "", "    ", "PG=+"):
        assert decode_base64(not_base64) is None
