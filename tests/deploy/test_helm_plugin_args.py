"""The Helm plugin's values paths and flag allow-list (issue 10 item 2), run like argocd-cmp-server.

argocd-cmp-server unpacks the repository into a fresh directory ROOT and runs the plugin in
ROOT/$ARGOCD_APP_SOURCE_PATH (cmpserver/plugin/plugin.go: appPath = workDir + AppRelPath). The
plugin derives ROOT from its working directory and ARGOCD_APP_SOURCE_PATH and lets values files
be anywhere below ROOT, never outside it (through `..` or symlinks). A stand-in `helm` records
its argv; `cat` stands in for avp-py, so these are tests of the plugin's script.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.test_plugin_contract import (
    HELM_PLUGIN,
    KUBE_API_VERSIONS,
    KUBE_VERSION,
    RENDERED,
    SHELLS,
    Sidecar,
    load_yaml,
    phase_argv,
)

PLUGIN = load_yaml(HELM_PLUGIN)
CHART = "apiVersion: v2\nname: app\nversion: 1.0.0\n"
# What the plugin always passes before the Application's flags (see test_plugin_contract).
PREFIX_AFTER_NAMESPACE = [
    "--kube-version",
    KUBE_VERSION,
    *[part for api in KUBE_API_VERSIONS.split(",") for part in ("--api-versions", api)],
]


def write(path: Path, text: str = "a: 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class Monorepo:
    """tmp/repo (the unpacked repository) with apps/team-a/web (the Application), a shared
    common/values.yaml, and a `token` file outside the repository standing in for the sidecar's
    workload identity token."""

    def __init__(self, tmp_path: Path, source_path: str = "apps/team-a/web") -> None:
        self.root = tmp_path / "repo"
        self.app = self.root / source_path if source_path.strip("./") else self.root
        write(self.app / "Chart.yaml", CHART)
        write(self.app / "values.yaml")
        write(self.root / "common" / "values.yaml")
        write(self.root / "apps" / "team-a" / "values-team.yaml")
        self.token = write(tmp_path / "token", "eyJ-not-a-real-token\n")
        self.source_path = source_path


def run(
    sidecar: Sidecar, cwd: Path, shell: str = "sh", **env: str
) -> tuple[int, str, str, list[str] | None]:
    """Run `generate`: (exit code, stdout, stderr, helm's argv or None if helm did not run)."""
    sidecar.use_cat_as_avp_py()
    result = sidecar.run(phase_argv(PLUGIN, "generate", shell), cwd, sidecar.env(**env))
    calls = sidecar.calls("helm")
    assert len(calls) <= 1
    return result.returncode, result.stdout, result.stderr, calls[0]["argv"] if calls else None


def run_app(
    sidecar: Sidecar, repo: Monorepo, shell: str = "sh", **env: str
) -> tuple[int, str, str, list[str] | None]:
    """`run` in the repository's application directory, with Argo CD's ARGOCD_APP_SOURCE_PATH."""
    return run(sidecar, repo.app, shell, ARGOCD_APP_SOURCE_PATH=repo.source_path, **env)


def values_args(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--values"]


# --------------------------------------------------------------------------- values inside the repo


@pytest.mark.parametrize("shell", SHELLS)
def test_values_files_anywhere_in_a_monorepo(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    repo = Monorepo(tmp_path)
    code, stdout, stderr, argv = run_app(
        sidecar,
        repo,
        shell,
        ARGOCD_ENV_HELM_VALUES_FILES="../../../common/values.yaml, ../values-team.yaml",
        ARGOCD_ENV_HELM_ARGS="-f values.yaml --values=../../../common/values.yaml",
    )
    assert code == 0, stderr
    assert stdout == RENDERED.read_text(encoding="utf-8")
    assert argv is not None
    # passed to helm as written: helm resolves them against the same working directory
    assert values_args(argv) == [
        "../../../common/values.yaml",
        "../values-team.yaml",
        "values.yaml",
        "../../../common/values.yaml",
    ]


@pytest.mark.parametrize(
    "source_path",
    ["apps/team-a/web", "./apps/team-a/web/", "apps//team-a/./web", "apps/x/../team-a/web"],
)
def test_source_path_is_read_as_argo_cd_cleans_it(
    sidecar: Sidecar, tmp_path: Path, source_path: str
) -> None:
    repo = Monorepo(tmp_path)
    code, _, stderr, argv = run(
        sidecar,
        repo.app,
        ARGOCD_APP_SOURCE_PATH=source_path,
        ARGOCD_ENV_HELM_VALUES_FILES="../../../common/values.yaml",
    )
    assert code == 0, stderr
    assert argv is not None and values_args(argv) == ["../../../common/values.yaml"]


def test_a_symlink_that_stays_in_the_repository_is_allowed(
    sidecar: Sidecar, tmp_path: Path
) -> None:
    repo = Monorepo(tmp_path)
    (repo.app / "shared.yaml").symlink_to(repo.root / "common" / "values.yaml")
    (repo.app / "common").symlink_to(repo.root / "common", target_is_directory=True)
    code, _, stderr, argv = run_app(
        sidecar,
        repo,
        ARGOCD_ENV_HELM_VALUES_FILES="shared.yaml common/values.yaml",
    )
    assert code == 0, stderr
    assert argv is not None and values_args(argv) == ["shared.yaml", "common/values.yaml"]


def test_repository_root_as_source_path(sidecar: Sidecar, tmp_path: Path) -> None:
    """`path: .` (or no path): the application directory is the repository root."""
    for source_path in (".", ""):
        repo = Monorepo(tmp_path / f"case{len(source_path)}", source_path=source_path)
        code, _, stderr, argv = run(
            sidecar,
            repo.app,
            ARGOCD_APP_SOURCE_PATH=source_path,
            ARGOCD_ENV_HELM_VALUES_FILES="common/values.yaml",
        )
        assert code == 0, stderr
        assert argv is not None and values_args(argv) == ["common/values.yaml"]
        sidecar.log.unlink()
        code, _, stderr, argv = run(
            sidecar,
            repo.app,
            ARGOCD_APP_SOURCE_PATH=source_path,
            ARGOCD_ENV_HELM_VALUES_FILES="../token",
        )
        assert (code, argv) == (2, None), stderr
        assert "outside the repository" in stderr


def test_narrowed_tarball_with_manifest_generate_paths(sidecar: Sidecar, tmp_path: Path) -> None:
    """With reposerver.plugin.use.manifest.generate.paths and the annotation
    `.;/team-a/_values`, Argo CD sends only the common root team-a/ and runs the plugin in
    ROOT/web while ARGOCD_APP_SOURCE_PATH stays team-a/web (argo-cd#29655): ROOT is still found,
    and it is no higher than what was sent."""
    root = tmp_path / "workdir" / "3f0c"  # what argocd-cmp-server unpacked
    app = root / "web"
    write(app / "Chart.yaml", CHART)
    write(root / "_values" / "values.yaml")
    write(tmp_path / "workdir" / "other-render" / "values.yaml")  # a concurrent render's files
    env = {"ARGOCD_APP_SOURCE_PATH": "team-a/web"}
    code, _, stderr, argv = run(
        sidecar, app, ARGOCD_ENV_HELM_VALUES_FILES="../_values/values.yaml", **env
    )
    assert code == 0, stderr
    assert argv is not None and values_args(argv) == ["../_values/values.yaml"]
    sidecar.log.unlink()
    code, _, stderr, argv = run(
        sidecar, app, ARGOCD_ENV_HELM_VALUES_FILES="../../other-render/values.yaml", **env
    )
    assert (code, argv) == (2, None), stderr
    assert "outside the repository" in stderr


def test_without_a_matching_source_path_the_app_directory_is_the_root(
    sidecar: Sidecar, tmp_path: Path
) -> None:
    """No ARGOCD_APP_SOURCE_PATH (a local run), or one that does not end the working directory:
    the strictest root, the application directory itself."""
    repo = Monorepo(tmp_path)
    for source_path in (None, "elsewhere/else", "../.."):
        env = {"ARGOCD_APP_SOURCE_PATH": source_path} if source_path is not None else {}
        sidecar_env = sidecar.env(**env)
        if source_path is None:
            del sidecar_env["ARGOCD_APP_SOURCE_PATH"]
        sidecar.use_cat_as_avp_py()
        sidecar_env["ARGOCD_ENV_HELM_VALUES_FILES"] = "../values-team.yaml"
        result = sidecar.run(phase_argv(PLUGIN, "generate"), repo.app, sidecar_env)
        assert result.returncode == 2, (source_path, result.stderr)
        assert "outside the repository" in result.stderr
        assert sidecar.calls() == []


# --------------------------------------------------------------------------- escapes are refused


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    "setting",
    ["ARGOCD_ENV_HELM_VALUES_FILES", "ARGOCD_ENV_HELM_ARGS"],
)
@pytest.mark.parametrize(
    "escape",
    [
        "dotdot",  # ../../../../token: one level above the repository
        "dotdot-missing",  # a file that does not exist outside: still "outside", not "missing"
        "file-symlink",  # values.yaml -> the token
        "dir-symlink",  # secrets/ -> the token's directory
        "chained-symlink",  # a -> b -> the token
        "dangling-symlink",  # -> a file outside that does not exist (yet)
    ],
)
def test_values_outside_the_repository_are_refused(
    sidecar: Sidecar, tmp_path: Path, shell: str, setting: str, escape: str
) -> None:
    repo = Monorepo(tmp_path)
    path = {
        "dotdot": "../../../../token",
        "dotdot-missing": "../../../../missing.yaml",
        "file-symlink": "evil.yaml",
        "dir-symlink": "secrets/token",
        "chained-symlink": "a.yaml",
        "dangling-symlink": "later.yaml",
    }[escape]
    (repo.app / "evil.yaml").symlink_to(repo.token)
    (repo.app / "secrets").symlink_to(repo.token.parent, target_is_directory=True)
    (repo.app / "b.yaml").symlink_to(repo.token)
    (repo.app / "a.yaml").symlink_to("b.yaml")
    (repo.app / "later.yaml").symlink_to(tmp_path / "not-there.yaml")
    value = path if setting.endswith("FILES") else f"--values={path}"
    code, stdout, stderr, argv = run_app(sidecar, repo, shell, **{setting: value})
    assert (code, stdout, argv) == (2, "", None), stderr
    assert stderr == f"Error: {setting}: values file '{path}' is outside the repository\n"
    assert "eyJ" not in stderr


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("/etc/passwd", "must be a path relative to the application directory (no URL, no stdin)"),
        ("-", "must be a path relative to the application directory (no URL, no stdin)"),
        (
            "https://attacker.example/v.yaml",
            "must be a path relative to the application directory (no URL, no stdin)",
        ),
        (
            "oci:attacker.example/v",
            "must be a path relative to the application directory (no URL, no stdin)",
        ),
        ("missing.yaml", "is not a file in the repository"),
        ("../../../common", "is not a file in the repository"),  # a directory
    ],
)
def test_values_that_are_no_repository_file(
    sidecar: Sidecar, tmp_path: Path, value: str, reason: str
) -> None:
    repo = Monorepo(tmp_path)
    code, _, stderr, argv = run_app(
        sidecar,
        repo,
        ARGOCD_ENV_HELM_VALUES_FILES=value,
    )
    assert (code, argv) == (2, None), stderr
    assert stderr == f"Error: ARGOCD_ENV_HELM_VALUES_FILES: values file '{value}' {reason}\n"


# --------------------------------------------------------------------------- HELM_ARGS allow-list


@pytest.mark.parametrize("shell", SHELLS)
def test_argo_cd_helm_flags_in_both_forms(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    repo = Monorepo(tmp_path)
    code, _, stderr, argv = run_app(
        sidecar,
        repo,
        shell,
        ARGOCD_ENV_HELM_ARGS=(
            "--api-versions monitoring.coreos.com/v1 --api-versions=cert-manager.io/v1"
            " --kube-version 1.30.4 --kube-version=1.29.0 --version=1.2.3 --version 2.0.0"
            " --name-template web --name-template=web2 --release-name"
        ),
    )
    assert code == 0, stderr
    assert argv == [
        "template", "vouch-proxy", ".", "--namespace", "auth", *PREFIX_AFTER_NAMESPACE,
        "--api-versions", "monitoring.coreos.com/v1",
        "--api-versions", "cert-manager.io/v1",
        "--kube-version", "1.30.4",
        "--kube-version", "1.29.0",
        "--version", "1.2.3",
        "--version", "2.0.0",
        "--name-template", "web",
        "--name-template", "web2",
        "--release-name",
        "--include-crds",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        "--set-file token=../../../../token",
        "--post-renderer /bin/sh",
        "--post-renderer-args=-c",
        "--repo https://attacker.example/charts",
        "--kubeconfig=/tmp/x",
        "--kube-token=x",
        "--validate",
        "--dry-run=server",
        "--output-dir /tmp/out",
        "--namespace=kube-system",
        "-n kube-system",
        "--description x",  # not built in: only with the operator's extension
        "--version",  # needs a value
        "--api-versions",
        "-a v1",  # shorthand of --api-versions: not accepted, write it out
    ],
)
def test_other_flags_are_refused(sidecar: Sidecar, tmp_path: Path, args: str) -> None:
    repo = Monorepo(tmp_path)
    code, stdout, stderr, argv = run_app(sidecar, repo, ARGOCD_ENV_HELM_ARGS=args)
    assert (code, stdout, argv) == (2, "", None), stderr
    assert stderr.startswith("Error: ARGOCD_ENV_HELM_ARGS: ")
    assert "is not allowed" in stderr or "needs a value" in stderr


# --------------------------------------------------------------------------- operator extension


EXTENSION = "AVP_HELM_EXTRA_ALLOWED_FLAGS"


@pytest.mark.parametrize("shell", SHELLS)
def test_operator_extends_the_allow_list(sidecar: Sidecar, tmp_path: Path, shell: str) -> None:
    repo = Monorepo(tmp_path)
    code, _, stderr, argv = run_app(
        sidecar,
        repo,
        shell,
        AVP_HELM_EXTRA_ALLOWED_FLAGS="--description=, --enable-dns\n--labels=",
        ARGOCD_ENV_HELM_ARGS="--description web --enable-dns --labels=team=a --skip-tests",
    )
    assert code == 0, stderr
    assert argv is not None
    assert argv[5 + len(PREFIX_AFTER_NAMESPACE) :] == [
        "--description", "web", "--enable-dns", "--labels", "team=a", "--skip-tests",
        "--include-crds",
    ]  # fmt: skip


def test_extension_switch_takes_no_value_and_value_flag_needs_one(
    sidecar: Sidecar, tmp_path: Path
) -> None:
    repo = Monorepo(tmp_path)
    env = {"ARGOCD_APP_SOURCE_PATH": repo.source_path, EXTENSION: "--description=,--enable-dns"}
    code, _, stderr, argv = run(sidecar, repo.app, ARGOCD_ENV_HELM_ARGS="--enable-dns=x", **env)
    assert (code, argv) == (2, None)
    assert "'--enable-dns=x' is not allowed" in stderr
    assert "--description, --enable-dns; the sidecar's" in stderr
    code, _, stderr, argv = run(sidecar, repo.app, ARGOCD_ENV_HELM_ARGS="--description", **env)
    assert (code, argv) == (2, None)
    assert stderr == "Error: ARGOCD_ENV_HELM_ARGS: '--description' needs a value\n"


def test_an_application_cannot_extend_the_allow_list(sidecar: Sidecar, tmp_path: Path) -> None:
    """The extension is read from the sidecar's own environment only: Argo CD hands an
    Application's plugin.env to the plugin as ARGOCD_ENV_<name>, which the script never reads."""
    repo = Monorepo(tmp_path)
    code, stdout, stderr, argv = run_app(
        sidecar,
        repo,
        ARGOCD_ENV_AVP_HELM_EXTRA_ALLOWED_FLAGS="--description=",
        ARGOCD_ENV_HELM_ARGS="--description web",
    )
    assert (code, stdout, argv) == (2, "", None)
    assert "'--description' is not allowed" in stderr


@pytest.mark.parametrize(
    "entry",
    [
        "--set-file=",
        "--post-renderer=",
        "--post-renderer-args=",
        "--repo=",
        "--kubeconfig=",
        "--kube-apiserver=",
        "--kube-token=",
        "--validate",
        "--dry-run=",
        "--output-dir=",
        "--ca-file=",
        "--cert-file=",
        "--key-file=",
        "--keyring=",
        "--verify",
        "--registry-config=",
        "--repository-config=",
        "--repository-cache=",
        "--username=",
        "--password=",
        "--pass-credentials",
        "--plain-http",
        "--insecure-skip-tls-verify",
        "--dependency-update",
        "--namespace=",
        "--values=",
    ],
)
def test_operator_cannot_allow_flags_that_read_files_or_run_programs(
    sidecar: Sidecar, tmp_path: Path, entry: str
) -> None:
    repo = Monorepo(tmp_path)
    code, stdout, stderr, argv = run_app(sidecar, repo, **{EXTENSION: entry})
    assert (code, stdout, argv) == (2, "", None)
    assert stderr == (
        f"Error: {EXTENSION}: '{entry.rstrip('=')}' can never be allowed (it reads files,"
        " runs programs or reaches a cluster or registry)\n"
    )


@pytest.mark.parametrize("entry", ["-d=", "description=", "--", "--Description=", "--a_b", "--x=="])
def test_malformed_extension_entries_are_configuration_errors(
    sidecar: Sidecar, tmp_path: Path, entry: str
) -> None:
    repo = Monorepo(tmp_path)
    code, _, stderr, argv = run_app(sidecar, repo, **{EXTENSION: entry})
    assert (code, argv) == (2, None), stderr
    assert stderr == f"Error: {EXTENSION}: '{entry}' is not a long helm flag (--name or --name=)\n"


def test_the_sidecar_environment_is_what_the_plugin_reads() -> None:
    """Guard: the script reads the extension by its bare name only, so that no ARGOCD_ENV_
    spelling could ever reach it (Argo CD prefixes every Application-supplied variable)."""
    script = phase_argv(PLUGIN, "generate")[2]
    assert "${AVP_HELM_EXTRA_ALLOWED_FLAGS:-}" in script
    assert "ARGOCD_ENV_AVP_HELM" not in script
