"""The check's report forms: text grouped by file and document, JSON schema, Markdown."""

from __future__ import annotations

import json

from avp_py.check.findings import Code, Finding, Severity, Site
from avp_py.check.markdown import to_markdown
from avp_py.check.report import SCHEMA, CheckReport, to_json, to_text

A = Site("a.yaml", 1, 1, "SecretProviderClass", "spc", "spec.parameters.objects array[0]", "kv#x")
B = Site("a.yaml", 3, 20, "ConfigMap", "cm", "data.k", "path:kv#y")
C = Site("b.yaml", 1, 1, "Secret", "s", 'stringData["a|b"]', "kv#z`1")

FINDINGS = [
    Finding(Severity.WARNING, Code.EXPOSED, B, "shown in clear <path:kv#y> | here"),
    Finding(Severity.ERROR, Code.NOT_FOUND, C, "secret z does not exist in kv"),
    Finding(Severity.ERROR, Code.NOT_FOUND, A, "secret x does not exist in kv"),
]


def test_text_groups_by_file_and_document() -> None:
    text = to_text(CheckReport.build(FINDINGS, 4, 3, strict=False))
    assert text.splitlines() == [
        "a.yaml",
        "  document 1 (line 1) SecretProviderClass/spc",
        "    error   spec.parameters.objects array[0] (kv#x): secret x does not exist in kv"
        " [secret-not-found]",
        "  document 3 (line 20) ConfigMap/cm",
        "    warning data.k (path:kv#y): shown in clear <path:kv#y> | here [exposed-placeholder]",
        "",
        "b.yaml",
        "  document 1 (line 1) Secret/s",
        '    error   stringData["a|b"] (kv#z`1): secret z does not exist in kv [secret-not-found]',
        "",
        "check failed: 2 errors, 1 warning (4 documents, 3 secret references)",
    ]


def test_clean_and_warning_only_reports_pass() -> None:
    assert CheckReport.build([], 2, 0, strict=False).passed
    assert to_text(CheckReport.build([], 1, 1, strict=False)) == (
        "check passed: no problems (1 document, 1 secret reference)\n"
    )
    warned = CheckReport.build(FINDINGS[:1], 1, 1, strict=False)
    assert warned.passed and warned.warnings == 1
    strict = CheckReport.build(FINDINGS[:1], 1, 1, strict=True)
    assert not strict.passed and strict.findings[0].severity is Severity.ERROR


def test_json_schema() -> None:
    data = json.loads(to_json(CheckReport.build(FINDINGS + FINDINGS, 4, 3, strict=False)))
    assert data["schema"] == SCHEMA == "avp-py/check/v1"
    assert (data["passed"], data["strict"]) == (False, False)
    assert data["summary"] == {"documents": 4, "references": 3, "errors": 2, "warnings": 1}
    assert len(data["findings"]) == 3  # duplicates collapse
    assert data["findings"][0] == {
        "severity": "error",
        "code": "secret-not-found",
        "file": "a.yaml",
        "document": 1,
        "line": 1,
        "kind": "SecretProviderClass",
        "name": "spc",
        "field": "spec.parameters.objects array[0]",
        "object": "kv#x",
        "message": "secret x does not exist in kv",
        "item": None,
    }


def test_markdown_escapes_manifest_text() -> None:
    markdown = to_markdown(CheckReport.build(FINDINGS, 4, 3, strict=True))
    assert markdown.startswith("### :x: avp-py check failed\n")
    assert "(strict: warnings count as errors)" in markdown
    assert "shown in clear &lt;path:kv#y&gt; \\| here `exposed-placeholder`" in markdown
    assert '`stringData["a\\|b"]`' in markdown
    assert "`` kv#z`1 ``" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| error")]
    assert len(rows) == 3 and all(row.count(" | ") == 4 for row in rows)
    clean = to_markdown(CheckReport.build([], 1, 0, strict=False))
    assert clean.startswith("### :white_check_mark: avp-py check passed\n")


def test_the_items_of_a_list_are_reported_apart() -> None:
    first = Site("l.yaml", 1, 1, "ConfigMap", "cm", "data.k", "path:kv#y", item=0)
    second = Site("l.yaml", 1, 1, "Secret", "s", "data.k", "kv#x", item=2)
    findings = [
        Finding(Severity.ERROR, Code.NOT_FOUND, second, "secret x does not exist in kv"),
        Finding(Severity.WARNING, Code.EXPOSED, first, "shown in clear"),
    ]
    report = CheckReport.build(findings, 3, 2, strict=False)
    assert to_text(report).splitlines()[:5] == [
        "l.yaml",
        "  document 1 (line 1) items[0] ConfigMap/cm",
        "    warning data.k (path:kv#y): shown in clear [exposed-placeholder]",
        "  document 1 (line 1) items[2] Secret/s",
        "    error   data.k (kv#x): secret x does not exist in kv [secret-not-found]",
    ]
    assert [f["item"] for f in json.loads(to_json(report))["findings"]] == [0, 2]
    assert second.describe() == "l.yaml (document 1, line 1) items[2] Secret/s"
