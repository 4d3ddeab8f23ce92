"""The process edge under a hostile environment, through the real console script (issue 11,
items 1 and 4): a stdout that takes part of the output, is full or closed, and SIGINT while
the command line is still starting. Each run must end with one ``Error:`` line and the
documented exit code, never a traceback and never exit 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.isolation import clean_environment

AVP = str(Path(sys.executable).parent / "avp-py")
HANG_SECONDS = 60.0  # detects a hang on a loaded machine; not a performance assertion
MANY = b"".join(
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata:\n  a: b\n---\n" % number
    for number in range(2_000)
)  # 140 KB: more than a pipe holds
SECRET = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv#k>\n"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("kv:\n  k: value-1\n")
    return {**clean_environment(), "AVP_TYPE": "file", "AVP_FILE_PATH": str(secrets), **extra}


def _assert_one_error(stderr: bytes, words: str) -> None:
    text = stderr.decode()
    assert "Traceback" not in text and "Exception ignored" not in text, text
    assert text.startswith("Error: ") and text.count("\n") == 1, text
    assert words in text, text


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED=1"])
def test_a_reader_that_leaves_after_ten_bytes_fails_the_run(
    tmp_path: Path, unbuffered: str
) -> None:
    # `avp-py generate many.yaml | head -c 10`: the pipe takes one buffer of a write, then
    # its reader goes; unbuffered, the short count of that write used to be ignored (exit 0).
    (tmp_path / "many.yaml").write_bytes(MANY)
    env = _env(tmp_path, PYTHONUNBUFFERED=unbuffered)
    process = subprocess.Popen(
        [AVP, "generate", str(tmp_path / "many.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10) == b"apiVersion"
    process.stdout.close()
    assert process.wait(timeout=HANG_SECONDS) == 1
    _assert_one_error(process.stderr.read(), "stdout was closed before all output was written")
    process.stderr.close()


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "many.yaml"],
        ["check", "many.yaml"],
        ["version"],
        ["--help"],
        ["generate", "--help"],
        [],
    ],
    ids=["generate", "check", "version", "--help", "generate --help", "no command"],
)
@pytest.mark.parametrize("stdout", ["/dev/full", "closed"])
def test_a_full_or_closed_stdout_is_one_error_line(
    tmp_path: Path, args: list[str], stdout: str
) -> None:
    (tmp_path / "many.yaml").write_bytes(MANY)
    with open(os.devnull if stdout == "closed" else stdout, "wb") as target:
        result = subprocess.run(
            [AVP, *args],
            stdout=target,
            stderr=subprocess.PIPE,
            env=_env(tmp_path),
            cwd=tmp_path,
            timeout=HANG_SECONDS,
            # close_fds cannot close 0-2: the child closes its own stdout before exec-ing.
            preexec_fn=(lambda: os.close(1)) if stdout == "closed" else None,
        )
    assert result.returncode == 1
    words = "No space left on device" if stdout == "/dev/full" else "stdout is closed"
    _assert_one_error(result.stderr, words)


# SIGINT while the module named here is being imported: a real signal, sent by the process to
# itself from an import hook, so it lands at that exact point of the start-up every time.
SITECUSTOMIZE = """
import os, signal, sys
TARGET = os.environ["AVP_TEST_SIGINT_AT"]
class _Hook:
    def find_spec(self, name, path=None, target=None):
        if name == TARGET:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, _Hook())
"""


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("avp_py.server.client", ["generate", "-"]),  # the client fast path, first thing
        ("avp_py.cli.app", ["generate", "--no-server", "-"]),
        ("click", ["version"]),
        ("avp_py.render", ["generate", "--no-server", "-"]),
        ("avp_py.settings", ["check", "-"]),
        ("yaml", ["generate", "--no-server", "-"]),
    ],
)
def test_sigint_during_start_up_is_one_error_line_and_exit_130(
    tmp_path: Path, module: str, args: list[str]
) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = _env(tmp_path, PYTHONPATH=str(hooks), AVP_TEST_SIGINT_AT=module)
    result = subprocess.run(
        [AVP, *args], input=SECRET, capture_output=True, env=env, timeout=HANG_SECONDS
    )
    assert (result.returncode, result.stdout) == (130, b"")
    assert result.stderr == b"Error: interrupted\n"


def test_manifest_text_cannot_forge_error_lines_or_escapes_on_stderr(tmp_path: Path) -> None:
    # Issue 11, item 6: the name, the key and the file name reach the message; each control
    # character in them is printed as an escape, so the error stays two lines.
    manifests = tmp_path / "app\nError: forged file"
    manifests.mkdir()
    (manifests / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n"
        '  name: "s\\nError: forged name \\e[2J"\n'
        'stringData:\n  "k\\nError: forged key\\L\\r": <path:kv#missing>\n'
    )
    result = subprocess.run(
        [AVP, "generate", "--verbose", str(manifests)],
        capture_output=True,
        env=_env(tmp_path),
        timeout=HANG_SECONDS,
    )
    assert (result.returncode, result.stdout) == (4, b"")
    text = result.stderr.decode()
    lines = [line for line in text.splitlines() if not line.startswith("avp-py: ")]
    assert lines[0] == "Error: could not replace 1 placeholder", text
    assert len(lines) == 2 and lines[1].startswith("  "), text
    assert "forged file" in lines[1] and "forged name" in lines[1] and "forged key" in lines[1]
    assert not any(
        line.startswith(("Error: forged", "avp-py: Error")) for line in text.splitlines()
    )
    for raw in ("\x1b", "\u2028", "\r"):
        assert raw not in text
