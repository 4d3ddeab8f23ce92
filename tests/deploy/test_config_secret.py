"""The optional `-s` setup (issue 10 item 6): deploy/config-secret and the plugins' `-s`.

avp-py reads a config Secret with the pod's service-account token (avp_py/settings/kubesecret.py:
GET /api/v1/namespaces/NS/secrets/NAME). deploy/config-secret is a kustomize Component, not
enabled by deploy/component, that grants `get` on that one Secret and mounts the token into the
avp-py sidecars only; AVP_CONFIG_SECRET on the sidecar makes every plugin pass it as `-s`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_deploy import (
    DEPLOY,
    SIDECARS,
    containers,
    find,
    load,
    mounts,
    needs_kubectl,
    render_overlay,
)
from tests.deploy.test_plugin_contract import (
    HELM_PLUGIN,
    KUSTOMIZE_PLUGIN,
    PLAIN_PLUGIN,
    RENDERED,
    SHELLS,
    Sidecar,
    example_app,
    install_executable,
    load_yaml,
    make_app_dir,
    phase_argv,
)

OPTION = DEPLOY / "config-secret"
OPTIONAL = ["component", "config-secret"]  # how docs/argocd.md says to enable it
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"  # kubesecret.SERVICE_ACCOUNT_DIR


def docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def option() -> dict[str, Any]:
    kustomization: dict[str, Any] = load(OPTION / "kustomization.yaml")
    return kustomization


def configured_secret() -> str:
    (generator,) = option()["configMapGenerator"]
    assert generator == {
        "name": "avp-py-env",
        "behavior": "merge",
        "literals": [generator["literals"][0]],
    }
    key, _, value = generator["literals"][0].partition("=")
    assert key == "AVP_CONFIG_SECRET"
    return value


# --------------------------------------------------------------------------- structure


def test_kubesecret_reads_the_token_where_the_option_mounts_it() -> None:
    from avp_py.settings import kubesecret

    assert str(kubesecret.SERVICE_ACCOUNT_DIR) == TOKEN_DIR


def test_option_is_a_component_the_default_setup_does_not_enable() -> None:
    assert option()["kind"] == "Component"
    assert "config-secret" not in str(load(DEPLOY / "component" / "kustomization.yaml"))
    assert load(DEPLOY / "kustomization.yaml")["components"] == ["component"]
    assert "- config-secret" in (DEPLOY / "kustomization.yaml").read_text(encoding="utf-8")


def test_role_grants_get_on_exactly_the_configured_secret() -> None:
    namespace, _, name = configured_secret().rpartition(":")
    role, binding = docs(OPTION / "role.yaml")
    assert role["kind"] == "Role" and role["metadata"]["namespace"] == namespace == "argocd"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [name], "verbs": ["get"]}
    ]
    assert binding["kind"] == "RoleBinding" and binding["metadata"]["namespace"] == namespace
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "argocd-repo-server", "namespace": "argocd"}
    ]


def check_token_mounts(pod_spec: dict[str, Any]) -> None:
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    by_name = containers(pod_spec)
    for name in SIDECARS:
        mount = mounts(by_name[name])[TOKEN_DIR]
        assert mount["readOnly"] is True
        sources = volumes[mount["name"]]["projected"]["sources"]
        assert [next(iter(source)) for source in sources] == [
            "serviceAccountToken",
            "configMap",
            "downwardAPI",
        ]
        assert sources[0]["serviceAccountToken"]["path"] == "token"
        assert sources[1]["configMap"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    assert pod_spec.get("automountServiceAccountToken") is not True


def test_patch_mounts_the_token_into_the_sidecars_only() -> None:
    (entry,) = option()["patches"]
    patch = load(OPTION / entry["path"])
    pod_spec = patch["spec"]["template"]["spec"]
    assert set(containers(pod_spec)) == set(SIDECARS)
    check_token_mounts(pod_spec)


@needs_kubectl
def test_option_renders_on_the_stand_in_base(tmp_path: Path) -> None:
    rendered = render_overlay(tmp_path, lambda overlay: overlay.update(components=OPTIONAL))
    pod_spec = find(rendered, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"]
    check_token_mounts(pod_spec)
    assert pod_spec["automountServiceAccountToken"] is False  # the stand-in's, kept
    repo_server = containers(pod_spec)["argocd-repo-server"]
    assert TOKEN_DIR not in mounts(repo_server), "Argo CD's own container gets no token"
    env = find(rendered, "ConfigMap", "avp-py-env-")["data"]
    assert env["AVP_CONFIG_SECRET"] == configured_secret()
    assert env["AVP_TYPE"] == "azurekeyvault", "merged into the component's settings"
    assert find(rendered, "Role", "avp-py-config-reader")["metadata"]["namespace"] == "argocd"
    assert (
        find(rendered, "RoleBinding", "avp-py-config-reader")["metadata"]["namespace"] == "argocd"
    )


# --------------------------------------------------------------------------- plugins pass -s

RECORDING_AVP_PY = """#!/bin/sh
# Stand-in for avp-py: records its arguments, then passes stdin (or nothing) through.
printf '%s\\n' "$@" > "$AVP_ARGS_LOG"
case "$*" in *" -") exec cat ;; esac
"""


def recording_sidecar(sidecar: Sidecar) -> Path:
    bin_dir = sidecar.tmp / "recording-bin"
    install_executable(bin_dir, "avp-py", RECORDING_AVP_PY)
    sidecar.path_dirs.insert(0, bin_dir)
    return sidecar.tmp / "avp-args.txt"


def avp_py_args(
    sidecar: Sidecar, plugin_path: Path, app: Path, shell: str, **env: str
) -> list[str]:
    log = recording_sidecar(sidecar)
    plugin = load_yaml(plugin_path)
    result = sidecar.run(
        phase_argv(plugin, "generate", shell), app, sidecar.env(AVP_ARGS_LOG=str(log), **env)
    )
    assert result.returncode == 0, result.stderr
    return log.read_text(encoding="utf-8").splitlines()


def plugin_cases(tmp_path: Path) -> list[tuple[Path, Path, list[str]]]:
    """(plugin, application directory, avp-py's arguments without -s)."""
    return [
        (HELM_PLUGIN, example_app(tmp_path / "helm"), ["generate", "-"]),
        (
            KUSTOMIZE_PLUGIN,
            make_app_dir(tmp_path / "kustomize", {"kustomization.yaml": "resources: [a.yaml]\n"}),
            ["generate", "-"],
        ),
        (PLAIN_PLUGIN, make_app_dir(tmp_path / "plain", {"a.yaml": RENDERED}), ["generate", "."]),
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_plugins_pass_the_config_secret_as_dash_s(
    sidecar: Sidecar, tmp_path: Path, shell: str
) -> None:
    for plugin, app, plain_args in plugin_cases(tmp_path):
        args = avp_py_args(sidecar, plugin, app, shell, AVP_CONFIG_SECRET="argocd:avp-py-config")
        assert args == [plain_args[0], "-s", "argocd:avp-py-config", plain_args[1]], plugin.name


def test_without_the_setting_no_dash_s(sidecar: Sidecar, tmp_path: Path) -> None:
    for plugin, app, plain_args in plugin_cases(tmp_path):
        assert avp_py_args(sidecar, plugin, app, "sh") == plain_args, plugin.name


def test_an_application_cannot_choose_the_config_secret(sidecar: Sidecar, tmp_path: Path) -> None:
    """Argo CD hands plugin.env over as ARGOCD_ENV_*: the plugins read only the sidecar's own
    AVP_CONFIG_SECRET (and avp-py itself refuses an ARGOCD_ENV_AVP_* that differs from it)."""
    for plugin, app, plain_args in plugin_cases(tmp_path):
        args = avp_py_args(
            sidecar, plugin, app, "sh", ARGOCD_ENV_AVP_CONFIG_SECRET="kube-system:admin"
        )
        assert args == plain_args, plugin.name
