"""Go's strconv and encoding/json rules, as :mod:`avp_py.gocompat` keeps them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from avp_py import gocompat
from avp_py.gocompat import INT64_MAX, INT64_MIN, UINT64_MAX


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, True) for t in ("1", "t", "T", "TRUE", "true", "True")],
        *[(t, False) for t in ("0", "f", "F", "FALSE", "false", "False")],
        *[(t, None) for t in ("", "yes", "on", "tRUE", " true", "2")],
    ],
)
def test_parse_bool(text: str, expected: bool | None) -> None:
    assert gocompat.parse_bool(text) is expected


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("42", 10, 42),
        ("+42", 10, 42),
        ("-42", 10, -42),
        ("007", 10, 7),
        ("0" * 30 + "1", 10, 1),
        (str(INT64_MAX), 10, INT64_MAX),
        (str(INT64_MIN), 10, INT64_MIN),
        (str(INT64_MAX + 1), 10, None),
        (str(INT64_MIN - 1), 10, None),
        ("", 10, None),
        ("+", 10, None),
        ("1_000", 10, None),  # underscores only with base 0
        ("0x1F", 10, None),
        (" 1", 10, None),
        ("١", 10, None),  # a Unicode digit is not an ASCII digit
        ("0x1F", 0, 31),
        ("0X1f", 0, 31),
        ("0o17", 0, 15),
        ("017", 0, 15),
        ("08", 0, None),
        ("0b101", 0, 5),
        ("-0b101", 0, -5),
        ("0b-101", 0, None),
        ("1_000", 0, 1000),
        ("0x_1F", 0, 31),
        ("_1", 0, None),
        ("1__0", 0, None),
        ("1_", 0, None),
        ("-101", 2, -5),
        ("102", 2, None),
    ],
)
def test_parse_int(text: str, base: int, expected: int | None) -> None:
    assert gocompat.parse_int(text, base) == expected


def test_parse_uint_has_no_sign_and_reaches_uint64() -> None:
    assert gocompat.parse_uint(str(UINT64_MAX)) == UINT64_MAX
    assert gocompat.parse_uint(str(UINT64_MAX + 1)) is None
    assert gocompat.parse_uint("+1") is None
    assert gocompat.parse_uint("0xFFFFFFFFFFFFFFFF", 0) == UINT64_MAX


def test_parse_integer_is_parse_int_then_parse_uint() -> None:
    assert gocompat.parse_integer(str(UINT64_MAX)) == UINT64_MAX
    assert gocompat.parse_integer(str(INT64_MIN)) == INT64_MIN
    assert gocompat.parse_integer("+" + str(INT64_MAX + 1)) is None  # a sign: ParseInt only
    assert gocompat.parse_integer("0x8000000000000000", 0) == INT64_MAX + 1


@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_parse_int_reads_every_int64(number: int) -> None:
    assert gocompat.parse_int(str(number)) == number
    assert gocompat.parse_int(hex(number), 0) == number  # '-0x1f' as Go's base-0 syntax


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("-2.5e-10", -2.5e-10),
        ("1e5", 1e5),
        ("1_000.5", 1000.5),
        (".5_5", 0.55),
        ("1e1_0", 1e10),
        ("1e-400", 0.0),  # underflow is no error in Go
        ("1e400", None),  # ErrRange
        ("1_.5", None),
        ("1._5", None),
        (".", None),
        ("", None),
        ("inf", None),
        ("0x1p-2", None),
    ],
)
def test_parse_float(text: str, expected: float | None) -> None:
    assert gocompat.parse_float(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e6, "1e+06"),
        (1234567.5, "1.2345675e+06"),
        (123456.0, "123456"),
        (0.5, "0.5"),
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (0.0001, "0.0001"),
        (100.0, "100"),
        (123456789.0, "1.23456789e+08"),
        (1e20, "1e+20"),
        (1e21, "1e+21"),
        (4.611686018427388e18, "4.611686018427388e+18"),
        (-2.5e-10, "-2.5e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.0, "0"),
        (-0.0, "-0"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_format_float(value: float, expected: str) -> None:
    assert gocompat.format_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, "0.1"),  # float32 0.1 is 0.100000001490116..., its shortest digits are 0.1
        (3.4028235e38, "3.4028235e+38"),
        (1e39, "+Inf"),  # beyond float32
        (16777217.0, "1.6777216e+07"),
        (-0.0, "-0"),
        (math.nan, "NaN"),
    ],
)
def test_format_float32(value: float, expected: str) -> None:
    assert gocompat.format_float(value, 32) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4.611686018427388e18, "4611686018427388000"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),  # "clean up e-09 to e-9"
        (2.5e-8, "2.5e-8"),
        (1.5e300, "1.5e+300"),
        (123456789.5, "123456789.5"),
        (0.0, "0"),
        (-0.0, "-0"),
    ],
)
def test_json_float(value: float, expected: str) -> None:
    assert gocompat.json_float(value) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_float_refuses_what_json_cannot_hold(value: float) -> None:
    with pytest.raises(ValueError, match="^json: unsupported value: "):
        gocompat.json_float(value)


def test_json_string_is_html_safe() -> None:
    text = 'a"b\\c\n<&>\u2028\x01\b\f\ud800'
    assert gocompat.json_string(text) == (
        '"a\\"b\\\\c\\n\\u003c\\u0026\\u003e\\u2028\\u0001\\b\\f\\ufffd"'
    )


@pytest.mark.parametrize(
    ("value", "as_json", "as_yaml"),
    [
        # The number: Go's digits, not the float's exact 4611686018427387904.
        (4.611686018427388e18, 4611686018427388000, 4611686018427388000),
        (2.0, 2, 2),
        (-0.0, 0, 0),
        (9007199254740992.0, 9007199254740992, 9007199254740992),
        (1e19, 1e19, 10000000000000000000),  # beyond int64, within uint64
        (1e20, 1e20, 1e20),  # beyond uint64
        (1e21, 1e21, 1e21),  # json.Marshal writes 1e+21
        (0.5, 0.5, 0.5),
    ],
)
def test_json_and_yaml_numbers(value: float, as_json: float, as_yaml: float) -> None:
    json_number, yaml_number = gocompat.json_number(value), gocompat.yaml_number(value)
    assert (json_number, type(json_number)) == (as_json, type(as_json))
    assert (yaml_number, type(yaml_number)) == (as_yaml, type(as_yaml))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_keep_the_value_go_marshals(value: float) -> None:
    """Whatever becomes an int is exactly the integer json.Marshal writes."""
    number = gocompat.yaml_number(value)
    if isinstance(number, int):
        assert number == 0 or str(number) == gocompat.json_float(value)
        assert float(number) == value
    else:
        assert number is value


def test_type_names() -> None:
    values = ({}, [], 1.0, True, 1, None, "s")
    assert [gocompat.type_name(v) for v in values] == [
        "map[string]interface {}",
        "[]interface {}",
        "float64",
        "bool",
        "int",
        "<nil>",
        "string",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"plain \xe2\x9c\x93", "plain \u2713"),
        (b"\xff", "\ufffd"),
        (b"\xe2\x9c", "\ufffd\ufffd"),  # truncated: one U+FFFD per byte (Python's "replace": one)
        (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate
        (b"\xf4\x90\x80\x80", "\ufffd" * 4),  # beyond U+10FFFF
        (b"\xe2\x9cA", "\ufffd\ufffdA"),
    ],
)
def test_invalid_utf8_becomes_one_replacement_character_per_byte(
    data: bytes, expected: str
) -> None:
    assert gocompat.decode_utf8(data) == expected


def test_lone_surrogates_in_decoded_json_become_replacement_characters() -> None:
    value = {"\udc00k": ["\ud800x", "ok", {"n": "\udcff"}], "s": 1.0}
    assert gocompat.json_strings(value) == {"\ufffdk": ["\ufffdx", "ok", {"n": "\ufffd"}], "s": 1.0}
    assert gocompat.json_strings("\ud800") == "\ufffd"
    assert gocompat.json_text("fine") == "fine"
