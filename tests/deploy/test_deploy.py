"""The kustomize overlay that adds the avp-py sidecars to argocd-repo-server.

Structural checks always run. Rendering runs where `kubectl` (with its built-in kustomize) is
installed: the component against the offline stand-in base in deploy/testdata, and the
production overlay with its remote Argo CD base swapped for the same stand-in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPONENT = DEPLOY / "component"
TESTDATA = DEPLOY / "testdata"

CMP_SERVER = "/var/run/argocd/argocd-cmp-server"
# argocd-cmp-server beside the render server, supervised (issue 13, item 6)
SIDECAR_COMMAND = ["avp-py", "sidecar", "--", CMP_SERVER]
SIDECARS = {
    # container name -> plugin.yaml source (None: baked into the image)
    "avp-helm": None,
    "avp-plain": "avp-plain.yaml",
    "avp-kustomize": "avp-kustomize.yaml",
}
SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 999,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_all(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def component() -> dict[str, Any]:
    kustomization: dict[str, Any] = load(COMPONENT / "kustomization.yaml")
    return kustomization


def patch_for(kind: str) -> dict[str, Any]:
    for entry in component()["patches"]:
        doc: dict[str, Any] = load(COMPONENT / entry["path"])
        if doc["kind"] == kind:
            return doc
    raise AssertionError(f"no {kind} patch")


def generator(name: str) -> dict[str, Any]:
    for entry in component()["configMapGenerator"]:
        if entry["name"] == name:
            gen: dict[str, Any] = entry
            return gen
    raise AssertionError(f"no configMapGenerator {name}")


def containers(pod_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod_spec["containers"]}


def mounts(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in container.get("volumeMounts", [])}


def check_sidecars(pod: dict[str, Any], configmap_names: dict[str, str]) -> None:
    """Shared assertions for the patch and for the rendered Deployment.

    configmap_names maps generator names to the names the pod must reference (hashed after
    rendering, plain in the patch)."""
    spec = pod["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    found = containers(spec)
    tmp_volumes = set()
    for name, variant_file in SIDECARS.items():
        sidecar = found[name]
        assert sidecar["command"] == SIDECAR_COMMAND
        assert sidecar["image"] and not sidecar["image"].endswith(":latest")
        assert sidecar["securityContext"] | SECURITY_CONTEXT == sidecar["securityContext"]
        assert sidecar["resources"]["requests"]["cpu"]
        assert sidecar["resources"]["requests"]["memory"]
        assert sidecar["resources"]["limits"]["memory"]

        by_path = mounts(sidecar)
        assert by_path["/var/run/argocd"]["name"] == "var-files"
        assert by_path["/home/argocd/cmp-server/plugins"]["name"] == "plugins"
        tmp = by_path["/tmp"]["name"]
        assert tmp != "tmp", "a sidecar must not share the repo-server's /tmp volume"
        assert volumes[tmp] == {"name": tmp, "emptyDir": {}}
        tmp_volumes.add(tmp)

        config = by_path.get("/home/argocd/cmp-server/config/plugin.yaml")
        if variant_file is None:
            assert config is None, f"{name} uses the plugin.yaml baked into the image"
        else:
            assert config is not None and config["subPath"] == variant_file
            source = volumes[config["name"]]["configMap"]["name"]
            assert source == configmap_names["avp-py-plugins"]

        env_sources = [ref["configMapRef"]["name"] for ref in sidecar["envFrom"]]
        assert env_sources == [configmap_names["avp-py-env"]]
        assert not any(e["name"].startswith("AZURE_") for e in sidecar.get("env", []))
    assert len(tmp_volumes) == len(SIDECARS), "each sidecar needs its own /tmp"

    labels = pod["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"
    skipped = pod["metadata"]["annotations"]["azure.workload.identity/skip-containers"].split(";")
    assert "argocd-repo-server" in skipped
    assert not set(skipped) & set(SIDECARS)


# --------------------------------------------------------------------------- structure


def test_component_shape() -> None:
    kustomization = component()
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1alpha1"
    assert kustomization["kind"] == "Component"
    for entry in kustomization["patches"]:
        assert (COMPONENT / entry["path"]).is_file()
    for entry in kustomization["configMapGenerator"]:
        for file in entry.get("files", []):
            assert (COMPONENT / file).is_file(), file


def test_patch_adds_the_sidecars() -> None:
    patch = patch_for("Deployment")
    assert patch["metadata"]["name"] == "argocd-repo-server"
    assert set(containers(patch["spec"]["template"]["spec"])) == set(SIDECARS)
    check_sidecars(
        patch["spec"]["template"], {"avp-py-plugins": "avp-py-plugins", "avp-py-env": "avp-py-env"}
    )


def test_variant_files_are_the_plugins_the_sidecars_mount() -> None:
    files = generator("avp-py-plugins")["files"]
    names = {Path(file).name: load(COMPONENT / file)["metadata"]["name"] for file in files}
    assert names == {
        "avp-plain.yaml": "argocd-vault-plugin",
        "avp-kustomize.yaml": "argocd-vault-plugin-kustomize",
    }
    assert set(names) == {v for v in SIDECARS.values() if v}


def test_sidecar_environment_is_production_azure_with_policy() -> None:
    literals = dict(item.split("=", 1) for item in generator("avp-py-env")["literals"])
    assert literals["AVP_TYPE"] == "azurekeyvault"
    assert literals["AVP_AZURE_CREDENTIAL"] == "workload"
    assert literals["AVP_ALLOWED_VAULTS"]
    assert "{app}" in literals["AVP_SECRET_NAME_PATTERN"]
    re.compile(literals["AVP_SECRET_NAME_PATTERN"].replace("{app}", "vouch-proxy"))
    assert 0 < int(literals["AVP_TIMEOUT_SECONDS"]) < 60, "must fit Argo CD's 60 s timeout"
    assert not any(key.startswith("AZURE_") for key in literals), "no credentials in config"


def test_service_account_carries_the_workload_identity_client_id() -> None:
    patch = patch_for("ServiceAccount")
    assert patch["metadata"]["name"] == "argocd-repo-server"
    client_id = patch["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert UUID.match(client_id)


def test_stand_in_base_has_what_the_patch_relies_on() -> None:
    docs = load_all((TESTDATA / "argocd-repo-server.yaml").read_text(encoding="utf-8"))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert any(d["kind"] == "ServiceAccount" for d in docs)
    spec = deployment["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "argocd-repo-server"
    assert {v["name"] for v in spec["volumes"]} >= {"var-files", "plugins", "tmp"}
    assert [c["name"] for c in spec["initContainers"]] == ["copyutil"]
    assert "argocd-cmp-server" in spec["initContainers"][0]["args"][0]


def test_production_overlay_pins_its_inputs() -> None:
    overlay = load(DEPLOY / "kustomization.yaml")
    assert overlay["kind"] == "Kustomization"
    assert overlay["namespace"] == "argocd"
    assert overlay["components"] == ["component"]
    (base,) = overlay["resources"]
    assert re.search(r"/argoproj/argo-cd/v\d+\.\d+\.\d+/manifests/install\.yaml$", base), base
    (image,) = overlay["images"]
    assert image["name"] == "avp-py"
    assert image["newTag"] and image["newTag"] != "latest"


# --------------------------------------------------------------------------- rendering


def kustomize(directory: Path) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return load_all(result.stdout)


def find(docs: list[dict[str, Any]], kind: str, prefix: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(prefix)]
    return doc


@needs_kubectl
def test_component_renders_on_the_stand_in_base() -> None:
    docs = kustomize(TESTDATA)
    plugins = find(docs, "ConfigMap", "avp-py-plugins-")
    env = find(docs, "ConfigMap", "avp-py-env-")
    deployment = find(docs, "Deployment", "argocd-repo-server")
    pod = deployment["spec"]["template"]
    check_sidecars(
        pod,
        {"avp-py-plugins": plugins["metadata"]["name"], "avp-py-env": env["metadata"]["name"]},
    )
    spec = pod["spec"]
    assert "argocd-repo-server" in containers(spec), "the repo-server container must survive"
    assert [c["name"] for c in spec["initContainers"]] == ["copyutil"]
    for name in SIDECARS:
        assert containers(spec)[name]["image"] == "ghcr.io/your-org/avp-py:0.1.0"
    for key in ("avp-plain.yaml", "avp-kustomize.yaml"):
        assert yaml.safe_load(plugins["data"][key])["kind"] == "ConfigManagementPlugin"
    assert env["data"]["AVP_TYPE"] == "azurekeyvault"
    account = find(docs, "ServiceAccount", "argocd-repo-server")
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
    assert all(d["metadata"].get("namespace") == "argocd" for d in docs)


def render_overlay(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """deploy/kustomization.yaml rendered offline: its remote Argo CD base swapped for the
    stand-in, then `edit` applied to it."""
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    overlay = load(copy / "kustomization.yaml")
    overlay["resources"] = ["testdata/argocd-repo-server.yaml"]
    edit(overlay)
    (copy / "kustomization.yaml").write_text(yaml.safe_dump(overlay), encoding="utf-8")
    return kustomize(copy)


@needs_kubectl
def test_production_overlay_renders_with_its_base_swapped(tmp_path: Path) -> None:
    def set_client_id(overlay: dict[str, Any]) -> None:
        overlay["patches"][0]["patch"] = overlay["patches"][0]["patch"].replace(
            "00000000-0000-0000-0000-000000000000", "12345678-90ab-cdef-1234-567890abcdef"
        )

    docs = render_overlay(tmp_path, set_client_id)
    account = find(docs, "ServiceAccount", "argocd-repo-server")
    annotations = account["metadata"]["annotations"]
    assert (
        annotations["azure.workload.identity/client-id"] == "12345678-90ab-cdef-1234-567890abcdef"
    )
    deployment = find(docs, "Deployment", "argocd-repo-server")
    assert set(SIDECARS) < set(containers(deployment["spec"]["template"]["spec"]))
