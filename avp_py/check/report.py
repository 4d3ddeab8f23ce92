"""The check's result and its text and JSON forms. Pure.

JSON schema (``avp-py/check/v1``; fields are only ever added)::

    {"schema": "avp-py/check/v1", "passed": bool, "strict": bool,
     "summary": {"documents": int, "references": int, "errors": int, "warnings": int},
     "findings": [{"severity": "error" | "warning", "code": str, "file": str,
                   "document": int, "line": int, "kind": str, "name": str,
                   "field": str, "object": str, "message": str,
                   "item": int | null}]}

``item`` is the object's index in the ``items`` of its List (null for a top-level object).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import groupby

from avp_py.check.findings import Finding, Severity
from avp_py.printable import one_line

SCHEMA = "avp-py/check/v1"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every finding, sorted; with ``strict`` every warning has become an error."""

    findings: tuple[Finding, ...]
    documents: int
    references: int
    strict: bool = False

    @classmethod
    def build(
        cls, findings: Iterable[Finding], documents: int, references: int, strict: bool
    ) -> CheckReport:
        """Sort the findings (and promote warnings to errors when ``strict``)."""
        found = sorted(set(findings), key=Finding.sort_key)
        if strict:
            found = [replace(f, severity=Severity.ERROR) for f in found]
        return cls(tuple(found), documents, references, strict)

    @property
    def errors(self) -> int:
        """Number of errors."""
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        """Number of warnings."""
        return sum(f.severity is Severity.WARNING for f in self.findings)

    @property
    def passed(self) -> bool:
        """No error: the check exits 0."""
        return self.errors == 0

    def by_document(self) -> Iterator[tuple[str, list[tuple[str, list[Finding]]]]]:
        """``(file, [(document heading, findings)])`` in report order."""
        for file, in_file in groupby(self.findings, key=lambda f: f.site.file):
            documents = groupby(in_file, key=lambda f: (f.site.document, f.site.item))
            yield file, [(_heading(group[0]), group) for _, group in _lists(documents)]

    def summary(self) -> str:
        """One line: passed/failed, counts."""
        references = _plural(self.references, "secret reference")
        scope = f"{_plural(self.documents, 'document')}, {references}"
        if not self.findings:
            return f"check passed: no problems ({scope})"
        verdict = "passed" if self.passed else "failed"
        counts = f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        return f"check {verdict}: {counts} ({scope})"


def _lists(
    groups: Iterable[tuple[object, Iterable[Finding]]],
) -> Iterator[tuple[object, list[Finding]]]:
    for key, group in groups:
        yield key, list(group)


def _heading(finding: Finding) -> str:
    site = finding.site
    return f"document {site.document} (line {site.line}) {site.object_name()}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def to_text(report: CheckReport) -> str:
    """The readable report: findings grouped by file and document, then the summary."""
    lines: list[str] = []
    for file, documents in report.by_document():
        lines.append(file)
        for heading, findings in documents:
            lines.append(f"  {heading}")
            lines.extend(f"    {_line(finding)}" for finding in findings)
        lines.append("")
    lines.append(report.summary())
    return "\n".join(one_line(line) for line in lines) + "\n"


def _line(finding: Finding) -> str:
    site = finding.site
    if site.field and site.object:
        where = f"{site.field} ({site.object}): "
    else:
        where = f"{site.field or site.object}: " if site.field or site.object else ""
    return f"{finding.severity.value:<7} {where}{finding.message} [{finding.code.value}]"


def to_json(report: CheckReport) -> str:
    """The machine-readable report (schema in the module docstring)."""
    document = {
        "schema": SCHEMA,
        "passed": report.passed,
        "strict": report.strict,
        "summary": {
            "documents": report.documents,
            "references": report.references,
            "errors": report.errors,
            "warnings": report.warnings,
        },
        "findings": [finding_dict(finding) for finding in report.findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def finding_dict(finding: Finding) -> dict[str, object]:
    """One finding as a JSON object."""
    return {
        "severity": finding.severity.value,
        "code": finding.code.value,
        **finding.site.location(),
        "object": finding.site.object,
        "message": finding.message,
        "item": finding.site.item,
    }
