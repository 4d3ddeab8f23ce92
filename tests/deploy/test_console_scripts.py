"""The installed console scripts, run as Argo CD runs them: separate processes, real pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MANIFEST = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv#k>\n"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AVP_", "ARGOCD_"))}
    (tmp_path / "secrets.yaml").write_text("kv:\n  k: value-1\n")
    env.update(AVP_TYPE="file", AVP_FILE_PATH=str(tmp_path / "secrets.yaml"))
    env.update(extra)
    return env


def _run(args: list[str], tmp_path: Path, stdin: bytes = b"", **extra: str):
    return subprocess.run(
        args, input=stdin, capture_output=True, env=_env(tmp_path, **extra), timeout=60
    )


@pytest.mark.parametrize(
    "command",
    [[str(BIN / "avp-py")], [str(BIN / "argocd-vault-plugin")], [sys.executable, "-m", "avp_py"]],
    ids=["avp-py", "argocd-vault-plugin", "python -m avp_py"],
)
def test_every_entry_point_generates(command: list[str], tmp_path: Path) -> None:
    result = _run([*command, "generate", "-"], tmp_path, MANIFEST)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.endswith(b"  a: value-1\n---\n")


def test_version_and_help(tmp_path: Path) -> None:
    version = _run([str(BIN / "avp-py"), "version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith(b"avp-py ")
    bare = _run([str(BIN / "argocd-vault-plugin")], tmp_path)
    assert bare.returncode == 0 and b"generate" in bare.stdout
    help_text = _run([str(BIN / "avp-py"), "generate", "--help"], tmp_path).stdout.decode()
    for flag in (
        "--config-path",
        "--secret-name",
        "--verbose-sensitive-output",
        "--disable-token-cache",
        "--allow-empty",
        "--no-cache",
        "Exit codes:",
    ):
        assert flag in help_text


@pytest.mark.parametrize(
    ("args", "stdin", "env", "code", "message"),
    [
        (["generate"], b"", {}, 2, b"Error: <path> argument required to generate manifests"),
        (["generate", "-", "--bogus"], b"", {}, 2, b"No such option"),
        (
            ["generate", "-"],
            MANIFEST,
            {"AVP_TYPE": "nope"},
            2,
            b"Must provide a supported Vault Type, received nope",
        ),
        (
            ["generate", "-"],
            b"a: [",
            {},
            3,
            b"Error: <stdin> (document 1, line ",
        ),
        (
            ["generate", "-"],
            MANIFEST.replace(b"#k", b"#absent"),
            {},
            4,
            b"Error: could not replace 1 placeholder",
        ),
        (
            ["generate", "missing-dir/"],
            b"",
            {},
            3,
            b"Error: no YAML or JSON files were found in missing-dir/",
        ),
    ],
)
def test_failures_exit_non_zero_with_nothing_on_stdout(
    tmp_path: Path, args: list[str], stdin: bytes, env: dict[str, str], code: int, message: bytes
) -> None:
    result = _run([str(BIN / "avp-py"), *args], tmp_path, stdin, **env)
    assert result.returncode == code
    assert result.stdout == b""
    assert message in result.stderr
    assert b"Traceback" not in result.stderr


def test_extra_arguments_are_ignored_with_a_warning(tmp_path: Path) -> None:
    result = _run([str(BIN / "avp-py"), "generate", "-", "extra"], tmp_path, MANIFEST)
    assert result.returncode == 0 and b"ignoring extra arguments: extra" in result.stderr


def test_a_closed_stdout_is_a_failure(tmp_path: Path) -> None:
    big = (b"---\n" + MANIFEST) * 5000  # far more output than a pipe buffer holds
    process = subprocess.Popen(
        [str(BIN / "avp-py"), "generate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path),
    )
    assert process.stdout is not None and process.stdin is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before avp-py writes
    process.stdin.write(big)
    process.stdin.close()
    assert process.wait(timeout=60) != 0
    assert b"stdout was closed" in process.stderr.read()
    process.stderr.close()


def test_the_input_limit_bounds_a_whole_directory(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for name in ("a.yaml", "b.yaml"):
        (manifests / name).write_bytes(b"kind: ConfigMap\ndata:\n  k: " + b"x" * 3000 + b"\n")
    small = _run(
        [str(BIN / "avp-py"), "generate", str(manifests)], tmp_path, AVP_MAX_INPUT_BYTES="8000"
    )
    assert small.returncode == 0
    large = _run(
        [str(BIN / "avp-py"), "generate", str(manifests)], tmp_path, AVP_MAX_INPUT_BYTES="5000"
    )
    assert large.returncode == 3 and b"b.yaml: input is larger than" in large.stderr
