"""The SecretProviderClass part of ``avp-py check``: objects, secretObjects, names. No backend."""

from __future__ import annotations

import re
import textwrap

from avp_py import documents, yamlcodec
from avp_py.check.findings import Scan
from avp_py.check.names import data_key_problem, secret_name_problem
from avp_py.check.spc import is_azure_spc, scan
from avp_py.settings.policy import ReferenceRules, TenantPolicy
from avp_py.sources import Source

OPEN = ReferenceRules(None, TenantPolicy())


def _spc(objects: str, secret_objects: str = "", extra: str = "") -> str:
    return (
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\n"
        "metadata: {name: spc}\nspec:\n  provider: azure\n  parameters:\n"
        f"    keyvaultName: kv-orders\n{extra}"
        "    objects: |\n      array:\n"
        + textwrap.indent(textwrap.dedent(objects), " " * 8)
        + (f"  secretObjects:\n{textwrap.indent(textwrap.dedent(secret_objects), '    ')}")
    )


def _scan(text: str, rules: ReferenceRules = OPEN) -> Scan:
    (doc,) = documents.load([Source("spc.yaml", text)], yamlcodec.Limits(), False, load_all=True)
    assert is_azure_spc(doc)
    return scan(doc, rules, yamlcodec.Limits())


def _found(result: Scan) -> list[tuple[str, str, str, str]]:
    return sorted(
        (f.severity.value, f.code.value, f.site.field, f.site.object) for f in result.findings
    )


OBJECTS = """\
- |
  objectName: orders-api-db
  objectType: secret
  objectVersion: ""
- |
  objectName: orders-api-key
  objectType: secret
  objectAlias: api-key.txt
  objectVersion: 0123456789abcdef0123456789abcdef
- |
  objectName: orders-api-tls
  objectType: cert
"""


def test_clean_spc_yields_every_object_with_its_type() -> None:
    secret_objects = """\
    - secretName: orders-api
      type: Opaque
      data:
        - {objectName: orders-api-db, key: DB_PASSWORD}
        - {objectName: api-key.txt, key: api.key}
    """
    result = _scan(_spc(OBJECTS, secret_objects))
    assert _found(result) == []
    assert [(u.ref.describe(), u.object_type) for u in result.usages] == [
        ("kv-orders#orders-api-db", "secret"),
        ("kv-orders#orders-api-key#0123456789abcdef0123456789abcdef", "secret"),
        ("kv-orders#orders-api-tls", "cert"),
    ]
    assert [u.site.field for u in result.usages] == [
        "spec.parameters.objects array[0]",
        "spec.parameters.objects array[1]",
        "spec.parameters.objects array[2]",
    ]


def test_secret_objects_must_name_a_mounted_file() -> None:
    secret_objects = """\
    - secretName: orders-api
      data:
        - {objectName: orders-api-dbb, key: A}
        - {objectName: orders-api-key, key: B}
        - {objectName: "", key: C}
    """
    result = _scan(_spc(OBJECTS, secret_objects))
    assert _found(result) == [
        ("error", "spc-invalid", "spec.secretObjects[0].data[2].objectName", ""),
        (
            "error",
            "spc-undeclared-object",
            "spec.secretObjects[0].data[0].objectName",
            "orders-api-dbb",
        ),
        (
            "error",
            "spc-undeclared-object",
            "spec.secretObjects[0].data[1].objectName",
            "orders-api-key",
        ),
    ]
    messages = {f.site.object: f.message for f in result.findings}
    assert "declared: api-key.txt, orders-api-db, orders-api-tls" in messages["orders-api-dbb"]
    assert "use objectName: api-key.txt" in messages["orders-api-key"]


def test_invalid_secret_names_and_keys() -> None:
    secret_objects = """\
    - secretName: Orders_API
      data:
        - {objectName: orders-api-db, key: "bad key"}
        - {objectName: orders-api-db, key: ok}
        - {objectName: orders-api-db, key: ok}
    - secretName: fine
    """
    result = _scan(_spc(OBJECTS, secret_objects))
    assert _found(result) == [
        ("error", "invalid-name", "spec.secretObjects[0].data[0].key", "bad key"),
        ("error", "invalid-name", "spec.secretObjects[0].secretName", ""),
        ("error", "spc-invalid", "spec.secretObjects[1].data", ""),
        ("warning", "invalid-name", "spec.secretObjects[0].data[2].key", "ok"),
    ]


def test_malformed_objects() -> None:
    objects = """\
    - |
      objectName: orders-api-a
      objectType: secrets
    - |
      objectname: orders-api-b
      objectType: secret
    - objectName: orders-api-c
    - |
      objectName: orders-api-d
      objectType: secret
      objectVerison: "1"
    """
    result = _scan(_spc(objects, "[]\n"))
    found = _found(result)
    assert ("error", "spc-invalid", "spec.parameters.objects array[0]", "orders-api-a") in found
    assert ("error", "spc-invalid", "spec.parameters.objects array[1]", "") in found
    assert ("error", "spc-invalid", "spec.parameters.objects array[2]", "") in found
    unknown = [f.message for f in result.findings if f.code.value == "spc-unknown-field"]
    assert (
        "unknown field objectVerison: the Azure provider ignores it (did you mean objectVersion?)"
        in unknown
    )
    assert (
        "unknown field objectname: the Azure provider ignores it (did you mean objectName?)"
        in unknown
    )
    assert [u.ref.key for u in result.usages] == ["orders-api-d"]


def test_objects_that_are_not_an_array_string() -> None:
    text = _spc("", "[]\n").replace("    objects: |\n      array:\n", "    objects: '[a'\n")
    assert _found(_scan(text))[0][1:3] == ("spc-invalid", "spec.parameters.objects")
    text = _spc("", "[]\n").replace("    objects: |\n      array:\n", "    objects: 'x: 1'\n")
    assert "must hold array:" in _scan(text).findings[0].message


def test_sovereign_cloud_and_unknown_cloud() -> None:
    china = _scan(_spc(OBJECTS, "[]\n", "    cloudName: AzureChinaCloud\n"))
    assert china.usages[0].ref.path == "kv-orders.vault.azure.cn"
    assert china.usages[0].site.object == "kv-orders#orders-api-db"
    stack = _scan(_spc(OBJECTS, "[]\n", "    cloudName: AzureStackCloud\n"))
    assert stack.usages == ()
    assert _found(stack) == [("warning", "spc-invalid", "spec.parameters.cloudName", "")]


def test_naming_policy_applies_to_every_object() -> None:
    rules = ReferenceRules(
        None, TenantPolicy(("kv-orders",), re.compile(r"^orders-api-"), "^{app}-")
    )
    objects = OBJECTS + "- |\n  objectName: shared-tls\n  objectType: cert\n"
    result = _scan(_spc(objects, "[]\n"), rules)
    assert _found(result) == [
        ("error", "policy", "spec.parameters.objects array[3]", "kv-orders#shared-tls")
    ]
    other_vault = ReferenceRules(None, TenantPolicy(("kv-other",)))
    assert {f.code.value for f in _scan(_spc(OBJECTS, "[]\n"), other_vault).findings} == {"policy"}


def test_not_azure_or_missing_parameters() -> None:
    text = _spc(OBJECTS, "[]\n").replace("provider: azure", "provider: vault")
    (doc,) = documents.load([Source("x.yaml", text)], yamlcodec.Limits(), False, load_all=True)
    assert not is_azure_spc(doc)
    text = _spc(OBJECTS, "[]\n").replace("    keyvaultName: kv-orders\n", "")
    assert ("error", "spc-invalid", "spec.parameters.keyvaultName", "") in _found(_scan(text))


def test_kubernetes_names() -> None:
    assert secret_name_problem("orders-api.v1") is None
    assert secret_name_problem("-bad") is not None
    assert secret_name_problem("a" * 254) is not None
    assert data_key_problem("tls.crt") is None
    assert data_key_problem("..x") is not None
    assert data_key_problem("a/b") is not None
    assert data_key_problem("") is not None
