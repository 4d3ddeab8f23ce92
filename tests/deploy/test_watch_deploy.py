"""The optional watcher setup (issue 14, item 5): deploy/watch, a kustomize Component.

It shares one state directory between the avp-py sidecars (which record what they rendered)
and the `avp-watch` container (which reads the records), gives the watcher the sidecars'
settings plus its own, and the Argo CD token from a Secret, in that container only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.deploy.test_deploy import (
    DEPLOY,
    SECURITY_CONTEXT,
    SIDECARS,
    containers,
    find,
    load,
    mounts,
    needs_kubectl,
    render_overlay,
)

OPTION = DEPLOY / "watch"
STATE = "/var/run/avp-py"


def option() -> dict[str, Any]:
    kustomization: dict[str, Any] = load(OPTION / "kustomization.yaml")
    return kustomization


def literals(name: str) -> dict[str, str]:
    (generator,) = [g for g in option()["configMapGenerator"] if g["name"] == name]
    return dict(item.split("=", 1) for item in generator["literals"])


def check_pod(pod_spec: dict[str, Any], env_names: dict[str, str]) -> None:
    by_name = containers(pod_spec)
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    watcher = by_name["avp-watch"]
    state = mounts(watcher)[STATE]["name"]
    assert volumes[state] == {"name": state, "emptyDir": {}}
    for name in SIDECARS:
        assert mounts(by_name[name])[STATE]["name"] == state, f"{name} records into it"
    assert watcher["command"] == ["avp-py", "watch"]
    assert watcher["securityContext"] | SECURITY_CONTEXT == watcher["securityContext"]
    assert mounts(watcher)["/tmp"]["name"] != "tmp" and "ports" not in watcher
    sources = [ref["configMapRef"]["name"] for ref in watcher["envFrom"]]
    assert sources == [env_names["avp-py-env"], env_names["avp-py-watch-env"]]
    (token,) = watcher["env"]
    assert token["name"] == "ARGOCD_AUTH_TOKEN"
    # optional: without the Secret the pod still starts (the watcher logs an Error: line)
    assert token["valueFrom"] == {
        "secretKeyRef": {"name": "avp-py-watch", "key": "token", "optional": True}
    }
    for name, container in by_name.items():
        if name != "avp-watch":
            assert "ARGOCD_AUTH_TOKEN" not in str(container), f"the token reaches {name}"
    ca = mounts(watcher)["/etc/avp-py/argocd"]
    assert ca["readOnly"] is True
    assert volumes[ca["name"]]["secret"]["secretName"] == "avp-py-watch"


def test_option_is_a_component_the_default_setup_does_not_enable() -> None:
    assert option()["kind"] == "Component"
    assert "watch" not in str(load(DEPLOY / "component" / "kustomization.yaml"))
    assert "  # - watch" in (DEPLOY / "kustomization.yaml").read_text(encoding="utf-8")


def test_settings_point_the_renders_and_the_watcher_at_the_shared_directory() -> None:
    state_dir = literals("avp-py-env")["AVP_WATCH_STATE_DIR"]
    assert state_dir.startswith(STATE + "/") and state_dir != STATE  # avp-py creates it 0700
    watch = literals("avp-py-watch-env")
    assert watch["ARGOCD_SERVER"] == "argocd-server.argocd.svc"
    assert watch["AVP_WATCH_ARGOCD_CA_FILE"].startswith("/etc/avp-py/argocd/")
    assert float(watch["AVP_WATCH_INTERVAL_SECONDS"]) >= 30
    assert not [key for key in watch if key.endswith("TOKEN")], "the token only from the Secret"


def test_patch_adds_the_watcher_and_the_shared_state() -> None:
    (entry,) = option()["patches"]
    pod_spec = load(OPTION / entry["path"])["spec"]["template"]["spec"]
    assert set(containers(pod_spec)) == {*SIDECARS, "avp-watch"}
    check_pod(pod_spec, {"avp-py-env": "avp-py-env", "avp-py-watch-env": "avp-py-watch-env"})


@needs_kubectl
def test_option_renders_on_the_stand_in_base(tmp_path: Path) -> None:
    docs = render_overlay(
        tmp_path, lambda overlay: overlay.update(components=["component", "watch"])
    )
    pod_spec = find(docs, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"]
    env = find(docs, "ConfigMap", "avp-py-env-")
    watch_env = find(docs, "ConfigMap", "avp-py-watch-env-")
    names = {
        "avp-py-env": env["metadata"]["name"],
        "avp-py-watch-env": watch_env["metadata"]["name"],
    }
    check_pod(pod_spec, names)
    assert env["data"]["AVP_TYPE"] == "azurekeyvault", "merged into the component's settings"
    assert env["data"]["AVP_WATCH_STATE_DIR"] == "/var/run/avp-py/watch"
    by_name = containers(pod_spec)
    assert by_name["avp-watch"]["image"] == by_name["avp-helm"]["image"]
    assert STATE not in mounts(by_name["argocd-repo-server"])
    skipped = find(docs, "Deployment", "argocd-repo-server")["spec"]["template"]["metadata"][
        "annotations"
    ]["azure.workload.identity/skip-containers"]
    assert "avp-watch" not in skipped, "the watcher needs the workload identity"


PROBES = ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle")


def _without_state_mount(container: dict[str, Any]) -> dict[str, Any]:
    kept = [m for m in container.get("volumeMounts", []) if m["mountPath"] != STATE]
    return {**container, "volumeMounts": kept}


def _pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The repo-server's pod spec, generated ConfigMaps named without their content hash
    (AVP_WATCH_STATE_DIR changes avp-py-env's hash, and so its name in the sidecars)."""
    text = json.dumps(find(docs, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"])
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            hashed = doc["metadata"]["name"]
            text = text.replace(f'"{hashed}"', f'"{hashed.rpartition("-")[0]}"')
    spec: dict[str, Any] = json.loads(text)
    return spec


@needs_kubectl
def test_the_watcher_cannot_affect_the_repo_server_or_the_sidecars(tmp_path: Path) -> None:
    """An optional watcher must not take manifest generation down: nothing it needs can keep
    the pod from starting or being Ready, and the other containers are as without it."""
    without = render_overlay(tmp_path / "a", lambda o: o.update(components=["component"]))
    with_watch = render_overlay(
        tmp_path / "b", lambda o: o.update(components=["component", "watch"])
    )
    before, after = _pod_spec(without), _pod_spec(with_watch)
    # the pod's own settings (restart policy, grace period, init containers...) are unchanged
    assert {k: v for k, v in after.items() if k not in ("containers", "volumes")} == {
        k: v for k, v in before.items() if k not in ("containers", "volumes")
    }
    by_name = containers(after)
    for name, container in containers(before).items():
        # probes, resources, env, mounts: the same, but for the state directory the
        # sidecars record into
        assert _without_state_mount(by_name[name]) == container, name
    assert set(by_name) == {*containers(before), "avp-watch"}
    watcher = by_name["avp-watch"]
    assert not [key for key in PROBES if key in watcher], "a watcher probe can fail the pod"
    assert watcher["resources"]["limits"]["memory"] and watcher["resources"]["requests"]
    # every Secret it reads is optional: the pod starts without avp-py-watch
    volumes = {v["name"]: v for v in after["volumes"]}
    for mount in watcher["volumeMounts"]:
        secret = volumes[mount["name"]].get("secret")
        assert secret is None or secret["optional"] is True, mount
    for item in watcher["env"]:
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        assert ref is None or ref["optional"] is True, item
    # the ConfigMaps it reads are generated by the components themselves
    generated = {
        d["metadata"]["name"].rpartition("-")[0] for d in with_watch if d["kind"] == "ConfigMap"
    }
    assert {ref["configMapRef"]["name"] for ref in watcher["envFrom"]} <= generated
