"""Check the AVP placeholders of one document, without fetching anything. Pure.

The planner finds the placeholders exactly as ``generate`` does; this module turns its
problems into findings, applies the reference rules (path validation and tenant policy) with
structured locations, lists the references to look up, and flags every placeholder that Argo
CD would show in clear: only ``data`` and ``stringData`` of a core ``v1`` ``Secret`` are masked
in its UI (platform.md §4). A placeholder whose last modifier is ``sha256sum`` shows a hash,
the documented mitigation for checksum annotations, and is not flagged.
"""

from __future__ import annotations

from avp_py import grammar, rollout
from avp_py.check.findings import Code, Scan, ScanBuilder, Site
from avp_py.directives import Directives, parse_directives
from avp_py.documents import Document
from avp_py.errors import PlaceholderError
from avp_py.model import SecretRef
from avp_py.planner import DocumentPlan, ReferenceRules, Slot, field_name, plan_document

_MASKED_FIELDS = ("data", "stringData")


class AcceptAll:
    """Rules that refuse nothing: the check applies the real ones itself, per reference, and
    ``check --list`` lists every reference, refused or not."""

    def path_problem(self, path: str) -> str | None:
        return None

    def ref_problem(self, ref: SecretRef) -> str | None:
        return None


def scan(document: Document, rules: ReferenceRules) -> Scan:
    """Findings and references of the placeholders of one parsed document."""
    out = ScanBuilder()
    site = Site.of(document)
    try:
        directives = parse_directives(document.body)
    except PlaceholderError as exc:
        out.error(Code.ANNOTATION, site, str(exc))
        return out.build()
    if directives.ignore:
        return out.build()
    rollout_problem = (
        rollout.template_problem(document, document.body) if directives.rollout_on_change else None
    )
    if rollout_problem:
        out.error(Code.ANNOTATION, site, rollout_problem)
    result = plan_document(document, directives, AcceptAll())
    for problem in result.problems:
        field, message = problem.field, problem.message
        out.error(Code.PLACEHOLDER, site, f"{field}: {message}" if field else message)
    for slot in result.plan.slots:
        _check_slot(result.plan, slot, rules, out)
    return out.build()


def _check_slot(plan: DocumentPlan, slot: Slot, rules: ReferenceRules, out: ScanBuilder) -> None:
    field = field_name(slot.path, slot.base64)
    site = Site.of(plan.document, field)
    shown = [p.placeholder for p in slot.placeholders if not _hashed(p.placeholder)]
    if shown and not is_masked(plan.document, slot):
        keyspecs = ", ".join(placeholder.keyspec for placeholder in shown)
        out.warning(Code.EXPOSED, site.at(field, keyspecs), exposure_message(plan.document))
    missing_ok = _missing_ok(plan.directives, slot)
    for planned in slot.placeholders:
        ref = planned.ref
        if ref is None:
            message = "the avp.kubernetes.io/path annotation is empty: no value can be found"
            out.error(Code.PLACEHOLDER, site.at(field, planned.placeholder.keyspec), message)
        elif "<" not in ref.path and "<" not in ref.key:  # else: reported by the planner
            _use(ref, site.at(field, ref.describe()), rules, missing_ok, out)


def _use(
    ref: SecretRef, site: Site, rules: ReferenceRules, missing_ok: bool, out: ScanBuilder
) -> None:
    problem = rules.ref_problem(ref)
    if problem:
        out.error(Code.POLICY, site, problem)
    else:
        out.use(ref, site, missing_ok)


def _hashed(placeholder: grammar.Placeholder) -> bool:
    """A value ending in ``| sha256sum`` is a checksum, the documented way to show one."""
    return bool(placeholder.modifiers) and placeholder.modifiers[-1].name == "sha256sum"


def _missing_ok(directives: Directives, slot: Slot) -> bool:
    return directives.remove_missing and slot.in_mapping


def is_masked(document: Document, slot: Slot) -> bool:
    """Whether Argo CD masks this field: ``data``/``stringData`` of a ``v1`` ``Secret``."""
    body = document.body or {}
    core_secret = body.get("apiVersion") == "v1" and document.kind == "Secret"
    return core_secret and bool(slot.path) and slot.path[0] in _MASKED_FIELDS


def exposure_message(document: Document) -> str:
    """Why an unmasked placeholder is a risk, and what to do."""
    where = "this field" if document.kind == "Secret" else f"a {document.kind or 'resource'}"
    return (
        f"the value will be shown in clear in the Argo CD UI and cached in Redis: Argo CD masks"
        f" only data and stringData of v1 Secrets, not {where}; move the secret into a v1"
        " Secret and reference it (secretKeyRef, envFrom, a volume)"
    )
