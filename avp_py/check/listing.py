"""``avp-py check --list``: every secret a change reads, and where, without asking anyone. Pure.

The list is made from the scan alone (placeholders and SecretProviderClass objects): no backend
is built, no credential, no request. References the naming policy would refuse are listed too:
a reviewer wants to see everything the manifests ask for.

JSON schema (``avp-py/check-list/v1``; fields are only ever added)::

    {"schema": "avp-py/check-list/v1", "documents": int,
     "references": [{"vault": str, "secret": str, "version": str, "type": str,
                     "used": [{"file": str, "document": int, "line": int, "kind": str,
                               "name": str, "field": str}]}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from avp_py.check.findings import Site, Usage
from avp_py.model import SecretRef

SCHEMA = "avp-py/check-list/v1"


@dataclass(frozen=True, slots=True)
class Reference:
    """One (vault, secret, version) of one object type, and every place that uses it."""

    ref: SecretRef
    object_type: str
    sites: tuple[Site, ...]


@dataclass(frozen=True, slots=True)
class ReferenceList:
    """What ``check --list`` prints: the references, sorted, and how many documents were read."""

    references: tuple[Reference, ...]
    documents: int

    @classmethod
    def build(cls, usages: Iterable[Usage], documents: int) -> ReferenceList:
        """Group the usages by reference and type; sort references and their sites."""
        grouped: dict[tuple[SecretRef, str], set[Site]] = {}
        for usage in usages:
            grouped.setdefault((usage.ref, usage.object_type), set()).add(usage.site)
        references = (
            Reference(ref, object_type, tuple(sorted(sites, key=_site_key)))
            for (ref, object_type), sites in sorted(grouped.items(), key=_reference_key)
        )
        return cls(tuple(references), documents)


def _reference_key(item: tuple[tuple[SecretRef, str], set[Site]]) -> tuple[str, str, str, str]:
    (ref, object_type), _ = item
    return (ref.path, ref.key, ref.version, object_type)


def _site_key(site: Site) -> tuple[str, int, str]:
    return (site.file, site.document, site.field)


def to_text(listing: ReferenceList) -> str:
    """One block per reference: ``VAULT#SECRET[#VERSION]``, its type, then where it is used."""
    lines: list[str] = []
    for reference in listing.references:
        version = "" if reference.ref.version else " (latest)"
        kind = "" if reference.object_type == "secret" else f" [{reference.object_type}]"
        lines.append(f"{reference.ref.describe()}{version}{kind}")
        lines.extend(
            f"  {site.describe()}: {site.field or '(document)'}" for site in reference.sites
        )
    if lines:
        lines.append("")
    lines.append(_summary(listing))
    return "\n".join(lines) + "\n"


def _summary(listing: ReferenceList) -> str:
    count = len(listing.references)
    vaults = len({reference.ref.path for reference in listing.references})
    return (
        f"{count} secret reference{'' if count == 1 else 's'} in"
        f" {vaults} vault{'' if vaults == 1 else 's'}"
        f" ({listing.documents} document{'' if listing.documents == 1 else 's'});"
        " nothing was looked up"
    )


def to_json(listing: ReferenceList) -> str:
    """The machine-readable list (schema in the module docstring)."""
    document = {
        "schema": SCHEMA,
        "documents": listing.documents,
        "references": [
            {
                "vault": reference.ref.path,
                "secret": reference.ref.key,
                "version": reference.ref.version,
                "type": reference.object_type,
                "used": [site.location() for site in reference.sites],
            }
            for reference in listing.references
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
