"""The check's pipeline: load the documents, scan each one, look up every reference once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import closing

from avp_py import backends, yamlcodec
from avp_py.backends.base import BackendContext, BackendStats, SecretBackend
from avp_py.check import placeholders, spc
from avp_py.check.findings import Finding, Scan, Usage
from avp_py.check.listing import ReferenceList
from avp_py.check.report import CheckReport
from avp_py.check.states import lookup
from avp_py.documents import Document
from avp_py.model import Deadline
from avp_py.planner import ReferenceRules
from avp_py.render import BackendBuilder, read_documents
from avp_py.settings import Settings
from avp_py.sources import Source

LOOKED_UP = ("secret", "cert")


def check(
    sources: Iterable[Source],
    settings: Settings,
    deadline: Deadline,
    *,
    directory_mode: bool = False,
    strict: bool = False,
    build_backend: BackendBuilder | None = None,
) -> CheckReport:
    """Check every document of ``sources``; AvpError only for input, config or backend failures."""
    docs = read_documents(sources, settings, directory_mode=directory_mode, load_all=True)
    rules, limits = settings.reference_rules, settings.limits
    scans = [scan_document(doc, rules, limits) for doc in docs if doc.body is not None]
    # A certificate is read through its secret; a Key Vault key has none (the secrets API,
    # all avp-py uses, cannot see it): keys are listed by --list, never looked up.
    usages = [usage for scan in scans for usage in scan.usages if usage.object_type in LOOKED_UP]
    findings: list[Finding] = [finding for scan in scans for finding in scan.findings]
    findings.extend(_look_up(usages, settings, deadline, build_backend or uncached_backend))
    references = len({usage.ref for usage in usages})
    return CheckReport.build(findings, len(docs), references, strict)


def list_references(
    sources: Iterable[Source], settings: Settings, *, directory_mode: bool = False
) -> ReferenceList:
    """Every reference of ``sources`` and where it is used (``check --list``): read and scan
    only, with rules that refuse nothing; no backend is built and nothing is requested."""
    docs = read_documents(sources, settings, directory_mode=directory_mode, load_all=True)
    rules = placeholders.AcceptAll()
    scans = [scan_document(doc, rules, settings.limits) for doc in docs if doc.body is not None]
    return ReferenceList.build((usage for scan in scans for usage in scan.usages), len(docs))


def scan_document(document: Document, rules: ReferenceRules, limits: yamlcodec.Limits) -> Scan:
    """The static findings and the secret references of one parsed document."""
    found = placeholders.scan(document, rules)
    if not spc.is_azure_spc(document):
        return found
    csi = spc.scan(document, rules, limits)
    return Scan(found.usages + csi.usages, found.findings + csi.findings)


def uncached_backend(settings: Settings, context: BackendContext) -> SecretBackend:
    """The backend named by ``AVP_TYPE``, never behind the cross-run cache: the check reports
    what the backend holds now, and the cache would hide ``fetch_state``."""
    return backends.load_factory(settings.backend)(context)


def _look_up(
    usages: Sequence[Usage], settings: Settings, deadline: Deadline, build_backend: BackendBuilder
) -> list[Finding]:
    if not usages:
        return []
    context = BackendContext(settings.options, deadline, settings.max_concurrency, BackendStats())
    with closing(build_backend(settings, context)) as backend:
        rules = settings.reference_rules
        return lookup(
            usages,
            backend,
            settings.max_concurrency,
            deadline,
            allowed=lambda ref: rules.ref_problem(ref) is None,
        )
