"""``check --list``: every reference, grouped, sorted, with where it is used. Pure."""

from __future__ import annotations

import json

from avp_py.check.findings import Site, Usage
from avp_py.check.listing import SCHEMA, ReferenceList, to_json, to_text
from avp_py.model import SecretRef

SECRET = Site("a.yaml", 2, 9, "Secret", "db", "stringData.PASSWORD")
SPC = Site("a.yaml", 1, 1, "SecretProviderClass", "kv", "spec.parameters.objects array[0]")
OTHER = Site("b.yaml", 1, 1, "ConfigMap", "cm", "data.URL")


def _listing() -> ReferenceList:
    password = SecretRef("kv-b", "db-password")
    usages = [
        Usage(password, SECRET),
        Usage(password, OTHER),
        Usage(password, SECRET),  # the same place twice is listed once
        Usage(SecretRef("kv-a", "tls", "0" * 32), SPC, object_type="cert"),
        Usage(password, SPC),
    ]
    return ReferenceList.build(usages, documents=3)


def test_grouped_by_reference_sorted_with_every_site() -> None:
    listing = _listing()
    assert [(r.ref.describe(), r.object_type) for r in listing.references] == [
        (f"kv-a#tls#{'0' * 32}", "cert"),
        ("kv-b#db-password", "secret"),
    ]
    assert listing.references[1].sites == (SPC, SECRET, OTHER)


def test_text_and_json_forms() -> None:
    text = to_text(_listing())
    assert text.splitlines() == [
        f"kv-a#tls#{'0' * 32} [cert]",
        "  a.yaml (document 1, line 1) SecretProviderClass/kv: spec.parameters.objects array[0]",
        "kv-b#db-password (latest)",
        "  a.yaml (document 1, line 1) SecretProviderClass/kv: spec.parameters.objects array[0]",
        "  a.yaml (document 2, line 9) Secret/db: stringData.PASSWORD",
        "  b.yaml (document 1, line 1) ConfigMap/cm: data.URL",
        "",
        "2 secret references in 2 vaults (3 documents); nothing was looked up",
    ]
    parsed = json.loads(to_json(_listing()))
    assert parsed["schema"] == SCHEMA and parsed["documents"] == 3
    first, second = parsed["references"]
    assert (first["vault"], first["secret"], first["type"]) == ("kv-a", "tls", "cert")
    assert second["version"] == ""
    assert second["used"][1] == {
        "file": "a.yaml",
        "document": 2,
        "line": 9,
        "kind": "Secret",
        "name": "db",
        "field": "stringData.PASSWORD",
    }


def test_nothing_referenced() -> None:
    empty = ReferenceList.build([], documents=1)
    assert to_text(empty) == "0 secret references in 0 vaults (1 document); nothing was looked up\n"
    assert json.loads(to_json(empty))["references"] == []
