"""The sidecar image's Dockerfile and .dockerignore.

No container engine runs here, so the Dockerfile is checked statically, and the one RUN step
that matters for supply-chain safety (download helm and kustomize, verify their sha256) is
executed on the host against local stand-in archives: with the right checksums it installs both
tools, with a wrong one it stops before installing anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "dangling line continuation"
    return result


def stages() -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (index 0: global ARGs before the first FROM)."""
    grouped: list[list[tuple[str, str]]] = [[]]
    for keyword, rest in instructions():
        if keyword == "FROM":
            grouped.append([])
        grouped[-1].append((keyword, rest))
    return grouped


def arg_defaults() -> dict[str, str]:
    defaults: dict[str, str] = {}
    for keyword, rest in instructions():
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            defaults[name] = value
    return defaults


def tools_stage() -> list[tuple[str, str]]:
    for stage in stages()[1:]:
        if stage[0][1].endswith(" AS tools"):
            return stage
    raise AssertionError("no `AS tools` stage")


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


# --------------------------------------------------------------------------- static checks


def test_base_image_is_a_pinned_slim_python() -> None:
    image = arg_defaults()["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+", image), image
    for stage in stages()[1:]:
        keyword, rest = stage[0]
        assert keyword == "FROM"
        assert rest.split()[0] == "${PYTHON_IMAGE}", rest


def test_nothing_floats_on_latest() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert ":latest" not in text
    assert "/latest/" not in text


def test_helm_and_kustomize_versions_and_checksums_are_pinned() -> None:
    defaults = arg_defaults()
    for tool in ("HELM", "KUSTOMIZE"):
        assert SEMVER.match(defaults[f"{tool}_VERSION"]), tool
        for arch in ("AMD64", "ARM64"):
            assert SHA256.match(defaults[f"{tool}_SHA256_{arch}"]), (tool, arch)
    # helm >= 3.18.4 carries the fix for GHSA-557j-xg8c-q2mm (dependency update + symlinks)
    helm = tuple(int(part) for part in defaults["HELM_VERSION"].split("."))
    assert helm >= (3, 18, 4)


def test_downloads_are_verified_before_use() -> None:
    run = " ".join(rest for keyword, rest in tools_stage() if keyword == "RUN")
    assert "https://get.helm.sh/helm-v${HELM_VERSION}-linux-${arch}.tar.gz" in run
    assert (
        "https://github.com/kubernetes-sigs/kustomize/releases/download/"
        "kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_${arch}.tar.gz"
    ) in run
    for archive in ("/tmp/helm.tar.gz", "/tmp/kustomize.tar.gz"):
        check = run.index("sha256sum -c", run.index(archive))
        extract = run.index(f"tar -xzf {archive}")
        assert check < extract, f"{archive} is unpacked before its checksum is verified"


def test_runs_as_uid_999_on_a_read_only_root_filesystem() -> None:
    final = final_stage()
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1] == "999"
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    pairs = dict(re.findall(r"([A-Z_]+)=(\S+)", env))
    assert pairs["HOME"] == "/tmp"
    assert pairs["PYTHONDONTWRITEBYTECODE"] == "1"
    for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "TMPDIR"):
        assert pairs[name].startswith("/tmp"), name


def test_avp_py_is_installed_from_the_source_tree() -> None:
    runs = [rest for stage in stages() for keyword, rest in stage if keyword == "RUN"]
    assert any(re.search(r"pip install --no-cache-dir .*\.(\s|$)", run) for run in runs), runs
    copies = [rest for stage in stages() for keyword, rest in stage if keyword == "COPY"]
    assert any(copy.startswith("--from=build /opt/avp-py") for copy in copies)
    env = " ".join(rest for keyword, rest in final_stage() if keyword == "ENV")
    assert "PATH=/opt/avp-py/bin:" in env


def test_plugin_config_and_entrypoint() -> None:
    final = final_stage()
    copies = [rest.split() for keyword, rest in final if keyword == "COPY"]
    assert ["plugin.yaml", "/home/argocd/cmp-server/config/plugin.yaml"] in copies
    entrypoints = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert entrypoints and json.loads(entrypoints[-1]) == [
        "avp-py",
        "sidecar",
        "--",
        "/var/run/argocd/argocd-cmp-server",
    ]
    tool_copies = [c for c in copies if c[0] == "--from=tools"]
    assert tool_copies and tool_copies[0][-1] == "/usr/local/bin/"


def test_dockerignore_keeps_the_build_context_minimal() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "allow-list style: ignore everything, then re-include"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert {"avp_py", "pyproject.toml", "plugin.yaml"} <= allowed
    readme = re.search(r'^readme\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    if readme:
        assert readme.group(1) in allowed, "pip install . needs the readme named in pyproject"
    for secret_prone in (".git", ".venv", "tests", "examples", "deploy"):
        assert secret_prone not in allowed


# --------------------------------------------------------------------------- the download step


def _tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


FAKE_FETCH = """\
#!{python}
# Stand-in for `python -c <urlretrieve> URL DEST`: serves local archives, records the URLs.
import os, shutil, sys
url, dest = sys.argv[-2], sys.argv[-1]
with open(os.environ["FETCH_LOG"], "a", encoding="utf-8") as log:
    log.write(url + "\\n")
name = "helm" if "get.helm.sh" in url else "kustomize"
shutil.copyfile(os.path.join(os.environ["ARCHIVES"], name + ".tar.gz"), dest)
"""


@pytest.fixture
def download_step(tmp_path: Path) -> tuple[str, dict[str, str], Path]:
    """The tools stage's RUN script, rooted in tmp_path, with the environment docker gives it."""
    (script,) = [rest for keyword, rest in tools_stage() if keyword == "RUN"]
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    for path, marker in (("/tmp/", "\0T"), ("/out", "\0O")):
        script = script.replace(path, marker)
    script = script.replace("\0T", f"{root}/tmp/").replace("\0O", f"{root}/out")

    defaults = arg_defaults()
    archives = tmp_path / "archives"
    archives.mkdir()
    helm = _tar_gz({"linux-amd64/helm": "#!/bin/sh\necho v3-fake\n"})
    kustomize = _tar_gz({"kustomize": "#!/bin/sh\necho v5-fake\n"})
    (archives / "helm.tar.gz").write_bytes(helm)
    (archives / "kustomize.tar.gz").write_bytes(kustomize)

    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    fetch = fakebin / "python"
    fetch.write_text(FAKE_FETCH.format(python=sys.executable), encoding="utf-8")
    fetch.chmod(fetch.stat().st_mode | stat.S_IXUSR)

    env = {
        "PATH": f"{fakebin}:/usr/bin:/bin",
        "TARGETARCH": "amd64",
        "HELM_VERSION": defaults["HELM_VERSION"],
        "KUSTOMIZE_VERSION": defaults["KUSTOMIZE_VERSION"],
        "HELM_SHA256_AMD64": hashlib.sha256(helm).hexdigest(),
        "HELM_SHA256_ARM64": defaults["HELM_SHA256_ARM64"],
        "KUSTOMIZE_SHA256_AMD64": hashlib.sha256(kustomize).hexdigest(),
        "KUSTOMIZE_SHA256_ARM64": defaults["KUSTOMIZE_SHA256_ARM64"],
        "ARCHIVES": str(archives),
        "FETCH_LOG": str(tmp_path / "fetch.log"),
    }
    return script, env, root


def test_download_step_installs_verified_tools(
    download_step: tuple[str, dict[str, str], Path], tmp_path: Path
) -> None:
    script, env, root = download_step
    result = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (root / "out" / "helm").stat().st_mode & stat.S_IXUSR
    assert (root / "out" / "kustomize").stat().st_mode & stat.S_IXUSR
    urls = (tmp_path / "fetch.log").read_text(encoding="utf-8").split()
    helm, kustomize = env["HELM_VERSION"], env["KUSTOMIZE_VERSION"]
    assert urls == [
        f"https://get.helm.sh/helm-v{helm}-linux-amd64.tar.gz",
        "https://github.com/kubernetes-sigs/kustomize/releases/download/"
        f"kustomize%2Fv{kustomize}/kustomize_v{kustomize}_linux_amd64.tar.gz",
    ]


@pytest.mark.parametrize("tampered", ["HELM_SHA256_AMD64", "KUSTOMIZE_SHA256_AMD64"])
def test_download_step_rejects_a_checksum_mismatch(
    download_step: tuple[str, dict[str, str], Path], tampered: str
) -> None:
    script, env, root = download_step
    env[tampered] = "0" * 64
    result = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert not (root / "out" / "kustomize").exists()
    if tampered.startswith("HELM"):
        assert not (root / "out" / "helm").exists()


def test_download_step_refuses_unknown_architectures(
    download_step: tuple[str, dict[str, str], Path],
) -> None:
    script, env, root = download_step
    env["TARGETARCH"] = "s390x"
    result = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "unsupported architecture" in result.stderr
    assert "s390x" in result.stderr
