"""Tests of the client-go JSONPath port (avp_py.jsonpath).

Expected outputs and error texts follow k8s.io/client-go/util/jsonpath v0.29 as AVP runs it
(AllowMissingKeys(false), values decoded by Go's json.Unmarshal: numbers are float64).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avp_py.jsonpath import JsonPathError, evaluate, evaluator, validate

CLUSTER = {
    "kind": "NodeList",
    "nodes": [
        {
            "name": "alpha",
            "labels": {"topology.kubernetes.io/zone": "west", "tier": "gold"},
            "cpu": 4.0,
            "ready": True,
            "ips": [{"kind": "internal", "ip": "10.0.0.1"}],
        },
        {
            "name": "beta",
            "labels": {"topology.kubernetes.io/zone": "east"},
            "cpu": 8.0,
            "ready": False,
            "ips": [
                {"kind": "internal", "ip": "10.0.0.2"},
                {"kind": "external", "ip": "203.0.113.9"},
            ],
        },
    ],
    "owners": [{"who": "ops", "contact": {}}, {"who": "dev", "contact": {"mail": "d@x"}}],
}
NUMBERS = {"n": [10.0, 20.0, 30.0, 40.0, 50.0]}
FIXTURE_DATA = {"service": {"enableTLS": True, "ports": [80.0, 8080.0]}}
# AVP's modifiers fixture, as the modifier receives it (arguments joined with single spaces).
FIXTURE_TEMPLATE = (
    "{'['} {range .service.ports[0:-1:1]} {'{\"protocol\":\"TCP\",'} {'\"port\":'}{@} "
    "{',\"targetPort\":'}{@} {'},'} {end} {'{\"protocol\":\"TCP\",'} "
    "{'\"port\":'}{.service.ports[-1]} {',\"targetPort\":'}{.service.ports[-1]} {'}]'}"
)


def run(template: str, data: object) -> str:
    return evaluate(template, data)


def error_of(template: str, data: object) -> str:
    with pytest.raises(JsonPathError) as info:
        evaluate(template, data)
    return str(info.value)


# ------------------------------------------------------------------------------ fixture


def test_avp_fixture_template_prints_the_text_between_actions() -> None:
    out = run(FIXTURE_TEMPLATE, FIXTURE_DATA)
    assert out == (
        '[  {"protocol":"TCP", "port":80 ,"targetPort":80 },'
        '  {"protocol":"TCP", "port":8080 ,"targetPort":8080 }]'
    )
    assert json.loads(out) == [
        {"protocol": "TCP", "port": 80, "targetPort": 80},
        {"protocol": "TCP", "port": 8080, "targetPort": 8080},
    ]


# -------------------------------------------------------------------------- happy paths

SUCCESS_CASES: list[tuple[str, str, object, str]] = [
    # literal text, sequences, quoting
    ("plain text", "no actions at all", None, "no actions at all"),
    ("empty template", "", CLUSTER, ""),
    ("text around actions", "kind={.kind}!", CLUSTER, "kind=NodeList!"),
    ("stray closing brace is text", "{.kind}}", CLUSTER, "NodeList}"),
    ("adjacent actions", "{.kind}{.owners[0].who}", CLUSTER, "NodeListops"),
    ("single-quoted literal", "{'a b'}", None, "a b"),
    ("double-quoted literal", '{"{"}', None, "{"),
    ("literal with the other quote", "{'say \"hi\"'}", None, 'say "hi"'),
    ("go escapes", r'{"t\tn\u00e9\x41\101"}', None, "t\tnéAA"),
    ("escaped single quote", r"{'it\'s'}", None, "it's"),
    ("spaces inside action", "{  .kind  }", CLUSTER, "NodeList"),
    ("dollar root", "{$.kind}", CLUSTER, "NodeList"),
    ("at root", "{@.kind}", CLUSTER, "NodeList"),
    ("current object", "{@}", {"b": 1.0, "a": "x"}, '{"a":"x","b":1}'),
    # fields and keys
    ("nested fields", "{.nodes[0].labels.tier}", CLUSTER, "gold"),
    ("escaped dot in key", r"{.nodes[0].labels.topology\.kubernetes\.io/zone}", CLUSTER, "west"),
    ("dash and slash in key", "{.a-b/c}", {"a-b/c": "v"}, "v"),
    ("bracket key", "{.nodes[1]['name']}", CLUSTER, "beta"),
    ("bracket key is reparsed as a path", "{['x.y']}", {"x": {"y": "deep"}}, "deep"),
    ("empty bracket key", "{['']}", {"": "empty"}, "empty"),
    ("null value", "{.a}", {"a": None}, "null"),
    ("null field", "{.a.b}", {"a": {"b": None}}, "null"),
    # arrays and slices
    ("index", "{.n[1]}", NUMBERS, "20"),
    ("negative index", "{.n[-1]}", NUMBERS, "50"),
    ("negative index from start", "{.n[-5]}", NUMBERS, "10"),
    ("slice", "{.n[1:3]}", NUMBERS, "20 30"),
    ("slice open end", "{.n[3:]}", NUMBERS, "40 50"),
    ("slice open start", "{.n[:2]}", NUMBERS, "10 20"),
    ("slice negative end", "{.n[0:-1]}", NUMBERS, "10 20 30 40"),
    ("slice negative start", "{.n[-2:]}", NUMBERS, "40 50"),
    ("slice with step", "{.n[0:5:2]}", NUMBERS, "10 30 50"),
    ("slice step only", "{.n[::3]}", NUMBERS, "10 40"),
    ("slice offset step", "{.n[1::2]}", NUMBERS, "20 40"),
    ("slice empty step means one", "{.n[0:2:]}", NUMBERS, "10 20"),
    ("step larger than slice", "{.n[1:4:9]}", NUMBERS, "20"),
    ("all elements", "{.n[*]}", NUMBERS, "10 20 30 40 50"),
    ("colon only", "{.n[:]}", NUMBERS, "10 20 30 40 50"),
    ("empty brackets mean index zero", "{.n[]}", NUMBERS, "10"),
    ("zero-length slice", "{.n[2:2]}", NUMBERS, ""),
    ("zero-length slice past the end", "{.n[9:9]}", NUMBERS, ""),
    ("zero-length slice with zero step", "{.n[0:0:0]}", NUMBERS, ""),
    ("star of empty list", "{.e[*]}", {"e": []}, ""),
    ("index of null is skipped", "{.a[0]}", {"a": None}, ""),
    ("first empty selection stops", "{.a[*].b[*]}", {"a": [{"b": []}, {"b": [1.0]}]}, ""),
    ("path through lists", "{.nodes[*].ips[*].ip}", CLUSTER, "10.0.0.1 10.0.0.2 203.0.113.9"),
    ("whole list", "{.n}", NUMBERS, "[10,20,30,40,50]"),
    # union
    ("union of indexes", "{.n[0,2,4]}", NUMBERS, "10 30 50"),
    ("union of slices", "{.n[0:2, 3:]}", NUMBERS, "10 20 40 50"),
    ("union of keys", "{.nodes[*]['name', 'cpu']}", CLUSTER, "alpha beta 4 8"),
    ("union of paths", "{.nodes[0]['labels.tier', 'name']}", CLUSTER, "gold alpha"),
    # wildcard and recursive descent
    ("wildcard on map, sorted keys", "{.*}", {"b": 2.0, "a": 1.0, "c": "x"}, "1 2 x"),
    ("wildcard on list", "{.n.*}", NUMBERS, "10 20 30 40 50"),
    ("wildcard on string yields bytes", "{.s.*}", {"s": "aé"}, "97 195 169"),
    ("wildcard on number yields nothing", "{.v.*}", {"v": 1.0}, ""),
    ("recursive field", "{..ip}", CLUSTER, "10.0.0.1 10.0.0.2 203.0.113.9"),
    ("recursive keeps pre-order", "{..b}", {"a": {"b": 1.0}, "b": 2.0, "c": [{"b": 3.0}]}, "2 1 3"),
    ("three dots are two", "{...who}", CLUSTER, "ops dev"),
    ("recursive alone", "{..}", [1.0, 2.0], "[1,2]"),
    ("recursive lists non-empty strings", "{..}", {"a": "x", "b": ""}, '{"a":"x","b":""} x'),
    ("recursive then index", "{..ips[0].kind}", CLUSTER, "internal internal"),
    ("quoted paren in filter", "{.a[?(@.x=='y)')].x}", {"a": [{"x": "y)"}, {"x": "z"}]}, "y)"),
    # filters
    ("filter equal string", '{.nodes[?(@.name=="beta")].cpu}', CLUSTER, "8"),
    ("filter single quotes", "{.nodes[?(@.name=='alpha')].cpu}", CLUSTER, "4"),
    ("filter bool", "{.nodes[?(@.ready==true)].name}", CLUSTER, "alpha"),
    ("filter not equal", '{.nodes[?(@.name!="beta")].name}', CLUSTER, "alpha"),
    ("filter less", "{.n[?(@<30.0)]}", NUMBERS, "10 20"),
    ("filter greater", "{.n[?(@>30.0)]}", NUMBERS, "40 50"),
    ("filter less equal", "{.n[?(@<=30.0)]}", NUMBERS, "10 20 30"),
    ("filter greater equal", "{.n[?(@>=30.0)]}", NUMBERS, "30 40 50"),
    ("filter string order", '{.s[?(@>"b")]}', {"s": ["a", "b", "c"]}, "c"),
    ("filter with spaces", '{.nodes[?(@.name == "beta")].cpu}', CLUSTER, "8"),
    ("filter quoted paren", '{.s[?(@=="a)b")]}', {"s": ["a)b", "c"]}, "a)b"),
    (
        "filter field to field",
        "{.p[?(@.a==@.b)].id}",
        {"p": [{"a": 1.0, "b": 1.0, "id": "x"}]},
        "x",
    ),
    ("filter int data, int literal", "{.n[?(@<5)]}", {"n": [2, 6, 3]}, "2 3"),
    ("filter exists", "{.owners[?(@.contact.mail)].who}", CLUSTER, "dev"),
    ("filter exists keeps partial results", "{.a[?(@.b[5])]}", {"a": [{"b": [1.0]}]}, '{"b":[1]}'),
    ("filter operator at the end", "{.a[?(@.x=)]}", {"a": [{"x=": 1.0}, {"x": 1.0}]}, '{"x=":1}'),
    ("filter true literal", "{.n[?(true)]}", {"n": [1.0, 2.0]}, "1 2"),
    ("filter empty left side skips", "{.a[?(@.b[0:0]==1.0)]}", {"a": [{"b": [1.0]}]}, ""),
    ("filter nested in path", "{.nodes[*].ips[?(@.kind=='external')].ip}", CLUSTER, "203.0.113.9"),
    # literals
    ("int literal", "{3}", None, "3"),
    ("signed int literal", "{+5}{-0}", None, "50"),
    ("float literal", "{-2.50}", None, "-2.5"),
    ("float without fraction", "{1.}", None, "1"),
    ("float without integer", "{+.5}", None, "0.5"),
    ("int overflow becomes float", "{99999999999999999999}", None, "1e+20"),
    ("bool literals", "{true}{false}", None, "truefalse"),
    # range
    ("range", "{range .nodes[*]}{.name};{end}", CLUSTER, "alpha;beta;"),
    ("range then more", "{range .nodes[*]}{.name},{end}{.kind}", CLUSTER, "alpha,beta,NodeList"),
    ("range with quoted separator", '{range .n[0:2]}{@}{"\\n"}{end}', NUMBERS, "10\n20\n"),
    (
        "nested range",
        "{range .nodes[*]}{.name}:{range .ips[*]}{.ip} {end}|{end}",
        CLUSTER,
        "alpha:10.0.0.1 |beta:10.0.0.2 203.0.113.9 |",
    ),
    (
        "two ranges at one level",
        "{range .nodes[*]}{.name}({range .ips[*]}{.kind}{end}/{range .ips[*]}{.ip}{end}){end}",
        CLUSTER,
        "alpha(internal/10.0.0.1)beta(internalexternal/10.0.0.2203.0.113.9)",
    ),
    ("range over map values", "{range .*}<{@}>{end}", {"b": "2", "a": "1"}, "<1><2>"),
    ("range over empty list", "{range .e[*]}x{end}done", {"e": []}, "done"),
    ("range over a null element", "{range .a[*]}{@},{end}", {"a": [None, 1.0]}, "<no value>,1,"),
    ("range without end continues", "{range .a[*]}{@}", {"a": [1.0, 2.0]}, '12{"a":[1,2]}'),
    ("bare range", "{range}{.k}{end}", {"k": "v"}, "v"),
]


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [case[1:] for case in SUCCESS_CASES],
    ids=[case[0] for case in SUCCESS_CASES],
)
def test_evaluate(template: str, data: object, expected: str) -> None:
    assert run(template, data) == expected


# ------------------------------------------------------------------------------ printing

PRINT_CASES: list[tuple[object, str, str]] = [
    # Go %v of float64 (strconv 'g', shortest)
    (1000000.0, "1e+06", "1000000"),
    (2.0, "2", "2"),
    (0.5, "0.5", "0.5"),
    (1e-05, "1e-05", "0.00001"),
    (0.0001, "0.0001", "0.0001"),
    (1234567.5, "1.2345675e+06", "1234567.5"),
    (100000.0, "100000", "100000"),
    (123456789.0, "1.23456789e+08", "123456789"),
    (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
    (-3.25, "-3.25", "-3.25"),
    (0.0, "0", "0"),
    (-0.0, "-0", "-0"),
    (1e20, "1e+20", "100000000000000000000"),
    (1e21, "1e+21", "1e+21"),
    (1e-06, "1e-06", "0.000001"),
    (1e-07, "1e-07", "1e-7"),
    (1.5e-10, "1.5e-10", "1.5e-10"),
    (1e100, "1e+100", "1e+100"),
    (5e-324, "5e-324", "5e-324"),
    (True, "true", "true"),
    (False, "false", "false"),
    (None, "null", "null"),
    (7, "7", "7"),
    ("a<b>&c", "a<b>&c", '"a\\u003cb\\u003e\\u0026c"'),
]


@pytest.mark.parametrize(("value", "as_text", "as_json"), PRINT_CASES, ids=repr)
def test_scalar_printing(value: object, as_text: str, as_json: str) -> None:
    assert run("{.v}", {"v": value}) == as_text
    assert run("{.v}", {"v": [value]}) == f"[{as_json}]"


def test_special_floats() -> None:
    assert run("{.v}", {"v": float("inf")}) == "+Inf"
    assert run("{.v}", {"v": float("-inf")}) == "-Inf"
    assert run("{.v}", {"v": float("nan")}) == "NaN"
    assert error_of("{.v}", {"v": [float("nan")]}) == "json: unsupported value: NaN"
    assert error_of("{.v}", {"v": {"x": float("inf")}}) == "json: unsupported value: +Inf"


def test_json_encoding_like_go() -> None:
    value = {
        "z": [1.0, {"y": None, "x": True}],
        "a": 'q"\\/\n\r\t\b\f\x01\x1f\x7f é \u2028\u2029 \U0001f600',
        "<k>": {},
        "e": [],
    }
    assert run("{@}", value) == (
        '{"\\u003ck\\u003e":{},"a":"q\\"\\\\/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f é '
        '\\u2028\\u2029 \U0001f600","e":[],"z":[1,{"x":true,"y":null}]}'
    )


def test_results_of_one_action_are_space_separated() -> None:
    assert run("{.a[*]}", {"a": [{"k": 1.0}, [2.0], "s", None, True]}) == '{"k":1} [2] s null true'


def test_nil_root() -> None:
    assert run("{@}", None) == "<no value>"
    assert run("text only", None) == "text only"


# -------------------------------------------------------------------------------- errors

PARSE_ERRORS: list[tuple[str, str]] = [
    ("{!}", "unrecognized character in action: U+0021 '!'"),
    ("{.a | b}", "unrecognized character in action: U+007C '|'"),
    ("{\t.a}", "unrecognized character in action: U+0009"),
    ("{\u2028}", "unrecognized character in action: U+2028"),
    ("{[?(!@.x)]}", "unrecognized character in action: U+0021 '!'"),
    ("{.a[?(@.x==)]}", "unrecognized character in action: U+003D '='"),
    ("{.a", "unclosed action"),
    ("{.a\n}", "unclosed action"),
    ("{.a\r}", "unclosed action"),
    ("{", "unclosed action"),
    ("{[?(@.x)]", "unclosed action"),
    ("{.a[0}", "unterminated array"),
    ("{.a[0\n]}", "unterminated array"),
    ("{.a[?(@.x}", "unterminated filter"),
    ("{.a[?(@.x=='y)]}", "unterminated filter"),
    ("{.a[?(@.x)}", "unclosed array expect ]"),
    ("{'abc}", "unterminated quoted string"),
    ("{'ab\nc'}", "unterminated quoted string"),
    (r'{"\q"}', r'unquote string "\q" error invalid syntax'),
    (r'{"\'"}', r"""unquote string "\'" error invalid syntax"""),
    (r"{'a\\'b'}", r"unquote string 'a\\'b' error invalid syntax"),
    (r'{"\u12"}', r'unquote string "\u12" error invalid syntax'),
    (r'{"\400"}', r'unquote string "\400" error invalid syntax'),
    ("{1.2.3}", "cannot parse number 1.2.3"),
    ("{-}", "cannot parse number -"),
    ("{\u0663}", "cannot parse number \u0663"),
    ("{1" + "0" * 400 + "}", "cannot parse number 1" + "0" * 400),
    ("{.a[x]}", "invalid array index x"),
    ('{.a["k"]}', 'invalid array index "k"'),
    ("{.a[1:2:3:4]}", "invalid array index 1:2:3:4"),
    ("{.a[0,x]}", "invalid array index x"),
    ("{.a['k,l']}", "invalid array index 'k"),
    ("{.a[-]}", "array index - is not a number"),
    ("{.a[1:-]}", "array index - is not a number"),
    ("{.a[99999999999999999999]}", "array index 99999999999999999999 is not a number"),
    ("{....a}", "invalid multiple recursive descent"),
    ("{.. ..a}", "invalid multiple recursive descent"),
]


@pytest.mark.parametrize(("template", "message"), PARSE_ERRORS, ids=repr)
def test_parse_errors(template: str, message: str) -> None:
    assert error_of(template, {"a": [1.0]}) == message
    with pytest.raises(JsonPathError) as info:
        validate(template)
    assert info.value.message == message


def test_validate_accepts_good_templates() -> None:
    validate(FIXTURE_TEMPLATE)
    validate("{range .a[*]}{.b}{end}")


RUNTIME_ERRORS: list[tuple[str, object, str]] = [
    ("{.missingPath}", CLUSTER, "missingPath is not found"),
    ("{.nodes[0].nope}", CLUSTER, "nope is not found"),
    ("{.kind.x}", CLUSTER, "x is not found"),
    ("{.}", CLUSTER, " is not found"),
    ("{.a[5]}", {"a": [1.0, 2.0]}, "array index out of bounds: index 5, length 2"),
    ("{.a[0]}", {"a": []}, "array index out of bounds: index 0, length 0"),
    ("{.a[-3]}", {"a": [1.0, 2.0]}, "array index out of bounds: index -1, length 2"),
    ("{.a[:5]}", {"a": [1.0, 2.0]}, "array index out of bounds: index 4, length 2"),
    ("{.a[0:5:2]}", {"a": [1.0, 2.0]}, "array index out of bounds: index 4, length 2"),
    ("{.a[-1:0]}", {"a": [1.0, 2.0]}, "starting index 1 is greater than ending index 0"),
    ("{.a[3:1]}", NUMBERS | {"a": NUMBERS["n"]}, "starting index 3 is greater than ending index 1"),
    ("{.a[0:2:0]}", {"a": [1.0, 2.0]}, "step must be > 0"),
    ("{.a[0:2:-1]}", {"a": [1.0, 2.0]}, "step must be > 0"),
    ("{.a[0,5]}", {"a": [1.0, 2.0]}, "array index out of bounds: index 5, length 2"),
    ("{.a[0]}", {"a": {"k": 1.0}}, "map[string]interface {} is not array or slice"),
    ("{.a[0]}", {"a": "text"}, "string is not array or slice"),
    ("{.a[0]}", {"a": 1.0}, "float64 is not array or slice"),
    ("{.a[0]}", {"a": True}, "bool is not array or slice"),
    ("{..[0]}", {"a": [1.0]}, "map[string]interface {} is not array or slice"),
    ("{hello}", CLUSTER, "unrecognized identifier hello"),
    ("{['a b']}", {"a": 1.0}, "unrecognized identifier b"),
    ("{end}", CLUSTER, "not in range, nothing to end"),
    ("{range .nodes[*]}{.name}{end}{end}", CLUSTER, "not in range, nothing to end"),
    ("{range .e[*]}{.name}{end}", {"e": []}, "name is not found"),
    ("{.a[?(@.b[*]==1.0)]}", {"a": [{"b": [1.0, 2.0]}]}, "can only compare one element at a time"),
    (
        "{.a[?(@.b==@.c[*])]}",
        {"a": [{"b": 1.0, "c": [1.0, 2.0]}]},
        "can only compare one element at a time",
    ),
    ("{.a[?(@.x<>1.0)]}", {"a": [{"x": 1.0}]}, "unrecognized filter operator <>"),
    ("{.a[?(@.x===1.0)]}", {"a": [{"x": 1.0}]}, "unrecognized filter operator ==="),
    ("{.a[?(@.x==1)]}", {"a": [{"x": 1.0}]}, "incompatible types for comparison"),
    ('{.a[?(@.x=="1")]}', {"a": [{"x": 1.0}]}, "incompatible types for comparison"),
    ("{.a[?(@.x<true)]}", {"a": [{"x": True}]}, "invalid type for comparison"),
    ('{.a[?(@.x=="v")]}', {"a": [{"x": None}]}, "invalid type for comparison"),
    ('{.a[?(@=="v")]}', {"a": [{"x": 1.0}]}, "invalid type for comparison"),
    ('{.a[?(@.x=="v")]}', {"a": [{"y": 1.0}]}, "x is not found"),
    (
        "{.a[?(@.x)]}",
        {"a": {"x": 1.0}},
        "map[string]interface {} is not array or slice and cannot be filtered",
    ),
    ("{.a[?(@.x)]}", {"a": None}, "<nil> is not array or slice and cannot be filtered"),
    ("{[?(@.x)]}", None, "<invalid reflect.Value> is not array or slice and cannot be filtered"),
    ("{.a}", None, "a is not found"),
    # where client-go panics
    ("{[0]}", None, "reflect: call of reflect.Value.Type on zero Value"),
    ("{range}{end}", None, "reflect: call of reflect.Value.Interface on zero Value"),
]


@pytest.mark.parametrize(("template", "data", "message"), RUNTIME_ERRORS, ids=repr)
def test_runtime_errors(template: str, data: object, message: str) -> None:
    assert error_of(template, data) == message


SECRET = "ZZ-hunter2-ZZ"


@pytest.mark.parametrize(
    "template",
    ["{.s[?(@.x)]}", "{.s[0]}", "{.s.x}", "{.l[?(@==1.0)]}", "{.l[?(@<true)]}", "{.m[?(@.k)]}"],
)
def test_errors_never_contain_data(template: str) -> None:
    data = {"s": SECRET, "l": [SECRET], "m": {"k": SECRET}}
    assert SECRET not in error_of(template, data)


# ------------------------------------------------------------------- limits and hostility


def test_deeply_nested_value_prints_without_recursion() -> None:
    value: object = "leaf"
    for _ in range(50_000):
        value = [value]
    assert run("{.v}", {"v": value}) == "[" * 50_000 + '"leaf"' + "]" * 50_000


def test_quadratic_output_hits_the_budget() -> None:
    """At the real budget: a hostile value (quadratic output) is stopped by the step count."""
    value: object = 1.0
    for _ in range(20_000):
        value = [value]
    assert error_of("{..}", value) == "jsonpath evaluation too large (over 1000000 steps)"


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluator, "STEP_BUDGET", 50_000)


@pytest.mark.usefixtures("small_budget")
def test_exponential_ranges_hit_the_budget() -> None:
    template = "{range .a[*]}" * 30 + "x" + "{end}" * 30
    assert error_of(template, {"a": [{"a": [1.0] * 3}] * 3}) == "a is not found"
    deep: dict[str, object] = {"a": []}
    node = deep
    for _ in range(40):
        child: dict[str, object] = {"a": []}
        node["a"] = [child, child, child]
        node = child
    node["a"] = [1.0]
    assert error_of(template, deep) == "jsonpath evaluation too large (over 50000 steps)"


def test_range_nesting_is_bounded() -> None:
    template = "{range}" * 500 + "{@}" + "{end}" * 500
    assert error_of(template, {"k": 1.0}) == "range nesting deeper than 100"


@pytest.mark.usefixtures("small_budget")
def test_cyclic_value_is_an_error() -> None:
    loop: list[object] = []
    loop.append(loop)
    message = error_of("{.v}", {"v": loop})
    assert message == "json: unsupported value: encountered a cycle via []interface {}"
    assert error_of("{..}", {"v": loop}) == "jsonpath evaluation too large (over 50000 steps)"


def test_long_template_parses_iteratively() -> None:
    template = "{" + ".a" * 50_000 + "}"
    value: object = "end"
    for _ in range(50_000):
        value = {"a": value}
    assert run(template, value) == "end"
    assert run("{'x'}" * 20_000, None) == "x" * 20_000


# ----------------------------------------------------------------------------- property

_TOKENS = [
    *"{}.[]:,*)@$'\"!<+= \\\n\té",
    *["..", "a", "b", "x", "0", "1", "-1", "[?(", "==", "!=", ">=", "range", "end", "true"],
    *["1.5", "{range .a[*]}", "{end}", "{.a}", "{@}", "[*]", "['a']"],
]
_TEMPLATES = st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=3)), max_size=40).map(
    "".join
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([SECRET, "", "a", "é"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "x", ""]), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_TEMPLATES, data=_VALUES)
def test_only_jsonpath_errors_and_no_data_in_them(template: str, data: object) -> None:
    try:
        out = evaluate(template, data)
    except JsonPathError as error:
        assert isinstance(error.message, str)
        if SECRET not in template:
            assert SECRET not in error.message
    else:
        assert isinstance(out, str)


def test_string_literals_keep_bytes_that_are_not_utf8() -> None:
    # Go strings are bytes: '\xff' is one byte, never equal to the U+FFFD a JSON value holds,
    # and a truncated sequence stays one code point per byte (U+FFFD each only in the output).
    assert run(r"{'\xe2\x9c'}", {}) == "\udce2\udc9c"
    data = {"a": [{"x": "\ufffd", "y": 1.0}]}
    assert run(r"{.a[?(@.x=='\xff')].y}", data) == ""
    assert run(r"{.a[?(@.x=='\ufffd')].y}", data) == "1"
