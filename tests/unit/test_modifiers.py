"""Modifiers: AVP's semantics and error texts (avp-behaviour.md §3.9, §5.3)."""

from __future__ import annotations

import pytest

from avp_py.errors import ModifierError
from avp_py.modifiers import apply, check_call


def test_indent_matches_avp() -> None:
    assert apply("indent", ("3",), "a\nmulti-line\nstring") == "a\n   multi-line\n   string"
    # AVP trims every line, drops blank lines and keeps a trailing newline.
    assert apply("indent", ("2",), "  a \n\n  b\n") == "a\n  b\n"
    assert apply("indent", ("-4",), "a\nb") == "a\nb"


def test_sha256sum() -> None:
    assert apply("sha256sum", (), "mysecret") == (
        "652c7dc687d98c9889304ed2e408c74b611e86a40caa51c4b43f1dd5913c5cd0"
    )


def test_base64_round_trip_is_binary_safe() -> None:
    encoded = "AP8QIA=="  # bytes 00 ff 10 20: not UTF-8
    decoded = apply("base64decode", (), encoded)
    assert apply("base64encode", (), decoded) == encoded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aGVsbG8=", "hello"),
        ("aGVs\nbG8=", "hello"),  # CR/LF ignored
        ("aGVsbG8", "hel"),  # unpadded tail dropped
        ("aGVs!!!!bG8=", "hel"),  # decoding stops at the first bad group
        ("aGVsbA==garbage", "hell"),  # a correctly padded group followed by garbage is kept
        ("", ""),
    ],
)
def test_base64decode_is_lenient_like_go(text: str, expected: str) -> None:
    assert apply("base64decode", (), text) == expected


def test_json_parse_gives_go_values() -> None:
    assert apply("jsonParse", (), '{"a": [1, true, null]}') == {"a": [1.0, True, None]}


def test_json_path_on_strings_and_maps() -> None:
    data = {"deployment": {"replicas": 2, "image": {"name": "x"}}}
    assert apply("jsonPath", ("{.deployment.replicas}",), data) == "2"
    assert apply("jsonPath", ("{.deployment.image}",), data) == '{"name":"x"}'
    assert apply("jsonPath", ("{.a}",), '{"a": 1000000}') == "1e+06"


def test_json_path_prints_nulls_as_client_go_does() -> None:
    # A null inside the value prints "null" (kubectl -o jsonpath agrees); a value that is null
    # as a whole is Go's invalid reflect.Value and prints "<no value>".
    value = '{"a": null, "b": [1, null], "c": {"d": null}}'
    assert apply("jsonPath", ("{.a}",), value) == "null"
    assert apply("jsonPath", ("{.b[*]}",), value) == "1 null"
    assert apply("jsonPath", ("{.c.d}",), value) == "null"
    assert apply("jsonPath", ("{.b}",), value) == "[1,null]"
    assert apply("jsonPath", ("{@}",), "null") == "<no value>"


@pytest.mark.parametrize(
    ("name", "args", "value", "expected"),
    [
        # Go decodes a lone surrogate escape (and an undecodable byte in a string) to U+FFFD.
        ("jsonParse", (), '"\\ud800x"', "\ufffdx"),
        (
            "jsonParse",
            (),
            '{"\\udc00k": ["\\ud800", "\\ud83d\\ude00"]}',
            {"\ufffdk": ["\ufffd", "\U0001f600"]},
        ),
        ("jsonParse", (), '"a\udcffb"', "a\ufffdb"),  # byte ff from base64decode
        ("jsonPath", ("{@}",), '"\\ud800x"', "\ufffdx"),
        ("jsonPath", ("{.k}",), '{"k": "\\udfffx"}', "\ufffdx"),
        ("jsonPath", ("{@}",), '{"k": "\\ud800"}', '{"k":"\ufffd"}'),
    ],
)
def test_lone_surrogates_decode_to_replacement_characters(
    name: str, args: tuple[str, ...], value: str, expected: object
) -> None:
    assert apply(name, args, value) == expected


@pytest.mark.parametrize("value", ["1e400", "-1e400", "[1, 1e309]", '{"a": ' + "9" * 400 + "}"])
@pytest.mark.parametrize(("name", "args"), [("jsonParse", ()), ("jsonPath", ("{@}",))])
def test_numbers_beyond_float64_are_go_unmarshal_errors(
    name: str, args: tuple[str, ...], value: str
) -> None:
    with pytest.raises(ModifierError) as caught:
        apply(name, args, value)
    assert str(caught.value) == (
        f"{name}: json: cannot unmarshal number into Go value of type float64 (out of range)"
    )


def test_tiny_numbers_round_to_zero_as_in_go() -> None:
    assert apply("jsonParse", (), "[1e-400]") == [0.0]


def test_yaml_parse_uses_yaml_11_typing() -> None:
    assert apply("yamlParse", (), "---\nkey1: yes\nkey2: '2'") == {"key1": True, "key2": "2"}


@pytest.mark.parametrize(
    ("name", "args", "value", "message"),
    [
        ("base64encode", ("x",), "a", "base64encode: invalid parameters"),
        ("base64encode", (), {"a": 1}, "base64encode: invalid datatype map[string]interface {}"),
        ("jsonParse", (), ["a"], "jsonParse: invalid datatype []interface {}"),
        ("sha256sum", (), 1.5, "sha256sum: invalid datatype float64, expected string"),
        ("indent", ("2",), True, "indent: invalid datatype bool"),
        ("jsonPath", ("{.missingPath}",), "{}", "jsonPath: missingPath is not found"),
        ("jsonPath", ("{.a}",), "not json", "jsonPath: invalid JSON"),
        ("jsonParse", (), "NaN", "jsonParse: invalid JSON"),
        ("yamlParse", (), "a: [", "yamlParse: error converting YAML to JSON"),
    ],
)
def test_errors(name: str, args: tuple[str, ...], value: object, message: str) -> None:
    with pytest.raises(ModifierError) as caught:
        apply(name, args, value)
    assert str(caught.value).startswith(message)


def test_errors_never_quote_the_value() -> None:
    secret = "sk-live-VERY-SECRET"
    for name in ("jsonParse", "jsonPath", "yamlParse"):
        args = ("{.a}",) if name == "jsonPath" else ()
        with pytest.raises(ModifierError) as caught:
            apply(name, args, secret + ": [")
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "args", "problem"),
    [
        ("base64encod", (), "invalid modifier: base64encod"),
        ("", (), "empty modifier statement"),
        ("jsonPath", (), "jsonPath: invalid parameters"),
        ("indent", ("1", "2"), "indent: invalid parameters"),
        ("indent", ("two",), "indent: invalid indentation level"),
        ("indent", ("100000",), "indent: invalid indentation level"),
        ("indent", ("9" * 5000,), "indent: invalid indentation level"),
        ("sha256sum", ("x",), "sha256sum: invalid parameters"),
        ("indent", ("4",), None),
        ("jsonPath", ("{.a", "b}"), None),
    ],
)
def test_plan_time_checks(name: str, args: tuple[str, ...], problem: str | None) -> None:
    assert check_call(name, args) == problem


def test_yaml_parse_numbers_are_float64_as_in_go() -> None:
    # sigs.k8s.io/yaml decodes its JSON step with encoding/json: every number is a float64.
    parsed = apply("yamlParse", (), "big: 9007199254740993\nhalf: 0.5\nlist: [1, 2]")
    assert parsed == {"big": 9007199254740992.0, "half": 0.5, "list": [1.0, 2.0]}
    assert isinstance(parsed, dict) and all(isinstance(v, float) for v in parsed["list"])
