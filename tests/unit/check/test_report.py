"""The check's report forms: text grouped by file and document, JSON schema, Markdown."""

from __future__ import annotations

import json
import re

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


HOSTILE = Site(
    "evil.yaml\nError: forged",
    1,
    1,
    "Secret",
    "s`` <!-- ``",
    'stringData["x\x1b[2Jy"]',
    "kv#a```b",
)
HOSTILE_MESSAGES = [
    "see [the docs](https://evil.example/x) ![pixel](https://evil.example/p.png)",
    "<!-- everything below is hidden --> <img src=x onerror=alert(1)> <b>bold</b>",
    "*strong* _em_ ~~gone~~ `code` www.evil.example \\ back",
    "two\nlines\r\u2028and \u202eright-to-left",
]


def _hostile_report() -> CheckReport:
    findings = [Finding(Severity.ERROR, Code.NOT_FOUND, HOSTILE, m) for m in HOSTILE_MESSAGES]
    return CheckReport.build(findings, 1, 1, strict=False)


def test_the_text_report_keeps_manifest_text_on_its_line() -> None:
    text = to_text(_hostile_report())
    lines = text.splitlines()
    assert len(lines) == 2 + len(HOSTILE_MESSAGES) + 2  # file, heading, findings, blank, summary
    assert lines[0] == "evil.yaml\\nError: forged"
    assert "\x1b" not in text and "\u2028" not in text and "\u202e" not in text
    assert not any(line.startswith("Error:") for line in lines)


def test_the_markdown_report_makes_no_link_image_html_or_code_span_from_manifest_text() -> None:
    from markdown_it import MarkdownIt

    markdown = to_markdown(_hostile_report())
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    for made in ("<a ", "<img", "<!--", "<b>", "<strong>", "<em>", "<del>", "<s>"):
        assert made not in html, made
    # GitHub also links bare URLs: none survives in the Markdown text.
    assert "://" not in markdown and "www." not in markdown
    # Each finding stays one table row of five cells, whatever its text held.
    rows = [line for line in markdown.splitlines() if line.startswith("| error")]
    assert len(rows) == len(HOSTILE_MESSAGES)
    assert html.count("<tr>") == len(HOSTILE_MESSAGES) + 1
    assert all(row.count("</td>") == 5 for row in html.split("<tr>")[2:])
    # The text is still there to read: escaped, not removed.
    assert "the docs" in html and "evil.example" in html and "&lt;!--" in html
    assert "<code>kv#a```b</code>" in html
    assert "\x1b" not in markdown and "\u202e" not in markdown


MENTIONS = [
    "ask @security-team or @org/platform-team about secret @user",
    "fixes #123, see org/repo#45 and GH-7",
]
# What GitHub would turn into a mention or an issue reference in a comment's text.
_GITHUB_REFERENCE = re.compile(r"(?<![A-Za-z0-9_`])@[A-Za-z0-9]|#[0-9]|\bGH-[0-9]", re.I)


def _rendered_text(markdown: str) -> tuple[str, list[str]]:
    """The comment's HTML with code spans cut out (GitHub makes no mention inside them), and
    the code spans."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(markdown)
    codes = re.findall(r"<code>(.*?)</code>", html)
    return re.sub(r"<code>.*?</code>", "", html), codes


def test_the_markdown_report_makes_no_mention_or_issue_reference_from_manifest_text() -> None:
    site = Site("@org/a #1.yaml", 1, 1, "Secret", "@owner", "data.@k", "kv#12")
    findings = [Finding(Severity.ERROR, Code.NOT_FOUND, site, m) for m in MENTIONS]
    markdown = to_markdown(CheckReport.build(findings, 1, 1, strict=False))
    text, codes = _rendered_text(markdown)
    assert not _GITHUB_REFERENCE.search(text), _GITHUB_REFERENCE.findall(text)
    # Still readable: a zero-width space is all that was added; code spans are untouched.
    visible = text.replace("\u200b", "")
    for message in MENTIONS:
        assert message in visible
    assert "Secret/@owner" in visible
    assert {"@org/a #1.yaml", "data.@k", "kv#12"} <= set(codes)
    assert "&amp;#8203;" not in text and "&#8203;" not in markdown


def test_the_mention_check_sees_mentions() -> None:
    """The test above can fail: without the zero-width space every reference is found."""
    text, _ = _rendered_text(" ".join(MENTIONS))
    assert len(_GITHUB_REFERENCE.findall(text)) == 6
