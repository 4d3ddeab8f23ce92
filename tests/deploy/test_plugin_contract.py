"""The CMP plugin configs, checked and run the way argocd-cmp-server runs them.

argocd-cmp-server executes `spec.init` and `spec.generate` as plain argv (command + args) in a
fresh copy of the application directory, with the sidecar's environment plus Argo CD's build
variables (ARGOCD_APP_*, KUBE_VERSION, KUBE_API_VERSIONS) and the Application's plugin env as
ARGOCD_ENV_*. These tests do the same with stand-in `helm` / `kustomize` executables first on
PATH (they record their argv and print examples/vouch-proxy/rendered.yaml), the real avp-py
from the virtualenv, and avp-py's offline `file` backend loaded with
examples/vouch-proxy/secrets.yaml.

The shell scripts run under /bin/sh (dash on Debian: no `pipefail`) and bash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "vouch-proxy"
RENDERED = EXAMPLE / "rendered.yaml"
SECRETS_FILE = EXAMPLE / "secrets.yaml"
HELM_PLUGIN = REPO / "plugin.yaml"
VARIANTS_DIR = REPO / "deploy" / "component" / "plugins"
PLAIN_PLUGIN = VARIANTS_DIR / "avp-plain.yaml"
KUSTOMIZE_PLUGIN = VARIANTS_DIR / "avp-kustomize.yaml"
PLUGIN_FILES = [HELM_PLUGIN, *sorted(VARIANTS_DIR.glob("*.yaml"))]

KUBE_VERSION = "1.31.2"
KUBE_API_VERSIONS = "v1,apps/v1,batch/v1,networking.k8s.io/v1,policy/v1"

CLI_MISSING = importlib.util.find_spec("avp_py.cli") is None
needs_cli = pytest.mark.skipif(CLI_MISSING, reason="avp_py.cli is not implemented yet")


def _shells() -> list[str]:
    """`sh` (the shell argocd-cmp-server gets from plugin.yaml), bash, and dash if sh is not."""
    found = [name for name in ("sh", "bash") if shutil.which(name)]
    dash, sh = shutil.which("dash"), shutil.which("sh")
    if dash and sh and os.path.realpath(dash) != os.path.realpath(sh):
        found.append("dash")
    return found


SHELLS = _shells()

FAKE_TOOL = """\
#!{python}
# Stand-in for helm / kustomize: records the call, then behaves as FAKE_TOOL_MODE says.
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if "-" in args else None
with open(os.environ["FAKE_TOOL_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"tool": os.path.basename(sys.argv[0]), "argv": args,
                          "cwd": os.getcwd(), "stdin": stdin}}) + "\\n")
if args[:1] == ["dependency"]:
    sys.exit(int(os.environ.get("FAKE_INIT_EXIT", "0")))
text = open(os.environ["FAKE_TOOL_OUTPUT"], encoding="utf-8").read()
mode = os.environ.get("FAKE_TOOL_MODE", "ok")
if mode == "ok":
    sys.stdout.write(text)
elif mode == "fail-midway":
    sys.stdout.write(text[: len(text) // 2])
    sys.stdout.flush()
    sys.stderr.write("Error: template: vouch/templates/ingress.yaml:12:3: boom\\n")
    sys.exit(1)
elif mode != "empty":
    sys.exit("unknown FAKE_TOOL_MODE " + mode)
"""


# --------------------------------------------------------------------------- helpers


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def application() -> dict[str, Any]:
    app: dict[str, Any] = load_yaml(EXAMPLE / "argo-app.yaml")
    return app


def secret_values() -> dict[str, str]:
    data: dict[str, dict[str, str]] = load_yaml(SECRETS_FILE)
    return data["kv-platform-prod"]


def phase_argv(plugin: dict[str, Any], phase: str, shell: str | None = None) -> list[str]:
    """command + args of a phase, as argocd-cmp-server builds them (optionally another shell)."""
    spec = plugin["spec"][phase]
    argv = [*spec["command"], *spec.get("args", [])]
    if shell is not None and argv[0] == "sh":
        argv[0] = shell
    return argv


def make_app_dir(tmp_path: Path, files: dict[str, Path | str], source_path: str = "") -> Path:
    """The application directory as argocd-cmp-server lays it out: ROOT/<spec.source.path>,
    ROOT being tmp_path/repo (the unpacked repository)."""
    app = tmp_path / "repo" / (source_path or application()["spec"]["source"]["path"])
    app.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = app / name
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    return app


def install_executable(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Sidecar:
    """A stand-in for the sidecar container: PATH with fake tools, env, and a call log."""

    def __init__(self, tmp_path: Path, avp_py_dir: Path) -> None:
        self.tmp = tmp_path
        self.fakebin = tmp_path / "fakebin"
        self.log = tmp_path / "tool-calls.jsonl"
        fake = FAKE_TOOL.format(python=sys.executable)
        install_executable(self.fakebin, "helm", fake)
        install_executable(self.fakebin, "kustomize", fake)
        self.path_dirs = [self.fakebin, avp_py_dir]

    def use_cat_as_avp_py(self) -> None:
        """Worst case for error propagation: an avp-py that would pass anything through."""
        catbin = self.tmp / "catbin"
        install_executable(catbin, "avp-py", "#!/bin/sh\nexec cat\n")
        self.path_dirs.insert(0, catbin)

    def env(self, **extra: str) -> dict[str, str]:
        app = application()
        env = {
            "PATH": os.pathsep.join(
                [*map(str, self.path_dirs), "/usr/local/bin", "/usr/bin", "/bin"]
            ),
            "HOME": str(self.tmp),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            # Argo CD's build environment
            "ARGOCD_APP_NAME": app["metadata"]["name"],
            "ARGOCD_APP_NAMESPACE": app["spec"]["destination"]["namespace"],
            "ARGOCD_APP_PROJECT_NAME": app["spec"]["project"],
            "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
            "ARGOCD_APP_SOURCE_PATH": app["spec"]["source"]["path"],
            "ARGOCD_APP_SOURCE_REPO_URL": app["spec"]["source"]["repoURL"],
            "KUBE_VERSION": KUBE_VERSION,
            "KUBE_API_VERSIONS": KUBE_API_VERSIONS,
            # the sidecar's own settings (production: azurekeyvault + workload identity)
            "AVP_TYPE": "file",
            "AVP_FILE_PATH": str(SECRETS_FILE),
            # the stand-in tools
            "FAKE_TOOL_LOG": str(self.log),
            "FAKE_TOOL_OUTPUT": str(RENDERED),
        }
        for entry in app["spec"]["source"]["plugin"].get("env", []):
            env["ARGOCD_ENV_" + entry["name"]] = entry["value"]
        env.update(extra)
        return {key: value for key, value in env.items() if value is not None}

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines]
        return [r for r in records if tool is None or r["tool"] == tool]

    def run(
        self, argv: list[str], cwd: Path, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def assert_rendered_example(stdout: str, stderr: str) -> None:
    """The example's output: an object stream, no placeholder left, the secret values in."""
    docs = [doc for doc in yaml.safe_load_all(stdout) if doc is not None]
    assert docs, "no documents on stdout"
    for doc in docs:
        assert isinstance(doc, dict), doc
        assert doc.get("apiVersion") and doc.get("kind"), doc
        assert doc.get("metadata", {}).get("name"), doc
    kinds = [doc["kind"] for doc in docs]
    assert kinds == ["ServiceAccount", "Secret", "Service", "Deployment", "Ingress"]
    assert "<path:" not in stdout

    values = secret_values()
    secret = next(doc for doc in docs if doc["kind"] == "Secret")
    config = yaml.safe_load(secret["stringData"]["config.yaml"])
    assert config["oauth"]["client_secret"] == values["vouch-proxy-oauthClientSecret"]
    assert config["vouch"]["jwt"]["secret"] == values["vouch-proxy-jwtSecret"]

    deployment = next(doc for doc in docs if doc["kind"] == "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    for key, secret_name in [
        ("checksum/oauth-client-secret", "vouch-proxy-oauthClientSecret"),
        ("checksum/jwt-secret", "vouch-proxy-jwtSecret"),
    ]:
        expected = hashlib.sha256(values[secret_name].encode()).hexdigest()
        assert annotations[key] == expected, key

    for value in values.values():
        assert value not in stderr, "a secret value leaked to stderr"


def example_app(tmp_path: Path) -> Path:
    return make_app_dir(
        tmp_path,
        {
            "Chart.yaml": EXAMPLE / "Chart.yaml",
            "values.yaml": EXAMPLE / "values.yaml",
            "values-prod.yaml": "vouch:\n  replicaCount: 2\n",
        },
    )


# --------------------------------------------------------------------------- static contract


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: p.name)
def test_plugin_config_follows_the_cmp_v2_schema(path: Path) -> None:
    plugin = load_yaml(path)
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1"
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert isinstance(plugin["metadata"]["name"], str) and plugin["metadata"]["name"]
    spec = plugin["spec"]
    for phase in ("init", "generate"):
        if phase == "generate" or phase in spec:
            argv = phase_argv(plugin, phase)
            assert argv and all(isinstance(part, str) and part for part in argv), (phase, argv)
    # legacy argocd-cm plugin fields, meaningless for sidecars
    text = path.read_text(encoding="utf-8")
    for legacy in ("lockRepo", "allowConcurrency"):
        assert legacy not in spec and legacy not in plugin
        assert f"{legacy}:" not in text
    # plugins are selected by name only: no discovery, no version suffix in the name
    assert "discover" not in spec
    assert "version" not in spec
    assert not spec.get("preserveFileMode", False)
    assert not spec.get("provideGitCreds", False)


def test_plugin_names_are_argocd_vault_plugins_sidecar_names() -> None:
    names = {load_yaml(path)["metadata"]["name"]: path.name for path in PLUGIN_FILES}
    assert names == {
        "argocd-vault-plugin-helm": "plugin.yaml",
        "argocd-vault-plugin": "avp-plain.yaml",
        "argocd-vault-plugin-kustomize": "avp-kustomize.yaml",
    }


def test_example_application_names_the_helm_plugin() -> None:
    app = application()
    assert app["kind"] == "Application"
    assert app["spec"]["source"]["plugin"]["name"] == load_yaml(HELM_PLUGIN)["metadata"]["name"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: p.name)
def test_plugin_shell_scripts_parse(path: Path, shell: str) -> None:
    plugin = load_yaml(path)
    for phase in ("init", "generate"):
        if phase not in plugin["spec"]:
            continue
        argv = phase_argv(plugin, phase)
        if argv[:2] != ["sh", "-c"]:
            continue
        result = subprocess.run(
            [shell, "-n", "-c", argv[2]], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, (phase, result.stderr)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: p.name)
def test_plugin_shell_scripts_pass_shellcheck(path: Path) -> None:
    plugin = load_yaml(path)
    for phase in ("init", "generate"):
        if phase in plugin["spec"] and phase_argv(plugin, phase)[:2] == ["sh", "-c"]:
            script = phase_argv(plugin, phase)[2]
            result = subprocess.run(
                ["shellcheck", "--shell=sh", "-"],
                input=script,
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, (phase, result.stdout)


# --------------------------------------------------------------------------- helm variant


@needs_cli
@pytest.mark.parametrize("shell", SHELLS)
def test_helm_plugin_renders_the_example(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    plugin = load_yaml(HELM_PLUGIN)
    app = example_app(tmp_path)
    env = sidecar.env()

    init = sidecar.run(phase_argv(plugin, "init", shell), app, env)
    assert init.returncode == 0, init.stderr
    assert [call["argv"] for call in sidecar.calls("helm")] == [["dependency", "build"]]

    result = sidecar.run(phase_argv(plugin, "generate", shell), app, env)
    assert result.returncode == 0, result.stderr
    assert_rendered_example(result.stdout, result.stderr)

    template = sidecar.calls("helm")[-1]
    assert Path(template["cwd"]) == app
    assert template["argv"][:3] == ["template", "vouch-proxy", "."]
    argv = template["argv"]
    assert argv[argv.index("--namespace") + 1] == "auth"
    assert argv[argv.index("--kube-version") + 1] == KUBE_VERSION
    api_versions = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--api-versions"]
    assert api_versions == KUBE_API_VERSIONS.split(",")
    assert "--include-crds" in argv
    assert "--skip-tests" in argv  # from the Application's plugin.env HELM_ARGS


@pytest.mark.parametrize("shell", SHELLS)
def test_helm_plugin_passes_values_and_flags(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    sidecar.use_cat_as_avp_py()
    plugin = load_yaml(HELM_PLUGIN)
    app = example_app(tmp_path)
    inline_values = "vouch:\n  replicaCount: 3\n"
    env = sidecar.env(
        ARGOCD_ENV_HELM_RELEASE_NAME="sso",
        ARGOCD_ENV_HELM_VALUES_FILES="values.yaml, values-prod.yaml",
        ARGOCD_ENV_HELM_ARGS=(
            "-f values-prod.yaml --set vouch.replicaCount=2 --set-string=vouch.image.tag=0.40.0"
            " --skip-crds -s charts/vouch/templates/secret.yaml\n--no-hooks"
        ),
        ARGOCD_ENV_HELM_VALUES=inline_values,
    )
    result = sidecar.run(phase_argv(plugin, "generate", shell), app, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == RENDERED.read_text(encoding="utf-8")
    (call,) = sidecar.calls("helm")
    assert call["argv"] == [
        "template", "sso", ".", "--namespace", "auth", "--kube-version", KUBE_VERSION,
        *[part for api in KUBE_API_VERSIONS.split(",") for part in ("--api-versions", api)],
        "--values", "values.yaml", "--values", "values-prod.yaml",
        "--values", "values-prod.yaml",
        "--set", "vouch.replicaCount=2",
        "--set-string", "vouch.image.tag=0.40.0",
        "--show-only", "charts/vouch/templates/secret.yaml",
        "--no-hooks",
        "--values", "-",
    ]  # fmt: skip
    assert call["stdin"] == inline_values + "\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_helm_plugin_without_cluster_info(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    sidecar.use_cat_as_avp_py()
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env(KUBE_VERSION="", KUBE_API_VERSIONS="", ARGOCD_ENV_HELM_ARGS="")
    result = sidecar.run(phase_argv(plugin, "generate", shell), example_app(tmp_path), env)
    assert result.returncode == 0, result.stderr
    (call,) = sidecar.calls("helm")
    assert call["argv"] == ["template", "vouch-proxy", ".", "--namespace", "auth", "--include-crds"]
    assert call["stdin"] is None


@pytest.mark.parametrize("use_real_avp_py", [False, True], ids=["cat-as-avp-py", "avp-py"])
@pytest.mark.parametrize("shell", SHELLS)
def test_helm_failure_fails_the_render_with_empty_stdout(
    sidecar: Sidecar, tmp_path: Path, shell: str, use_real_avp_py: bool
) -> None:
    if not use_real_avp_py:
        sidecar.use_cat_as_avp_py()
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env(FAKE_TOOL_MODE="fail-midway")
    result = sidecar.run(phase_argv(plugin, "generate", shell), example_app(tmp_path), env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "boom" in result.stderr


def test_a_plain_pipe_would_hide_the_failure(sidecar: Sidecar, tmp_path: Path) -> None:
    """Guard for the test above: the naive AVP-style pipeline really does lose helm's error
    under /bin/sh, so an empty-stdout/non-zero result there is not an accident of the harness."""
    sidecar.use_cat_as_avp_py()
    naive = 'helm template "$ARGOCD_APP_NAME" . | avp-py generate -'
    env = sidecar.env(FAKE_TOOL_MODE="fail-midway")
    result = sidecar.run(["sh", "-c", naive], example_app(tmp_path), env)
    assert result.returncode == 0
    assert result.stdout.startswith("---\n# Source:")


@needs_cli
def test_empty_helm_output_is_an_error(sidecar: Sidecar, tmp_path: Path) -> None:
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env(FAKE_TOOL_MODE="empty")
    result = sidecar.run(phase_argv(plugin, "generate"), example_app(tmp_path), env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Error:" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ARGOCD_ENV_HELM_ARGS", "--post-renderer /bin/sh"),
        ("ARGOCD_ENV_HELM_ARGS", "--post-renderer=sh"),
        (
            "ARGOCD_ENV_HELM_ARGS",
            "--set-file token=/var/run/secrets/azure/tokens/azure-identity-token",
        ),
        ("ARGOCD_ENV_HELM_ARGS", "-f /var/run/secrets/azure/tokens/azure-identity-token"),
        ("ARGOCD_ENV_HELM_ARGS", "--values=../../../other-app/values.yaml"),
        ("ARGOCD_ENV_HELM_ARGS", "-f https://attacker.example/values.yaml"),
        ("ARGOCD_ENV_HELM_ARGS", "--values=oci:attacker.example/values"),
        ("ARGOCD_ENV_HELM_ARGS", "--repo https://attacker.example/charts"),
        ("ARGOCD_ENV_HELM_ARGS", "--namespace=kube-system"),
        ("ARGOCD_ENV_HELM_ARGS", "--kubeconfig=/tmp/x"),
        ("ARGOCD_ENV_HELM_ARGS", "--set"),
        ("ARGOCD_ENV_HELM_ARGS", "*"),
        ("ARGOCD_ENV_HELM_VALUES_FILES", "/etc/passwd"),
        ("ARGOCD_ENV_HELM_VALUES_FILES", "values.yaml,charts/../../../../x.yaml"),
        ("ARGOCD_ENV_HELM_VALUES_FILES", "-"),
        ("ARGOCD_ENV_HELM_RELEASE_NAME", "--post-renderer=/bin/sh"),
        ("ARGOCD_ENV_HELM_RELEASE_NAME", "sso;id"),
    ],
)
def test_helm_plugin_refuses_unsafe_settings(
    sidecar: Sidecar, tmp_path: Path, name: str, value: str
) -> None:
    sidecar.use_cat_as_avp_py()
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env(**{name: value})
    result = sidecar.run(phase_argv(plugin, "generate"), example_app(tmp_path), env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert name in result.stderr or value in result.stderr
    assert sidecar.calls() == [], "helm must not run"


@pytest.mark.parametrize("missing", ["ARGOCD_APP_NAME", "ARGOCD_APP_NAMESPACE"])
def test_helm_plugin_needs_argo_cd_build_env(
    sidecar: Sidecar, tmp_path: Path, missing: str
) -> None:
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env()
    del env[missing]
    result = sidecar.run(phase_argv(plugin, "generate"), example_app(tmp_path), env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {missing} is not set")


@pytest.mark.parametrize(
    ("chart", "setting", "expected_calls"),
    [
        (EXAMPLE / "Chart.yaml", None, [["dependency", "build"]]),
        (EXAMPLE / "Chart.yaml", "false", []),
        ("apiVersion: v2\nname: plain\nversion: 1.0.0\n", None, []),
        ("apiVersion: v2\nname: plain\nversion: 1.0.0\n", "true", [["dependency", "build"]]),
    ],
    ids=["dependencies", "dependencies-disabled", "no-dependencies", "forced"],
)
def test_helm_init_builds_dependencies_only_when_declared(
    sidecar: Sidecar, tmp_path: Path, chart: Path | str, setting: str | None, expected_calls: list
) -> None:
    plugin = load_yaml(HELM_PLUGIN)
    app = make_app_dir(tmp_path, {"Chart.yaml": chart})
    env = sidecar.env(ARGOCD_ENV_HELM_DEPENDENCY_BUILD=setting) if setting else sidecar.env()
    result = sidecar.run(phase_argv(plugin, "init"), app, env)
    assert result.returncode == 0, result.stderr
    assert [call["argv"] for call in sidecar.calls("helm")] == expected_calls


def test_helm_init_failure_fails_the_render(sidecar: Sidecar, tmp_path: Path) -> None:
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env(FAKE_INIT_EXIT="1")
    result = sidecar.run(phase_argv(plugin, "init"), example_app(tmp_path), env)
    assert result.returncode == 1


def test_helm_init_rejects_unknown_setting(sidecar: Sidecar, tmp_path: Path) -> None:
    plugin = load_yaml(HELM_PLUGIN)
    env = sidecar.env(ARGOCD_ENV_HELM_DEPENDENCY_BUILD="yes")
    result = sidecar.run(phase_argv(plugin, "init"), example_app(tmp_path), env)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ARGOCD_ENV_HELM_DEPENDENCY_BUILD")
    assert sidecar.calls() == []


# --------------------------------------------------------------------------- kustomize variant


@needs_cli
@pytest.mark.parametrize("shell", SHELLS)
def test_kustomize_plugin_renders_the_example(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    plugin = load_yaml(KUSTOMIZE_PLUGIN)
    assert "init" not in plugin["spec"]
    app = make_app_dir(tmp_path, {"kustomization.yaml": "resources: [rendered.yaml]\n"})
    result = sidecar.run(phase_argv(plugin, "generate", shell), app, sidecar.env())
    assert result.returncode == 0, result.stderr
    assert_rendered_example(result.stdout, result.stderr)
    (call,) = sidecar.calls("kustomize")
    assert call["argv"] == ["build", "."]
    assert Path(call["cwd"]) == app


@pytest.mark.parametrize("shell", SHELLS)
def test_kustomize_failure_fails_the_render_with_empty_stdout(
    sidecar: Sidecar, tmp_path: Path, shell: str
) -> None:
    sidecar.use_cat_as_avp_py()
    plugin = load_yaml(KUSTOMIZE_PLUGIN)
    app = make_app_dir(tmp_path, {"kustomization.yaml": "resources: [rendered.yaml]\n"})
    env = sidecar.env(FAKE_TOOL_MODE="fail-midway")
    result = sidecar.run(phase_argv(plugin, "generate", shell), app, env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "boom" in result.stderr


# --------------------------------------------------------------------------- plain variant


@needs_cli
def test_plain_plugin_renders_the_example(sidecar: Sidecar, tmp_path: Path) -> None:
    plugin = load_yaml(PLAIN_PLUGIN)
    # no pipe: avp-py reads the directory; the shell only adds -s (tests/deploy/test_config_secret)
    assert phase_argv(plugin, "generate") == [
        "sh", "-c", 'exec avp-py generate ${AVP_CONFIG_SECRET:+-s "$AVP_CONFIG_SECRET"} .'
    ]  # fmt: skip
    app = make_app_dir(tmp_path, {"vouch-proxy.yaml": RENDERED})
    result = sidecar.run(phase_argv(plugin, "generate"), app, sidecar.env())
    assert result.returncode == 0, result.stderr
    assert_rendered_example(result.stdout, result.stderr)


@needs_cli
def test_plain_plugin_fails_closed_on_a_missing_secret(sidecar: Sidecar, tmp_path: Path) -> None:
    plugin = load_yaml(PLAIN_PLUGIN)
    values = secret_values()
    partial = tmp_path / "partial-secrets.yaml"
    partial.write_text(
        yaml.safe_dump(
            {"kv-platform-prod": {"vouch-proxy-jwtSecret": values["vouch-proxy-jwtSecret"]}}
        ),
        encoding="utf-8",
    )
    app = make_app_dir(tmp_path, {"vouch-proxy.yaml": RENDERED})
    env = sidecar.env(AVP_FILE_PATH=str(partial))
    result = sidecar.run(phase_argv(plugin, "generate"), app, env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Error:" in result.stderr
    assert "vouch-proxy-oauthClientSecret" in result.stderr
    assert values["vouch-proxy-jwtSecret"] not in result.stderr
