"""The check's report for CI systems: JUnit XML and SARIF 2.1.0. Pure.

* **JUnit XML** (``--format junit``): one ``<testsuite>`` per file with findings, one
  ``<testcase>`` per finding; an error is a ``<failure>``, a warning a passing test case whose
  ``<system-out>`` says so (JUnit has no warnings; with ``--strict`` they are errors); each
  case's ``<properties>`` hold its code, field and object. A clean
  check is one passing test case, so that CI shows a test ran. Built with ElementTree (every
  text and attribute escaped) after removing the characters XML 1.0 cannot hold.
* **SARIF 2.1.0** (``--format sarif``): one run of the tool ``avp-py``, one rule per finding
  code, one result per finding located at its file and the line its document starts on (the
  line of the field itself is not known), plus a logical location ``Kind/name`` and field, so
  that code hosts annotate the pull request. ``<stdin>`` has no file: its results have logical
  locations only.

Like every report, neither ever holds a value: findings name references, never values.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import quote

from avp_py import __version__
from avp_py.check.findings import Code, Finding, Severity
from avp_py.check.report import CheckReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
STDIN = "<stdin>"

# What each finding code means (SARIF rule descriptions; docs/check.md "What it checks").
DESCRIPTIONS: Mapping[Code, str] = {
    Code.ANNOTATION: "An avp.kubernetes.io annotation is invalid",
    Code.PLACEHOLDER: "A placeholder, modifier or key is malformed, or a near-miss placeholder",
    Code.EXPOSED: "A placeholder outside data/stringData of a v1 Secret is shown in Argo CD",
    Code.POLICY: "A reference the naming policy refuses",
    Code.INVALID_REFERENCE: "A vault name, secret name or version that cannot exist",
    Code.NOT_FOUND: "The secret does not exist",
    Code.VERSION_NOT_FOUND: "The secret has no such version",
    Code.DISABLED: "The secret (or the version asked for) is disabled",
    Code.EXPIRED: "The secret's expiry date (exp) has passed",
    Code.NOT_YET_VALID: "The secret's activation date (nbf) is in the future",
    Code.SPC_INVALID: "A SecretProviderClass the Azure provider would reject",
    Code.SPC_UNKNOWN_FIELD: "A SecretProviderClass object field the Azure provider ignores",
    Code.SPC_UNDECLARED_OBJECT: "secretObjects names an object that is not mounted",
    Code.SPC_OBJECT_TYPE: "A SecretProviderClass object of type cert that is no certificate",
    Code.INVALID_NAME: "An invalid Kubernetes Secret name or data key",
}

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A lone surrogate: a file name that is not UTF-8 (Python decodes its bytes to U+DC80-U+DCFF).
# JSON can escape one, but it is no Unicode text: SARIF readers and UTF-8 encoders refuse it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_BYTES = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # surrogates no byte decodes to


def _xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot represent shown as ``\\xNN`` escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _json_text(text: str) -> str:
    """``text`` with lone surrogates shown as ``\\udcff`` escapes; JSON escapes the rest."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _where(finding: Finding) -> str:
    site = finding.site
    parts = [p for p in (site.field, f"({site.object})" if site.object else "") if p]
    return " ".join(parts) or "(document)"


def to_junit(report: CheckReport) -> str:
    """The report as JUnit XML (see the module docstring)."""
    suites = ET.Element("testsuites", name="avp-py check")
    for file, documents in report.by_document():
        suite = ET.SubElement(suites, "testsuite", name=_xml_text(file))
        cases = failures = 0
        for heading, findings in documents:
            for finding in findings:
                cases += 1
                failures += finding.severity is Severity.ERROR
                _testcase(suite, f"{file} {heading}", finding)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
    if not report.findings:
        suite = ET.SubElement(suites, "testsuite", name="avp-py check")
        suite.set("tests", "1")
        suite.set("failures", "0")
        suite.set("errors", "0")
        ET.SubElement(suite, "testcase", classname="avp-py check", name=report.summary())
    suites.set("tests", str(max(1, len(report.findings))))
    suites.set("failures", str(report.errors))
    suites.set("errors", "0")
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _testcase(suite: ET.Element, classname: str, finding: Finding) -> None:
    name = f"{_where(finding)} [{finding.code.value}]"
    case = ET.SubElement(suite, "testcase", classname=_xml_text(classname), name=_xml_text(name))
    # The fields of the JSON report, for tools that read more than the name.
    properties = ET.SubElement(case, "properties")
    site = finding.site
    for key, value in (
        ("code", finding.code.value),
        ("field", site.field),
        ("object", site.object),
    ):
        ET.SubElement(properties, "property", name=key, value=_xml_text(value))
    message = _xml_text(finding.message)
    if finding.severity is Severity.ERROR:
        failure = ET.SubElement(case, "failure", message=message, type=finding.code.value)
        failure.text = message
    else:
        ET.SubElement(case, "system-out").text = f"warning: {message}"


def to_sarif(report: CheckReport) -> str:
    """The report as a SARIF 2.1.0 log (see the module docstring)."""
    codes = list(Code)
    rules = [
        {
            "id": code.value,
            "shortDescription": {"text": DESCRIPTIONS[code]},
        }
        for code in codes
    ]
    results = [_result(finding, codes.index(finding.code)) for finding in report.findings]
    run = {
        "tool": {
            "driver": {
                "name": "avp-py",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _result(finding: Finding, rule_index: int) -> dict[str, object]:
    site = finding.site
    logical = {
        "fullyQualifiedName": _json_text(
            " ".join(p for p in (f"{site.kind or '?'}/{site.name or '?'}", site.field) if p)
        ),
        "kind": "resource",
    }
    location: dict[str, object] = {"logicalLocations": [logical]}
    if site.file != STDIN:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": file_uri(site.file)},
            "region": {"startLine": max(1, site.line)},
        }
    text = finding.message if not site.object else f"{site.object}: {finding.message}"
    return {
        "ruleId": finding.code.value,
        "ruleIndex": rule_index,
        "level": "error" if finding.severity is Severity.ERROR else "warning",
        "message": {"text": _json_text(text)},
        "locations": [location],
        # The JSON report's fields, for tools that read more than the message.
        "properties": {
            "document": site.document,
            "kind": _json_text(site.kind),
            "name": _json_text(site.name),
            "field": _json_text(site.field),
            "object": _json_text(site.object),
        },
    }


def file_uri(path: str) -> str:
    """A path as a SARIF ``uri``: relative paths stay relative (to the repository, as code
    hosts resolve them), absolute ones become ``file://``; reserved characters are escaped, and
    the bytes of a name that is not UTF-8 are percent-escaped as they are on disk."""
    posix = _NOT_BYTES.sub(lambda m: f"\\u{ord(m.group()):04x}", path.replace("\\", "/"))
    if posix.startswith("/"):
        return "file://" + quote(posix, errors="surrogateescape")
    return quote(posix.removeprefix("./"), errors="surrogateescape")
