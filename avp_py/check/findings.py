"""What ``avp-py check`` reports: findings, where they are, and the references to look up. Pure.

A finding names the file, the document (its number and first line), the object
(``Kind/name``), the field or Key Vault object concerned, and a message. No finding ever
holds a secret value: messages name references, never what a backend returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from avp_py.documents import Document
from avp_py.model import SecretRef


class Severity(str, Enum):
    """``error`` fails the check; ``warning`` fails it only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


class Code(str, Enum):
    """Stable identifiers of every kind of finding (part of the JSON schema)."""

    ANNOTATION = "annotation"  # an avp.kubernetes.io annotation is invalid
    PLACEHOLDER = "placeholder"  # malformed placeholder, modifier or key
    EXPOSED = "exposed-placeholder"  # a placeholder Argo CD would show in clear
    POLICY = "policy"  # AVP_PATH_VALIDATION, AVP_ALLOWED_VAULTS or AVP_SECRET_NAME_PATTERN
    INVALID_REFERENCE = "invalid-reference"  # a name or version the backend can never serve
    NOT_FOUND = "secret-not-found"
    VERSION_NOT_FOUND = "version-not-found"
    DISABLED = "secret-disabled"
    EXPIRED = "secret-expired"  # exp in the past: Key Vault serves it, but it is out of date
    NOT_YET_VALID = "secret-not-yet-valid"  # nbf in the future
    SPC_INVALID = "spc-invalid"  # a SecretProviderClass that the Azure provider would reject
    SPC_UNKNOWN_FIELD = "spc-unknown-field"  # a field the provider ignores (a typo?)
    SPC_UNDECLARED_OBJECT = "spc-undeclared-object"  # secretObjects names no mounted object
    SPC_OBJECT_TYPE = "spc-object-type"  # objectType cert for a secret that is no certificate
    INVALID_NAME = "invalid-name"  # not a valid Kubernetes Secret name or data key


@dataclass(frozen=True, slots=True)
class Site:
    """Where a finding is: file, document number and first line, object, field, Key Vault object.

    ``item`` is the object's index in the ``items`` of its List, None for a top-level object.
    """

    file: str
    document: int
    line: int
    kind: str
    name: str
    field: str = ""
    object: str = ""
    item: int | None = None

    @classmethod
    def of(cls, document: Document, field: str = "", obj: str = "") -> Site:
        """The site of ``document``, optionally narrowed to a field and an object."""
        chunk, item = document.chunk, document.item
        index = None if item is None else item.index
        return cls(
            chunk.source, chunk.number, chunk.line, document.kind, document.name, field, obj, index
        )

    def at(self, field: str = "", obj: str = "") -> Site:
        """The same document, another field or object."""
        return replace(self, field=field, object=obj)

    def describe(self) -> str:
        """``file (document n, line l) Kind/name``, as in generate's messages."""
        return f"{self.file} (document {self.document}, line {self.line}) {self.object_name()}"

    def location(self) -> dict[str, str | int]:
        """File, document, line, object and field as the JSON reports write them (``check``'s
        findings and ``check --list``'s uses)."""
        return {
            "file": self.file,
            "document": self.document,
            "line": self.line,
            "kind": self.kind,
            "name": self.name,
            "field": self.field,
        }

    def object_name(self) -> str:
        """``Kind/name``, after ``items[i]`` for an item of a List."""
        item = "" if self.item is None else f"items[{self.item}] "
        return f"{item}{self.kind or '?'}/{self.name or '?'}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by the check."""

    severity: Severity
    code: Code
    site: Site
    message: str

    def sort_key(self) -> tuple[str, int, int, str, str, str, str]:
        """File, document, List item, field, object, code, message: a stable report order."""
        site = self.site
        item = -1 if site.item is None else site.item
        return (
            site.file,
            site.document,
            item,
            site.field,
            site.object,
            self.code.value,
            self.message,
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """A secret a document needs, and where. ``missing_ok``: remove-missing drops the key.

    ``object_type`` is the Key Vault object type a SecretProviderClass asks for (``secret``,
    ``key`` or ``cert``); a placeholder always reads a secret.
    """

    ref: SecretRef
    site: Site
    missing_ok: bool = False
    object_type: str = "secret"


@dataclass(frozen=True, slots=True)
class Scan:
    """What the static part of the check found in one document."""

    usages: tuple[Usage, ...] = ()
    findings: tuple[Finding, ...] = ()


@dataclass(slots=True)
class ScanBuilder:
    """Accumulates usages and findings while one document is scanned."""

    usages: list[Usage] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def error(self, code: Code, site: Site, message: str) -> None:
        """Record an error."""
        self.findings.append(Finding(Severity.ERROR, code, site, message))

    def warning(self, code: Code, site: Site, message: str) -> None:
        """Record a warning."""
        self.findings.append(Finding(Severity.WARNING, code, site, message))

    def use(
        self, ref: SecretRef, site: Site, missing_ok: bool = False, object_type: str = "secret"
    ) -> None:
        """Record a reference to look up."""
        self.usages.append(Usage(ref, site, missing_ok, object_type))

    def build(self) -> Scan:
        """The immutable result."""
        return Scan(tuple(self.usages), tuple(self.findings))
