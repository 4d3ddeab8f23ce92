"""Substitution: AVP's per-string rules, kind rules, remove-missing; values never in messages."""

from __future__ import annotations

import json

import pytest

from avp_py.budget import Budget
from avp_py.directives import parse_directives
from avp_py.documents import Document
from avp_py.errors import InputError
from avp_py.model import Missing, MissingReason, Outcome, SecretRef, SecretValue, YamlNode
from avp_py.planner import plan_document
from avp_py.settings.policy import ReferenceRules, TenantPolicy
from avp_py.stream import Chunk
from avp_py.substitute import Substitution, normalize, stringify, substitute

VALUES: dict[str, object] = {
    "s": "text",
    "n": 3,
    "f": 2.0,
    "m": {"a": [1, 2]},
    "json": '{"x": 5}',
    "secret": "SENTINEL-zz9",
    "null": "null",
    "tricky": 'q"uote \\back<slash> & more\n\x01 \u2028 é',
}


def lookup(ref: SecretRef) -> Outcome:
    if ref.key in VALUES:
        return SecretValue(VALUES[ref.key], "v1")
    return Missing(MissingReason.NOT_FOUND)


def _run(body: dict[str, YamlNode]) -> Substitution:
    result = plan_document(
        Document(Chunk("f", 1, 1, "", False), body),
        parse_directives(body),
        ReferenceRules(None, TenantPolicy()),
    )
    assert result.problems == ()
    return substitute(result.plan, lookup)


def _cm(data: dict[str, YamlNode], kind: str = "Thing", **annotations: str) -> dict[str, YamlNode]:
    meta: dict[str, YamlNode] = {
        "name": "o",
        "annotations": {
            "avp.kubernetes.io/path": "kv",
            **{f"avp.kubernetes.io/{k.replace('_', '-')}": v for k, v in annotations.items()},
        },
    }
    return {"kind": kind, "metadata": meta, "data": data}


def test_substrings_and_whole_value_non_strings() -> None:
    out = _run(_cm({"a": "x-<s>-<s>", "b": "<n>", "c": "pre <n> post", "d": "<m>", "e": "<f>"}))
    assert out.failures == ()
    assert out.body["data"] == {"a": "x-text-text", "b": 3, "c": 3, "d": {"a": [1, 2]}, "e": 2}


def test_modifier_results() -> None:
    out = _run(
        _cm({"a": "<json | jsonParse>", "b": "<json | jsonPath {.x}>", "c": "<null | jsonParse>"})
    )
    assert out.body["data"] == {"a": {"x": 5}, "b": "5", "c": None}


def test_configmap_values_are_stringified() -> None:
    out = _run(
        _cm({"a": "<n>", "b": "<json | jsonParse | jsonPath {.x} | jsonParse>"}, kind="ConfigMap")
    )
    assert out.body["data"] == {"a": "3", "b": "5"}
    failed = _run(_cm({"a": "<m>"}, kind="ConfigMap"))
    assert failed.failures == (
        "f (document 1, line 1) ConfigMap/o data.a:"
        " a map[string]interface {} cannot be written into a ConfigMap value",
    )


def test_failures_are_located_and_never_show_values() -> None:
    out = _run(_cm({"a": "<nope>", "b": "<secret | jsonParse>", "c": "<s>"}))
    assert out.body is None
    assert len(out.failures) == 2
    assert (
        out.failures[0] == "f (document 1, line 1) Thing/o data.a:"
        " missing Vault value for placeholder nope (kv#nope: not found)"
    )
    assert out.failures[1].startswith(
        "f (document 1, line 1) Thing/o data.b: jsonParse: invalid JSON"
    )
    assert all("SENTINEL" not in failure for failure in out.failures)


def test_remove_missing_drops_mapping_keys_only() -> None:
    out = _run(_cm({"gone": "<nope>", "kept": "<s>"}, kind="Secret", remove_missing="true"))
    assert out.body["data"] == {"kept": "text"}
    in_list = _run(
        {
            "kind": "Secret",
            "metadata": {
                "annotations": {
                    "avp.kubernetes.io/path": "kv",
                    "avp.kubernetes.io/remove-missing": "true",
                }
            },
            "l": ["<nope>"],
        }
    )
    assert len(in_list.failures) == 1


def test_nothing_to_change_gives_no_body() -> None:
    out = _run(_cm({"a": "plain"}))
    assert (out.body, out.failures) == (None, ())


def test_stringify_and_normalize() -> None:
    assert [stringify(v) for v in ("a", 1, True, False, 1.5, None, {})] == [
        "a",
        "1",
        "true",
        "false",
        None,
        None,
        None,
    ]
    assert normalize({"a": [1.0, 1.5, 2**70 * 1.0]}) == {"a": [1, 1.5, 2**70 * 1.0]}


def test_normalize_keeps_the_digits_go_writes() -> None:
    # Issue 10, item 5: float64 → json.Marshal gives 4611686018427388000, the shortest digits.
    assert normalize(4.611686018427388e18) == 4611686018427388000
    assert normalize(-0.0) == 0


def test_json_escaped_placeholders_get_json_escaped_values() -> None:
    # Helm's toJson writes '<path:kv#x>' as '\u003cpath:kv#x\u003e' inside a JSON string.
    text = json.dumps({"a": "<path:kv#tricky>", "b": "<path:kv#s>!", "c": "x"})
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")  # as Go's json.Marshal does
    result = _run({"kind": "ConfigMap", "data": {"j": text}})
    assert isinstance(result.body, dict) and isinstance(result.body["data"], dict)
    filled = result.body["data"]["j"]
    assert isinstance(filled, str)
    assert json.loads(filled) == {"a": VALUES["tricky"], "b": "text!", "c": "x"}
    assert "\\u003cslash\\u003e \\u0026" in filled  # HTML-safe, as json.Marshal writes it


def test_a_json_escaped_placeholder_needs_a_string_result() -> None:
    body: dict[str, YamlNode] = {"kind": "Thing", "data": {"j": '{"n":"\\u003cpath:kv#n\\u003e"}'}}
    result = _run(body)
    assert result.body is None
    (failure,) = result.failures
    assert "a value of type int cannot be written into the JSON string" in failure


def test_values_put_in_are_counted_against_the_output_limit() -> None:
    # Issue 11 item 3: the limit is checked while substituting, at the placeholder that passed
    # it, never after the whole output was built.
    body = _cm({f"k{index}": "<path:kv#secret>" for index in range(5)})
    result = plan_document(
        Document(Chunk("f", 1, 1, "", False), body),
        parse_directives(body),
        ReferenceRules(None, TenantPolicy()),
    )
    fits = Budget(max_output_bytes=5 * len("SENTINEL-zz9"))
    assert substitute(result.plan, lookup, fits).failures == ()
    small = Budget(max_output_bytes=3 * len("SENTINEL-zz9"))
    with pytest.raises(InputError) as caught:
        substitute(result.plan, lookup, small)
    message = str(caught.value)
    assert message.startswith("f (document 1, line 1) Thing/o data.k3 placeholder path:kv#secret:")
    assert "AVP_MAX_OUTPUT_BYTES" in message and "SENTINEL" not in message


def test_a_value_that_is_not_a_string_counts_as_its_secrets_text() -> None:
    body = _cm({"a": "<path:kv#json | jsonParse>", "b": "<path:kv#json | jsonParse>"})
    result = plan_document(
        Document(Chunk("f", 1, 1, "", False), body),
        parse_directives(body),
        ReferenceRules(None, TenantPolicy()),
    )
    with pytest.raises(InputError, match="data.b placeholder"):
        substitute(result.plan, lookup, Budget(max_output_bytes=len('{"x": 5}') + 1))
