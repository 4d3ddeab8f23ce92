"""Check an Azure ``SecretProviderClass`` (Secrets Store CSI driver) without fetching anything.

The provider reads ``spec.parameters.objects``, a YAML *string* holding ``array:``, a list of
YAML strings, each one object (``objectName``, ``objectType``, ``objectVersion``,
``objectAlias``...). It mounts each object as a file named after its alias, else its name, and
``spec.secretObjects[].data[].objectName`` must name one of those files, or the driver fails
with "file matching objectName ... not found in the pod" long after the merge. Pure: every
object becomes a reference with its type (``check --list`` shows them all); those of type
``secret`` and ``cert`` (a certificate is read through its secret) are looked up.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from avp_py import yamlcodec
from avp_py.check.findings import Code, Scan, ScanBuilder, Site
from avp_py.check.names import data_key_problem, secret_name_problem
from avp_py.documents import Document
from avp_py.errors import ManifestParseError
from avp_py.model import SecretRef, YamlNode
from avp_py.planner import ReferenceRules

GROUP = "secrets-store.csi.x-k8s.io/"
OBJECT_TYPES = ("secret", "key", "cert")
OBJECT_FIELDS = (
    "objectName",
    "objectType",
    "objectVersion",
    "objectAlias",
    "objectFormat",
    "objectEncoding",
    "filePermission",
    "objectVersionHistory",
)
# cloudName → the vault DNS suffix (None: the public cloud, addressed by vault name).
CLOUDS: Mapping[str, str | None] = {
    "": None,
    "azurepubliccloud": None,
    "azurechinacloud": "vault.azure.cn",
    "azureusgovernmentcloud": "vault.usgovcloudapi.net",
    "azuregermancloud": "vault.microsoftazure.de",
}
_OBJECTS = "spec.parameters.objects"


@dataclass(frozen=True, slots=True)
class SpcObject:
    """One entry of ``parameters.objects``."""

    index: int
    name: str
    type: str
    version: str
    alias: str

    @property
    def file_name(self) -> str:
        """The name the driver mounts it under, and that ``secretObjects`` must use."""
        return self.alias or self.name


def is_azure_spc(document: Document) -> bool:
    """A ``secrets-store.csi.x-k8s.io`` SecretProviderClass for the ``azure`` provider."""
    body = document.body or {}
    api_version = body.get("apiVersion")
    spec = body.get("spec")
    return (
        document.kind == "SecretProviderClass"
        and isinstance(api_version, str)
        and api_version.startswith(GROUP)
        and isinstance(spec, dict)
        and spec.get("provider") == "azure"
    )


def scan(document: Document, rules: ReferenceRules, limits: yamlcodec.Limits) -> Scan:
    """Findings and secret references of one Azure SecretProviderClass."""
    out = ScanBuilder()
    site = Site.of(document)
    spec = (document.body or {}).get("spec")
    parameters = spec.get("parameters") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(parameters, dict):
        out.error(Code.SPC_INVALID, site.at("spec.parameters"), "spec.parameters is required")
        return out.build()
    objects = parse_objects(parameters.get("objects"), site, limits, out)
    vault = _vault(parameters, site, out)
    if objects is None:
        return out.build()
    if vault is not None:
        for obj in objects:
            _check_object(obj, vault, site, rules, out)
    check_secret_objects(spec.get("secretObjects"), objects, site, out)
    return out.build()


def _vault(
    parameters: Mapping[str, YamlNode], site: Site, out: ScanBuilder
) -> tuple[str, str] | None:
    """``(keyvaultName, lookup path)``: the name for the policy, the name or host to query."""
    name = parameters.get("keyvaultName")
    if not isinstance(name, str) or not name.strip():
        where = site.at("spec.parameters.keyvaultName")
        out.error(Code.SPC_INVALID, where, "keyvaultName is required")
        return None
    cloud = parameters.get("cloudName")
    cloud_key = cloud.strip().lower() if isinstance(cloud, str) else ""
    if cloud_key not in CLOUDS:
        message = f"objects in cloud {cloud!r} cannot be checked (not a known Azure cloud)"
        out.warning(Code.SPC_INVALID, site.at("spec.parameters.cloudName"), message)
        return None
    name = name.strip()
    suffix = CLOUDS[cloud_key]
    return name, f"{name}.{suffix}" if suffix else name


def _check_object(
    obj: SpcObject, vault: tuple[str, str], site: Site, rules: ReferenceRules, out: ScanBuilder
) -> None:
    name, lookup_path = vault
    declared = SecretRef(name, obj.name, obj.version)
    where = site.at(f"{_OBJECTS} array[{obj.index}]", declared.describe())
    problem = rules.ref_problem(declared)
    if problem:
        out.error(Code.POLICY, where, problem)
    elif obj.type in OBJECT_TYPES:
        out.use(SecretRef(lookup_path, obj.name, obj.version), where, object_type=obj.type)


def parse_objects(
    text: YamlNode, site: Site, limits: yamlcodec.Limits, out: ScanBuilder
) -> list[SpcObject] | None:
    """The declared objects; None when ``objects`` itself cannot be read."""
    where = site.at(_OBJECTS)
    if not isinstance(text, str) or not text.strip():
        out.error(
            Code.SPC_INVALID, where, "parameters.objects must be a YAML string holding array:"
        )
        return None
    try:
        parsed = yamlcodec.load_yaml(text, limits)
    except ManifestParseError as exc:
        out.error(Code.SPC_INVALID, where, f"parameters.objects is not valid YAML: {exc}")
        return None
    array = parsed.get("array") if isinstance(parsed, dict) else None
    if not isinstance(array, list):
        out.error(Code.SPC_INVALID, where, "parameters.objects must hold array:, a list of objects")
        return None
    found = (_object(i, entry, site, limits, out) for i, entry in enumerate(array))
    return [obj for obj in found if obj is not None]


def _object(
    index: int, entry: YamlNode, site: Site, limits: yamlcodec.Limits, out: ScanBuilder
) -> SpcObject | None:
    where = site.at(f"{_OBJECTS} array[{index}]")
    if not isinstance(entry, str):
        message = "each entry of array must be a YAML string: write '- |' then the object's fields"
        out.error(Code.SPC_INVALID, where, message)
        return None
    try:
        fields = yamlcodec.load_yaml(entry, limits)
    except ManifestParseError as exc:
        out.error(Code.SPC_INVALID, where, f"not valid YAML: {exc}")
        return None
    if not isinstance(fields, dict):
        out.error(
            Code.SPC_INVALID, where, "an object must be a mapping of objectName, objectType..."
        )
        return None
    obj = SpcObject(index, *(_text(fields.get(key)) for key in OBJECT_FIELDS[:4]))
    _object_problems(obj, fields, where.at(where.field, obj.name), out)
    return obj if obj.name else None


def _object_problems(
    obj: SpcObject, fields: Mapping[str, YamlNode], where: Site, out: ScanBuilder
) -> None:
    for unknown in sorted(set(fields) - set(OBJECT_FIELDS)):
        close = difflib.get_close_matches(unknown, OBJECT_FIELDS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        message = f"unknown field {unknown}: the Azure provider ignores it{hint}"
        out.warning(Code.SPC_UNKNOWN_FIELD, where, message)
    if not obj.name:
        out.error(Code.SPC_INVALID, where, "objectName is required")
    if obj.type not in OBJECT_TYPES:
        message = f"objectType must be one of {', '.join(OBJECT_TYPES)}, not {obj.type!r}"
        out.error(Code.SPC_INVALID, where, message)
    history = fields.get("objectVersionHistory")
    if history is not None and not _is_version_count(history):
        message = (
            "objectVersionHistory must be a whole number of versions (0 or more, unquoted),"
            f" not {_text(history)!r}: the provider refuses the object"
        )
        out.error(Code.SPC_INVALID, where, message)


def _is_version_count(value: YamlNode) -> bool:
    """What the provider's int32 field accepts: a YAML integer, not a string or a boolean."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 31


def _text(value: YamlNode) -> str:
    """A scalar as go-yaml would put it in a string field; "" when absent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def check_secret_objects(
    value: YamlNode, objects: list[SpcObject], site: Site, out: ScanBuilder
) -> None:
    """Every synced Secret has a valid name, valid keys, and names mounted objects."""
    if value is None:
        return
    if not isinstance(value, list):
        out.error(Code.SPC_INVALID, site.at("spec.secretObjects"), "secretObjects must be a list")
        return
    for index, entry in enumerate(value):
        field = f"spec.secretObjects[{index}]"
        if not isinstance(entry, dict):
            out.error(
                Code.SPC_INVALID, site.at(field), "each secretObjects entry must be a mapping"
            )
            continue
        problem = secret_name_problem(_text(entry.get("secretName")))
        if problem:
            out.error(Code.INVALID_NAME, site.at(f"{field}.secretName"), problem)
        _check_data(entry.get("data"), objects, site.at(f"{field}.data"), out)


def _check_data(data: YamlNode, objects: list[SpcObject], site: Site, out: ScanBuilder) -> None:
    if not isinstance(data, list) or not data:
        out.error(Code.SPC_INVALID, site, "data must be a non-empty list of objectName and key")
        return
    keys: set[str] = set()
    for index, item in enumerate(data):
        where = site.at(f"{site.field}[{index}]")
        if not isinstance(item, dict):
            out.error(Code.SPC_INVALID, where, "each data entry must be a mapping")
            continue
        _check_data_object(_text(item.get("objectName")), objects, where, out)
        key = _text(item.get("key"))
        problem = data_key_problem(key)
        if problem:
            out.error(Code.INVALID_NAME, where.at(f"{where.field}.key", key), problem)
        elif key in keys:
            out.warning(
                Code.INVALID_NAME, where.at(f"{where.field}.key", key), f"duplicate key {key}"
            )
        keys.add(key)


def _check_data_object(name: str, objects: list[SpcObject], where: Site, out: ScanBuilder) -> None:
    site = where.at(f"{where.field}.objectName", name)
    if not name:
        out.error(Code.SPC_INVALID, site, "objectName is required")
        return
    if any(obj.file_name == name for obj in objects):
        return
    aliased = next((obj for obj in objects if obj.name == name and obj.alias), None)
    if aliased is not None:
        message = (
            f"object {name} is mounted under its objectAlias {aliased.alias}: use"
            f" objectName: {aliased.alias} here"
        )
    else:
        declared = ", ".join(sorted(obj.file_name for obj in objects)) or "none"
        message = (
            f"no object of parameters.objects is mounted as {name} (declared: {declared}); the"
            " CSI driver would fail with 'file matching objectName not found in the pod'"
        )
    out.error(Code.SPC_UNDECLARED_OBJECT, site, message)
