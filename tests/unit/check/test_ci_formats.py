"""The CI report forms: JUnit XML parsed back with ElementTree, SARIF 2.1.0 checked against
the structure its schema requires (and what code hosts read to annotate a pull request)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from avp_py.check.ci_formats import DESCRIPTIONS, file_uri, to_junit, to_sarif
from avp_py.check.findings import Code, Finding, Severity, Site
from avp_py.check.report import CheckReport

HOSTILE = 'stringData["<&\'\x01\u2028\\"]'
A = Site(
    "apps/a b.yaml", 2, 14, "SecretProviderClass", "spc", "spec.parameters.objects array[0]", "kv#x"
)
B = Site("apps/a b.yaml", 3, 20, "ConfigMap", "cm", "data.k", "path:kv#y")
C = Site("<stdin>", 1, 1, "Secret", "s&<>", HOSTILE, "kv#z")
FINDINGS = [
    Finding(Severity.ERROR, Code.NOT_FOUND, A, "secret x does not exist in kv"),
    Finding(Severity.WARNING, Code.EXPOSED, B, "shown in clear <path:kv#y> & here"),
    Finding(Severity.ERROR, Code.PLACEHOLDER, C, "bad <path:kv#z ]]> \x01 here"),
]


def _report(findings: list[Finding] = FINDINGS) -> CheckReport:
    return CheckReport.build(findings, 4, 3, strict=False)


def test_every_code_has_a_rule_description() -> None:
    assert set(DESCRIPTIONS) == set(Code)


def test_junit_parses_back_with_every_finding() -> None:
    root = ET.fromstring(to_junit(_report()).encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "0")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"<stdin>", "apps/a b.yaml"}
    assert (suites["apps/a b.yaml"].get("tests"), suites["apps/a b.yaml"].get("failures")) == (
        "2",
        "1",
    )
    cases = list(root.iter("testcase"))
    failures = [case.find("failure") for case in cases]
    by_type = {f.get("type"): f for f in failures if f is not None}
    assert set(by_type) == {"secret-not-found", "placeholder"}
    assert by_type["secret-not-found"].get("message") == "secret x does not exist in kv"
    # Escaped, never lost: markup stays text; characters XML cannot hold are \\x escapes.
    assert by_type["placeholder"].text == "bad <path:kv#z ]]> \\x01 here"
    stdin_case = next(c for c in cases if c.get("classname", "").startswith("<stdin>"))
    assert stdin_case.get("classname") == "<stdin> document 1 (line 1) Secret/s&<>"
    assert stdin_case.get("name") == 'stringData["<&\'\\x01\u2028\\"] (kv#z) [placeholder]'
    properties = {p.get("name"): p.get("value") for p in stdin_case.iter("property")}
    assert properties == {
        "code": "placeholder",
        "field": HOSTILE.replace("\x01", "\\x01"),
        "object": "kv#z",
    }
    warning = next(c for c in cases if c.find("failure") is None)
    out = warning.find("system-out")
    assert out is not None and out.text == "warning: shown in clear <path:kv#y> & here"


def test_junit_of_a_clean_check_is_one_passing_case() -> None:
    root = ET.fromstring(to_junit(_report([])))
    (case,) = root.iter("testcase")
    assert (root.get("tests"), root.get("failures")) == ("1", "0")
    assert case.get("name") == "check passed: no problems (4 documents, 3 secret references)"
    assert case.find("failure") is None


def _require(obj: dict[str, Any], *keys: str) -> None:
    for key in keys:
        assert key in obj, (key, obj)


def _check_sarif_structure(log: dict[str, Any]) -> None:
    """What the SARIF 2.1.0 schema requires of the objects avp-py writes (sarifLog, run,
    tool, toolComponent, reportingDescriptor, result, message, location, region)."""
    _require(log, "version", "runs")
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    for run in log["runs"]:
        _require(run, "tool")
        driver = run["tool"]["driver"]
        _require(driver, "name")
        rules = driver.get("rules", [])
        for rule in rules:
            _require(rule, "id")
            assert set(rule["shortDescription"]) == {"text"}
        for result in run["results"]:
            _require(result, "message", "ruleId")
            assert isinstance(result["message"]["text"], str)
            assert result["level"] in ("none", "note", "warning", "error")
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            for location in result["locations"]:
                physical = location.get("physicalLocation")
                if physical is not None:
                    assert isinstance(physical["artifactLocation"]["uri"], str)
                    assert physical["region"]["startLine"] >= 1
                for logical in location.get("logicalLocations", []):
                    assert isinstance(logical["fullyQualifiedName"], str)


def test_sarif_results_are_located_for_code_hosts() -> None:
    log = json.loads(to_sarif(_report()))
    _check_sarif_structure(log)
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "avp-py"
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("placeholder", "error"),
        ("secret-not-found", "error"),
        ("exposed-placeholder", "warning"),
    ]
    located = results[1]["locations"][0]
    assert located["physicalLocation"] == {
        "artifactLocation": {"uri": "apps/a%20b.yaml"},
        "region": {"startLine": 14},
    }
    assert located["logicalLocations"][0]["fullyQualifiedName"] == (
        "SecretProviderClass/spc spec.parameters.objects array[0]"
    )
    assert results[1]["message"]["text"] == "kv#x: secret x does not exist in kv"
    # stdin has no file: a logical location only.
    assert "physicalLocation" not in results[0]["locations"][0]
    assert json.loads(to_sarif(_report([])))["runs"][0]["results"] == []


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("manifests/a.yaml", "manifests/a.yaml"),
        ("./manifests/a.yaml", "manifests/a.yaml"),
        ("/abs/dir #1/a.yaml", "file:///abs/dir%20%231/a.yaml"),
    ],
)
def test_file_uris(path: str, uri: str) -> None:
    assert file_uri(path) == uri


# Every character XML 1.0 cannot hold, markup, a CDATA end, lone surrogates (a file name that
# is not UTF-8 decodes its bytes to U+DC80-U+DCFF) and the non-characters U+FFFE, U+FFFF.
UNSAFE = (
    "".join(map(chr, range(0x00, 0x09)))
    + "\x0b\x0c"
    + "".join(map(chr, range(0x0E, 0x20)))
    + "\ud800\udcff\ufffe\uffff ]]> <![CDATA[ <x/> &amp; \"'"
)
UNSAFE_SITE = Site(
    f"apps/{UNSAFE}.yaml", 1, 3, f"Kind{UNSAFE}", f"name{UNSAFE}", f"data[{UNSAFE}]", UNSAFE
)
UNSAFE_FINDINGS = [
    Finding(Severity.ERROR, Code.NOT_FOUND, UNSAFE_SITE, f"message {UNSAFE}"),
    Finding(Severity.WARNING, Code.EXPOSED, UNSAFE_SITE, f"warning {UNSAFE}"),
    Finding(Severity.ERROR, Code.PLACEHOLDER, A, f"plain file, odd message {UNSAFE}"),
]


def test_junit_is_well_formed_whatever_the_manifest_text_holds() -> None:
    text = to_junit(_report(UNSAFE_FINDINGS))
    root = ET.fromstring(text.encode("utf-8"))  # strict UTF-8: no surrogate is left
    cases = list(root.iter("testcase"))
    assert len(cases) == len(UNSAFE_FINDINGS)  # escaped or replaced, never dropped
    failures = [case.find("failure") for case in cases]
    messages = sorted(f.get("message", "") for f in failures if f is not None)
    assert messages[0].startswith("message \\x00\\x01")
    assert "]]> <![CDATA[ <x/> &amp;" in messages[0]
    assert "\\xd800\\xdcff\\xfffe\\xffff" in messages[0]
    warning = next(case for case in cases if case.find("failure") is None)
    out = warning.find("system-out")
    assert out is not None and out.text is not None and out.text.startswith("warning: warning ")
    suite_names = {suite.get("name", "") for suite in root.iter("testsuite")}
    assert any(name.startswith("apps/\\x00") for name in suite_names)


def test_sarif_is_valid_json_and_unicode_whatever_the_manifest_text_holds() -> None:
    text = to_sarif(_report(UNSAFE_FINDINGS))
    text.encode("utf-8")  # strict: no lone surrogate, written as text or as an escape
    assert "\\ud800" not in text.replace("\\\\ud800", "")  # no JSON escape of one either
    log = json.loads(text)
    _check_sarif_structure(log)
    results = log["runs"][0]["results"]
    assert len(results) == len(UNSAFE_FINDINGS)
    texts = [r["message"]["text"] for r in results]
    assert any("message \x00\x01" in t and "\\ud800\\udcff\ufffe" in t for t in texts)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    # The bytes of the file name, percent-escaped; \udcff is the byte 0xff of a non-UTF-8 name.
    assert any(uri.startswith("apps/%00%01") and "%FF" in uri for uri in uris)


def test_a_file_name_that_is_not_utf8_is_its_bytes_in_the_uri() -> None:
    assert file_uri(b"apps/caf\xe9.yaml".decode("utf-8", "surrogateescape")) == "apps/caf%E9.yaml"
