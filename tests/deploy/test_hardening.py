"""Sidecar hardening (issue #6, item 7), checked statically: the image and the kustomize
component run avp-py as uid 999, non-root, on a read-only root filesystem, without privilege
escalation or capabilities, under the runtime's seccomp profile, writing only to its own /tmp,
with no host access. test_dockerfile.py and test_deploy.py check the shape of both files; this
module checks everything a weakening edit could slip past them, and that docs/security.md says
what the files do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_deploy import COMPONENT, SIDECARS, TESTDATA, containers, load, patch_for
from tests.deploy.test_dockerfile import final_stage, instructions, stages

REPO = Path(__file__).resolve().parents[2]
SECURITY_DOC = REPO / "docs" / "security.md"
KUBECTL = shutil.which("kubectl")

# Where each sidecar may write: its own /tmp, the CMP socket directory, and the shared volume
# Argo CD's copyutil fills (argocd-cmp-server itself). Anything else must be read-only.
WRITABLE_MOUNTS = {"/tmp", "/home/argocd/cmp-server/plugins", "/var/run/argocd"}
SAFE_VOLUME_TYPES = {"emptyDir", "configMap"}
POD_HOST_ACCESS = ("hostNetwork", "hostPID", "hostIPC", "hostUsers", "shareProcessNamespace")


# ------------------------------------------------------------------------------ the image


def test_image_user_is_numeric_uid_999_and_never_switched_back() -> None:
    final = final_stage()
    users = [(i, rest) for i, (keyword, rest) in enumerate(final) if keyword == "USER"]
    assert [user for _, user in users] == ["999"], "one USER, numeric (runAsNonRoot checks it)"
    position = users[0][0]
    after = [keyword for keyword, _ in final[position + 1 :]]
    assert "RUN" not in after, "nothing may run as another user after USER 999"
    creation = " ".join(rest for keyword, rest in final if keyword == "RUN")
    assert "--uid 999" in creation and "--gid 999" in creation
    assert "--shell /usr/sbin/nologin" in creation


def test_image_adds_no_privilege_tools_or_setuid_bits() -> None:
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert not re.search(r"\b(sudo|su-exec|gosu|doas|setcap|capsh)\b", runs)
    assert not re.search(r"chmod\s+([ugoa]*\+[rwx]*s|[2467][0-7]{3})\b", runs), "setuid/setgid"
    assert not re.search(r"install\s+-m\s*[2467][0-7]{3}\b", runs), "setuid/setgid"


def test_image_writes_only_below_tmp() -> None:
    final = final_stage()
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    pairs = dict(re.findall(r"([A-Z_]+)=(\S+)", env))
    homes = {k: v for k, v in pairs.items() if k.endswith(("_HOME", "TMPDIR")) or k == "HOME"}
    assert {"HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"} <= set(homes)
    assert all(value == "/tmp" or value.startswith("/tmp/") for value in homes.values()), homes
    assert [rest for keyword, rest in final if keyword == "WORKDIR"][-1] == "/tmp"
    assert not any(keyword == "VOLUME" for keyword, _ in final), "the Deployment mounts /tmp"


def test_image_carries_no_credentials_and_exposes_nothing() -> None:
    for keyword, rest in instructions():
        if keyword in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"(SECRET|PASSWORD|TOKEN|CACHE_KEY|AZURE_CLIENT)", rest), rest
        assert keyword not in ("EXPOSE", "ADD"), (
            f"{keyword} {rest}"
        )  # unix socket; verified downloads
    final = final_stage()
    sources = [rest.split()[0] for keyword, rest in final if keyword == "COPY"]
    assert all(src.startswith("--from=") or src == "plugin.yaml" for src in sources), sources
    assert len(stages()) >= 3, "tools and build stages keep compilers and downloads out"


# ------------------------------------------------------------------------------ the Deployment


def _pod(patch: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = patch["spec"]["template"]
    return pod


def check_pod(pod: dict[str, Any]) -> None:
    spec = pod["spec"]
    for field in POD_HOST_ACCESS:
        assert not spec.get(field), field
    pod_context = spec.get("securityContext") or {}
    assert pod_context.get("runAsUser", 999) != 0
    assert pod_context.get("runAsNonRoot", True) is True
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    for volume in volumes.values():
        assert "hostPath" not in volume, volume["name"]
    for name in SIDECARS:
        sidecar = containers(spec)[name]
        context = sidecar["securityContext"]
        assert context.get("privileged", False) is False
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] == 999 and context["runAsGroup"] == 999
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}, "drop ALL, add nothing"
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert "procMount" not in context and "windowsOptions" not in context
        for mount in sidecar.get("volumeMounts", []):
            path, volume = mount["mountPath"], volumes.get(mount["name"])
            if volume is not None:
                assert set(volume) - {"name"} <= SAFE_VOLUME_TYPES, volume
            if "subPath" in mount or (volume and "configMap" in volume):
                continue  # a ConfigMap is read-only whatever the mount says
            assert path in WRITABLE_MOUNTS or mount.get("readOnly") is True, (name, path)
        tmp = next(m for m in sidecar["volumeMounts"] if m["mountPath"] == "/tmp")
        if tmp["name"] in volumes:
            assert volumes[tmp["name"]] == {"name": tmp["name"], "emptyDir": {}}
        assert not any(key in sidecar for key in ("ports", "stdin", "tty")), name


def test_component_patch_is_hardened() -> None:
    check_pod(_pod(patch_for("Deployment")))


def test_component_adds_no_privileged_objects() -> None:
    kustomization = load(COMPONENT / "kustomization.yaml")
    assert "resources" not in kustomization, "the component only patches Argo CD's objects"
    kinds = {patch_for("Deployment")["kind"], patch_for("ServiceAccount")["kind"]}
    assert kinds == {"Deployment", "ServiceAccount"}
    account = patch_for("ServiceAccount")
    assert set(account["metadata"]) == {"name", "annotations"}
    assert "secrets" not in yaml.safe_dump(kustomization)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_rendered_deployment_is_hardened() -> None:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(TESTDATA)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    documents = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    (deployment,) = [doc for doc in documents if doc["kind"] == "Deployment"]
    check_pod(deployment["spec"]["template"])
    kinds = {doc["kind"] for doc in documents}
    assert not kinds & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


# ------------------------------------------------------------------------------ the docs


def test_security_doc_describes_what_the_files_do() -> None:
    text = SECURITY_DOC.read_text(encoding="utf-8")
    for term in (
        "uid 999",
        "runAsNonRoot",
        "readOnlyRootFilesystem",
        "allowPrivilegeEscalation: false",
        "drop: [ALL]",
        "RuntimeDefault",
        "emptyDir",
        "hostPath",
        "AVP_MAX_INPUT_BYTES",
        "AVP_MAX_NODES",
        "AVP_MAX_DEPTH",
        "AVP_ALLOWED_VAULTS",
        "AVP_SECRET_NAME_PATTERN",
        "AVP_CACHE_TTL_SECONDS",
        "AVP_CACHE_PINNED_TTL_SECONDS",
    ):
        assert term in text, term
