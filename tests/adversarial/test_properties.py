"""Property-based tests (issue #6, item 6): the grammar, the modifiers, the round trip.

Deterministic (``derandomize=True``, no example database) so that CI sees the same examples on
every run; the whole module stays well under a minute.

* The placeholder grammar never raises on any text, its matches are well formed, and it scans
  every character a bounded number of times (counted, not timed: robust on a loaded machine).
* Every modifier, on any value and arguments, returns or raises ``ModifierError`` (nothing
  else), and its message never contains the value.
* A document without placeholders comes out byte for byte (decision D4), or, where avp-py
  must re-emit it (JSON, flow style), equal as data for PyYAML and for avp-py's codec.
* A document with placeholders, filled with arbitrary strings (YAML specials, unicode,
  control characters), reads back as exactly those strings with PyYAML and with the codec.
"""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avp_py import grammar, modifiers, stream, yamlcodec
from avp_py.backends.base import BackendContext
from avp_py.errors import ManifestParseError, ModifierError
from avp_py.render import render, start_deadline
from avp_py.settings import Settings, load_settings
from avp_py.sources import Source
from avp_py.testing import MemoryBackend

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SPECIALS: list[str] = yaml.safe_load(
    (Path(__file__).parent / "hostile.yaml").read_text(encoding="utf-8")
)["specials"]

# Text of any Unicode scalar value (no lone surrogates: they cannot come out of UTF-8 input).
any_char = st.characters(exclude_categories=["Cs"])
grammar_chars = st.sampled_from(list("<>#:|path \n\t{}.-")) | any_char
grammar_text = st.text(grammar_chars, max_size=120)


# ------------------------------------------------------------------------------ grammar


class CountingText(str):
    """A str whose ``find`` counts the characters it scans."""

    scanned = 0

    def find(self, sub: str, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        begin = 0 if start is None else start
        found = str.find(self, sub, begin, len(self) if end is None else end)
        CountingText.scanned += max(0, (len(self) if found == -1 else found) - begin) + 1
        return found


@FUZZ
@given(grammar_text, st.booleans())
def test_grammar_never_raises_and_matches_are_well_formed(text: str, generic: bool) -> None:
    found = grammar.find_placeholders(text, generic)
    end = 0
    for placeholder in found:
        assert end <= placeholder.start < placeholder.end <= len(text)
        assert placeholder.text == text[placeholder.start : placeholder.end]
        assert placeholder.text.startswith("<") and placeholder.text.endswith(">")
        assert generic or placeholder.text.startswith("<path:")
        if not generic:
            assert "\n" not in placeholder.keyspec or placeholder.inline is not None
        end = placeholder.end
    grammar.parse_inline(text)
    grammar.parse_placeholder(text)


escaped_text = st.lists(
    st.sampled_from(["\\u003c", "\\u003e", "\\", '"', "path:", "#", " ", "\n", "k", "|"])
    | any_char,
    max_size=40,
).map("".join)


@FUZZ
@given(grammar_text | escaped_text, st.booleans())
def test_near_misses_and_escaped_placeholders_never_raise(text: str, generic: bool) -> None:
    found = grammar.find_placeholders(text, generic)
    for problem in grammar.near_misses(text, generic, found):
        assert problem.startswith("malformed placeholder ") or "more malformed" in problem
    escaped, problems = grammar.find_escaped(text, generic)
    end = 0
    for placeholder in escaped:
        assert placeholder.escaped and end <= placeholder.start < placeholder.end <= len(text)
        assert text[placeholder.start :].lower().startswith("\\u003c")
        assert placeholder.text.startswith("<") and placeholder.text.endswith(">")
        grammar.malformed(placeholder, generic)
        end = placeholder.end
    assert all(isinstance(problem, str) for problem in problems)


@FUZZ
@given(st.text(st.sampled_from(list("<>#:|pah\n x")), min_size=1, max_size=16))
def test_grammar_scans_each_character_a_bounded_number_of_times(motif: str) -> None:
    text = CountingText(motif * (20_000 // len(motif) + 1))
    for action in (
        lambda: grammar.find_generic(text),
        lambda: grammar.find_specific(text),
        lambda: grammar.parse_inline(text),
        lambda: grammar.near_misses(text, False, grammar.find_placeholders(text, False)),
    ):
        CountingText.scanned = 0
        action()
        # Linear: a constant number of passes. Quadratic scanning would be ~len(text)/2 passes.
        assert CountingText.scanned <= 12 * len(text) + 64, (motif, CountingText.scanned)


# ------------------------------------------------------------------------------ modifiers

SENTINEL = "QzSENTINELzQ"
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(any_char, max_size=12).map(lambda s: s + SENTINEL)
)
json_like = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6).map(lambda s: SENTINEL + s), children, max_size=4)
    ),
    max_leaves=12,
)


def _texts_of(value: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([json.dumps(value), yaml.safe_dump(value), str(value)])


secret_values = (
    json_like
    | json_like.flatmap(_texts_of)
    | st.text(any_char, max_size=40).map(lambda s: SENTINEL + s)
    | st.binary(max_size=30).map(lambda b: base64.b64encode(SENTINEL.encode() + b).decode())
    | st.sampled_from(SPECIALS).map(lambda s: s + SENTINEL)
    # YAML the codec refuses, naming what it found: a duplicate key, a tag.
    | st.text(st.sampled_from("abc"), min_size=1, max_size=3).map(
        lambda k: f"{SENTINEL}{k}: 1\n{SENTINEL}{k}: 2\n"
    )
    | st.sampled_from([f"a: !{SENTINEL} 1", f"!!{SENTINEL} x", f"a: !!python/name:{SENTINEL}"])
)
templates = st.sampled_from(
    [
        "{.a}",
        "{.a.b}",
        "{.a[0]}",
        "{.a[-1]}",
        "{.a[1:3]}",
        "{.a[*]}",
        "{..a}",
        "{$}",
        "{@}",
        "{.a[?(@.b==1)]}",
        "{.a[?(@.b)]}",
        "{range .a}{.b}{end}",
        "{range .a}",
        "{.a.[}",
        "{",
        "}",
        "{.a[x]}",
        "{.a['b']}",
        "{.a[0:-1:2]}",
        "{.a[5:1]}",
        '{.a[?(@.b=="x")].c}',
        "text {.a} text",
    ]
)
arguments = st.lists(
    templates | st.sampled_from(["-3", "0", "2", "1024", "1025", "x", "+1"]) | st.text(max_size=8),
    max_size=3,
).map(tuple)


@pytest.mark.parametrize("name", sorted(modifiers.MODIFIERS))
@FUZZ
@given(args=arguments, value=secret_values)
def test_modifiers_raise_only_modifier_errors_that_never_quote_the_value(
    name: str, args: tuple[str, ...], value: Any
) -> None:
    try:
        modifiers.apply(name, args, value)
    except ModifierError as exc:
        assert SENTINEL not in str(exc), (name, args, str(exc))
        assert exc.__cause__ is None or SENTINEL not in str(exc.__cause__)


@FUZZ
@given(st.text(max_size=12), st.lists(st.text(max_size=12), max_size=3).map(tuple))
def test_checking_any_modifier_call_never_raises(name: str, args: tuple[str, ...]) -> None:
    problem = modifiers.check_call(name, args)
    assert problem is None or isinstance(problem, str)
    if name not in modifiers.NAMES:
        assert problem is not None


pem_pieces = st.sampled_from(
    [
        "-----BEGIN CERTIFICATE-----\n",
        "-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\n",
        "-----END PRIVATE KEY-----\n",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n",
        SENTINEL,
    ]
)
certificate_values = (
    st.lists(pem_pieces | st.text(max_size=8), max_size=8).map("".join)
    | st.binary(max_size=200).map(lambda data: base64.b64encode(b"\x30\x82" + data).decode())
    | secret_values
)


@pytest.mark.parametrize("name", sorted(modifiers.CERTIFICATE_MODIFIERS))
@FUZZ
@given(
    value=certificate_values,
    content_type=st.sampled_from(["application/x-pkcs12", "application/x-pem-file", None, "x"]),
)
def test_certificate_modifiers_raise_only_modifier_errors(
    name: str, value: Any, content_type: str | None
) -> None:
    """Any value, any content type: a ModifierError that quotes nothing of the value."""
    try:
        modifiers.apply(name, (), value, content_type)
    except ModifierError as exc:
        shown = "".join(traceback.format_exception(exc))
        assert SENTINEL not in shown and "MIIBIjANBgkqhkiG" not in shown, shown


@FUZZ
@given(
    st.sampled_from(sorted(modifiers.MODIFIERS)),
    st.lists(st.sampled_from(["{.a}", "2", "-1"]), max_size=1).map(tuple),
    st.lists(st.sampled_from(sorted(modifiers.MODIFIERS)), max_size=3),
    secret_values,
)
def test_modifier_chains_raise_only_modifier_errors(
    first: str, args: tuple[str, ...], rest: list[str], value: Any
) -> None:
    try:
        value = modifiers.apply(first, args, value)
        for name in rest:
            value = modifiers.apply(name, ("{.a}",) if name == "jsonPath" else (), value)
    except ModifierError as exc:
        assert SENTINEL not in str(exc)


# ------------------------------------------------------------------------------ round trip


SETTINGS: Settings = load_settings(
    {"AVP_TYPE": "file", "AVP_FILE_PATH": "/nonexistent", "AVP_MAX_CONCURRENCY": "2"}
)


def run(text: str, values: Mapping[str, object] | None = None) -> str:
    def backend(_settings: Settings, _context: BackendContext) -> MemoryBackend:
        memory = MemoryBackend()  # kv#KEY: the value given; anything else is missing
        for key, value in (values or {}).items():
            memory.set_secret("kv", key, value)
        return memory

    result = render([Source("fuzz", text)], SETTINGS, start_deadline(30), build_backend=backend)
    return result.text


def read_back(output: str) -> tuple[list[Any], list[Any]]:
    by_pyyaml = [d for d in yaml.load_all(output, Loader=yaml.CSafeLoader) if d is not None]
    by_codec = [yamlcodec.load_yaml(chunk.text) for chunk in stream.split("out", output)]
    return by_pyyaml, by_codec


# Plain text that is neither a placeholder nor a marker avp-py acts on.
free_text = st.text(any_char, max_size=30).map(
    lambda s: s.replace("<path:", "<p:").replace("avp.kubernetes.io", "avp-io")
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | free_text
    | st.sampled_from(SPECIALS)
)
keys = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_./"), max_size=8).map(
    lambda s: "k" + s
)
trees = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=15,
)
kinds = st.sampled_from(["ConfigMap", "Deployment", "Widget", "Secret"])


@st.composite
def manifests(draw: Callable[..., Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": draw(kinds),
        "metadata": {
            "name": draw(keys),
            "labels": draw(st.dictionaries(keys, free_text, max_size=2)),
        },
        "data": draw(st.dictionaries(keys, trees, max_size=4)),
    }


@FUZZ
@given(
    manifests(),
    st.sampled_from([False, None, True]),
    st.sampled_from(["", "\n", "# comment\n", "---\n"]),
    st.booleans(),
    st.sampled_from([80, 10_000]),
)
def test_documents_without_placeholders_come_out_unchanged(
    document: dict[str, Any], flow: bool | None, before: str, unicode: bool, width: int
) -> None:
    text = before + yaml.safe_dump(
        document, default_flow_style=flow, allow_unicode=unicode, sort_keys=False, width=width
    )
    if text.startswith("{"):
        # AVP's rule (apimachinery): a stream whose first byte is '{' is a JSON stream.
        with pytest.raises(ManifestParseError, match="invalid JSON"):
            run(text)
        return
    output = run(text)
    body = text.removeprefix("---\n")
    if not body.lstrip().startswith(("{", "[")):
        assert output == body + "---\n"  # D4: byte for byte
        return
    # Flow style at the top: re-emitted in block style (Argo CD would take '{' for JSON).
    by_pyyaml, by_codec = read_back(output)
    expected = yamlcodec.load_yaml(body)
    assert by_codec == [expected]
    assert by_pyyaml == [expected]


@FUZZ
@given(manifests())
def test_json_documents_come_out_equal_as_data(document: dict[str, Any]) -> None:
    text = json.dumps(document, ensure_ascii=False)
    expected = yamlcodec.load_json(text)
    output = run(text)
    by_pyyaml, by_codec = read_back(output)
    assert by_codec == [expected]
    assert by_pyyaml == [expected]


filler_text = st.text(any_char, max_size=12).map(lambda s: s.replace("<", "").replace(">", ""))
secret_strings = st.text(any_char, max_size=40) | st.sampled_from(SPECIALS)


@st.composite
def filled_documents(draw: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """A manifest whose fields hold placeholders (whole, or inside text; in a Secret also
    base64-encoded), and the value of each placeholder."""
    kind = draw(st.sampled_from(["ConfigMap", "Secret", "Deployment"]))
    section = "stringData" if kind == "Secret" else "data"
    count = draw(st.integers(1, 6))
    values = {f"s{i}": draw(secret_strings) for i in range(count)}
    fields: dict[str, str] = {}
    encoded: dict[str, str] = {}
    for index in range(count):
        whole = draw(st.booleans())
        before, after = ("", "") if whole else (draw(filler_text), draw(filler_text))
        template = f"{before}<path:kv#s{index}>{after}"
        fields[f"f{index}"] = template
        if kind == "Secret" and draw(st.booleans()):
            encoded[f"b{index}"] = base64.b64encode(template.encode()).decode()
    document: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}
    document[section] = fields
    if encoded:
        document["data"] = encoded
    return yaml.safe_dump(document, allow_unicode=draw(st.booleans()), sort_keys=False), values


def expected_fields(text: str, values: Mapping[str, str]) -> dict[str, str]:
    """Each field of the input as avp-py reads it, with its placeholder replaced by the value.

    Computed from the text as read, not from the strings given to PyYAML's dumper: that dumper
    does not round-trip every string (a NEL in a single-quoted scalar reads back as a space).
    """
    document: Any = yamlcodec.load_yaml(text)
    expected = {}
    for key, template in {**document.get("data", {}), **document.get("stringData", {})}.items():
        index = key[1:]
        placeholder = f"<path:kv#s{index}>"
        if key.startswith("b"):
            decoded = base64.b64decode(template).decode()
            filled = decoded.replace(placeholder, values[f"s{index}"])
            expected[key] = base64.b64encode(filled.encode()).decode()
        else:
            expected[key] = template.replace(placeholder, values[f"s{index}"])
    return expected


@FUZZ
@given(filled_documents())
def test_filled_documents_read_back_as_the_values(case: tuple[str, dict[str, str]]) -> None:
    text, values = case
    expected = expected_fields(text, values)
    assert len(expected) >= len(values)
    output = run(text, values)
    for documents in read_back(output):
        (document,) = documents
        found = {**document.get("data", {}), **document.get("stringData", {})}
        assert found == expected
