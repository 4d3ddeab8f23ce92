"""Hostile and malformed inputs through the real console script (issue #6, item 1).

The cases are data: ``hostile.yaml`` (its header describes the fields). Inputs too big or too
odd to commit (alias bombs, 100k-deep nesting, random bytes, 100,000 ``<``) are generated here.
Every case runs ``avp-py generate`` as a subprocess with a timeout that only detects hangs;
the cases run concurrently, once per session, and each test then checks one answer.

Besides the table: the 200 MB input and the child's peak memory, symlinks that leave a
directory input, and the YAML-specials table (values that must stay strings).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from avp_py import stream, yamlcodec
from tests.isolation import clean_environment

HERE = Path(__file__).parent
TABLE: dict[str, Any] = yaml.safe_load((HERE / "hostile.yaml").read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = {case["name"]: case for case in TABLE["cases"]}
SPECIALS: list[str] = TABLE["specials"]

AVP = str(Path(sys.executable).parent / "avp-py")
HANG_SECONDS = 90.0  # a hang detector for a loaded CI machine, not a performance assertion
DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens: a request that escapes fails at once
HUGE = "".join(random.Random(5).choices("abcdefghijklmnopqrstuvwxyz0123456789+/", k=5 << 20))


# ------------------------------------------------------------------------------ generators


def alias_bomb(levels: int, width: int, kind: str) -> str:
    """Billion laughs: each level is a list of ``width`` aliases of the level below."""
    lines = [f"kind: {kind}", "metadata:", "  name: laughs", "data:"]
    lines.append("  l0: &l0 [" + ", ".join(['"lol"'] * width) + "]")
    lines.extend(
        f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]"
        for level in range(1, levels)
    )
    return "\n".join(lines) + "\n"


def deep_flow(depth: int) -> str:
    return "kind: Secret\nstringData:\n  a: " + "[" * depth + "]" * depth + "\n"


def deep_block(depth: int) -> str:
    lines = ["kind: Secret", "stringData:"]
    lines += [" " * (2 * level) + "a:" for level in range(1, depth)]
    lines.append(" " * (2 * depth) + "a: leaf")
    return "\n".join(lines) + "\n"


def deep_json(depth: int) -> str:
    return '{"kind": "Secret", "a": ' + "[" * depth + "]" * depth + "}"


def filler(size: int) -> str:
    head = "kind: ConfigMap\nmetadata:\n  name: filler\n# "
    return head + "x" * (size - len(head) - 1) + "\n"


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def repeated(unit: str, count: int, generic: bool = False, kind: str = "ConfigMap") -> str:
    annotation = "  annotations:\n    avp.kubernetes.io/path: kv\n" if generic else ""
    return (
        f"kind: {kind}\nmetadata:\n  name: x\n{annotation}data:\n  a: {json.dumps(unit * count)}\n"
    )


def long_document(lines: int) -> str:
    body = "".join(f"  k{index}: v{index}\n" for index in range(lines))
    return f"kind: ConfigMap\nmetadata:\n  name: long\ndata:\n{body}  last: <path:kv#plain>\n"


def amplified(references: int, secret: str) -> str:
    """One ConfigMap whose keys all reference the same secret (issue 11 item 3)."""
    lines = [f"  k{index}: <path:kv#{secret}>\n" for index in range(references)]
    return "kind: ConfigMap\nmetadata:\n  name: amp\ndata:\n" + "".join(lines)


GENERATORS: dict[str, Callable[..., str | bytes]] = {
    "amplified": amplified,
    "alias_bomb": alias_bomb,
    "deep_flow": deep_flow,
    "deep_block": deep_block,
    "deep_json": deep_json,
    "filler": filler,
    "random_bytes": random_bytes,
    "repeated": repeated,
    "long_document": long_document,
}


def case_input(case: Mapping[str, Any]) -> bytes:
    if "generate" in case:
        arguments = dict(case["generate"])
        made = GENERATORS[arguments.pop("name")](**arguments)
        return made if isinstance(made, bytes) else made.encode("utf-8")
    text: str = case.get("input", "")
    return text.encode(case.get("encoding", "utf-8"))


# ------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class Answer:
    code: int | None  # None: no answer within HANG_SECONDS
    stdout: bytes
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def child_environment(secrets: Path, extra: Mapping[str, str] = {}) -> dict[str, str]:
    env = clean_environment()
    env.update(
        AVP_TYPE="file",
        AVP_FILE_PATH=str(secrets),
        HTTPS_PROXY=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        NO_PROXY="",
        no_proxy="",
    )
    env.update(extra)
    return env


def run_cli(args: list[str], given: bytes, env: Mapping[str, str], cwd: Path) -> Answer:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [AVP, *args],
            input=given,
            capture_output=True,
            env=dict(env),
            cwd=cwd,
            timeout=HANG_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Answer(None, exc.stdout or b"", (exc.stderr or b"").decode(), HANG_SECONDS)
    stderr = done.stderr.decode("utf-8", "replace")
    return Answer(done.returncode, done.stdout, stderr, time.monotonic() - started)


def secrets_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(TABLE["secrets"]))
    data["specials"] = {f"s{index}": value for index, value in enumerate(SPECIALS)}
    return data


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The children's working directory: the secrets file and an empty input directory."""
    root = tmp_path_factory.mktemp("hostile")
    for name, data in (
        ("secrets.yaml", secrets_data()),
        ("huge-secrets.yaml", {"kv": {"huge": HUGE}}),
    ):
        text = yaml.safe_dump(data, allow_unicode=True, default_style='"', width=float("inf"))
        (root / name).write_text(text, encoding="utf-8")
    (root / "empty-dir").mkdir()
    (root / "empty-dir" / "notes.txt").write_text("not a manifest\n")
    return root


def _selected(request: pytest.FixtureRequest) -> set[str]:
    names = set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.module is sys.modules[__name__] and callspec and "name" in callspec.params:
            names.add(callspec.params["name"])
    return names


@pytest.fixture(scope="module")
def answers(request: pytest.FixtureRequest, workdir: Path) -> dict[str, Answer]:
    """Every selected case, run concurrently (subprocess start-up dominates)."""
    names = sorted(_selected(request))

    def one(name: str) -> Answer:
        case = CASES[name]
        env = child_environment(workdir / "secrets.yaml", case.get("env", {}))
        args = [str(arg) for arg in case.get("args", ["generate", "-"])]
        return run_cli(args, case_input(case), env, workdir)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


# ------------------------------------------------------------------------------ checks


def test_the_table_is_well_formed() -> None:
    assert len(CASES) == len(TABLE["cases"]), "case names must be unique"
    kinds = {case["kind"] for case in TABLE["cases"]}
    assert len(kinds) >= 25, sorted(kinds)
    known = {"name", "kind", "input", "generate", "encoding", "args", "env", "exit", "error"}
    known |= {"details", "stdout", "contains", "absent", "values", "absent_stderr"}
    for case in TABLE["cases"]:
        assert set(case) <= known, (case["name"], set(case) - known)
        assert "exit" in case and ("input" in case or "generate" in case or "args" in case)
        if case["exit"]:
            assert case.get("error") or case.get("details"), f"{case['name']}: say which error"
        else:
            assert {"stdout", "contains", "values"} & set(case), f"{case['name']}: check output"


def expected_value(value: Any) -> Any:
    return value.replace("$huge", HUGE) if isinstance(value, str) else value


def field(document: Any, path: list[str]) -> Any:
    for key in path:
        document = document[key]
    return document


def parse_both(text: str) -> tuple[list[Any], list[Any]]:
    """The output read by PyYAML (YAML 1.1, libyaml) and by avp-py's own codec (go-yaml v2)."""
    by_pyyaml = [doc for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc is not None]
    by_codec = [yamlcodec.load_yaml(chunk.text) for chunk in stream.split("stdout", text)]
    return by_pyyaml, by_codec


def check_failure(case: Mapping[str, Any], answer: Answer) -> None:
    assert answer.stdout == b"", "an error must leave stdout empty"
    lines = answer.lines
    assert lines and lines[0].startswith("Error: "), answer.stderr
    assert all(line.startswith("  ") for line in lines[1:]), answer.stderr
    for fragment in case.get("error", []):
        assert fragment in lines[0], answer.stderr
    for fragment in case.get("details", []):
        assert any(fragment in line for line in lines[1:]), (fragment, answer.stderr)


def check_success(case: Mapping[str, Any], answer: Answer, given: bytes) -> None:
    assert answer.stderr == "", answer.stderr
    expected_stdout = case.get("stdout")
    if expected_stdout == "same":
        body = given if given.endswith(b"\n") else given + b"\n"
        assert answer.stdout == body + b"---\n"
    elif expected_stdout == "empty":
        assert answer.stdout == b""
    text = answer.stdout.decode("utf-8")
    for fragment in case.get("contains", []):
        assert fragment in text
    for fragment in case.get("absent", []):
        assert fragment not in text
    if case.get("values"):
        by_pyyaml, by_codec = parse_both(text)
        for where, value in case["values"].items():
            document, *keys = where.split("/")
            for reader, documents in (("PyYAML", by_pyyaml), ("yamlcodec", by_codec)):
                found = field(documents[int(document)], keys)
                assert found == expected_value(value), (reader, where)


@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str, answers: dict[str, Answer]) -> None:
    case, answer = CASES[name], answers[name]
    assert answer.code is not None, f"no answer within {HANG_SECONDS} s: {answer.stderr}"
    assert "Traceback" not in answer.stderr
    assert answer.code == case["exit"], answer.stderr
    for fragment in case.get("absent_stderr", []):
        assert fragment not in answer.stderr
    if case["exit"]:
        check_failure(case, answer)
    else:
        check_success(case, answer, case_input(case))


# ------------------------------------------------------------------------------ 200 MB

# Runs the command in a grandchild and reports its exit code and peak RSS. A direct child of
# pytest would not do: Linux carries the address space's high-water mark across fork and exec,
# so the child would report at least pytest's own peak. This small launcher's child does not.
LAUNCHER = r"""
import json, os, sys, time
stdin, out, err, *argv = sys.argv[1:]
started = time.monotonic()
pid = os.fork()
if pid == 0:
    for fd, path, flags in ((0, stdin, os.O_RDONLY), (1, out, os.O_WRONLY | os.O_CREAT),
                            (2, err, os.O_WRONLY | os.O_CREAT)):
        os.dup2(os.open(path, flags, 0o600), fd)
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "peak_kib": usage.ru_maxrss,
                  "seconds": time.monotonic() - started}))
"""

MIB = 1 << 20


@pytest.fixture(scope="module")
def input_200_mb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 200 MB manifest, written in 1 MiB pieces (never held in memory here)."""
    path = tmp_path_factory.mktemp("big") / "big.yaml"
    line = "  key-%07d: " + "v" * 64 + "\n"
    with path.open("w", encoding="ascii") as handle:
        handle.write("kind: ConfigMap\nmetadata:\n  name: big\ndata:\n")
        number = 0
        while handle.tell() < 200 * MIB:
            handle.write("".join(line % (number + i) for i in range(12_000)))
            number += 12_000
    yield path
    path.unlink()


def measured(args: list[str], stdin: Path, env: Mapping[str, str], tmp: Path) -> dict[str, Any]:
    out, err = tmp / "stdout", tmp / "stderr"
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, str(stdin), str(out), str(err), AVP, *args],
        capture_output=True,
        env=dict(env),
        timeout=HANG_SECONDS,
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    report["stdout"] = out.read_bytes()
    report["stderr"] = err.read_text(encoding="utf-8", errors="replace")
    return report


@pytest.mark.parametrize(
    ("how", "limit", "peak_mib"),
    [
        # A file: refused from its size, before a byte is read.
        ("file", None, 64),
        # A pipe: read up to the limit + 1 byte, never to the end; memory follows the limit.
        ("stdin", None, 100 + 60),
        ("stdin", 10 * MIB, 64),
    ],
)
def test_200_mb_input_is_refused_without_reading_it_all(
    input_200_mb: Path, workdir: Path, tmp_path: Path, how: str, limit: int | None, peak_mib: int
) -> None:
    extra = {"AVP_MAX_INPUT_BYTES": str(limit)} if limit else {}
    env = child_environment(workdir / "secrets.yaml", extra)
    if how == "file":
        report = measured(["generate", str(input_200_mb)], Path(os.devnull), env, tmp_path)
        name = str(input_200_mb)
    else:
        report = measured(["generate", "-"], input_200_mb, env, tmp_path)
        name = "<stdin>"
    assert report["code"] == 3, report["stderr"]
    assert report["stdout"] == b""
    expected = (
        f"Error: {name}: input is larger than {limit or 100 * MIB} bytes (AVP_MAX_INPUT_BYTES)"
    )
    assert report["stderr"] == expected + "\n"
    assert report["peak_kib"] < peak_mib * 1024, f"peak RSS {report['peak_kib'] // 1024} MiB"


# ------------------------------------------------------------------------------ symlinks


def test_symlink_leaving_a_directory_input_is_refused(workdir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.yaml").write_text("kind: ConfigMap\nmetadata:\n  name: private\n")
    app = tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    (app / "a.yaml").write_text("kind: Secret\nstringData:\n  a: <path:kv#plain>\n")
    (app / "sub" / "leak.yaml").symlink_to(outside / "private.yaml")
    env = child_environment(workdir / "secrets.yaml")
    answer = run_cli(["generate", "app"], b"", env, tmp_path)
    assert answer.code == 3, answer.stderr
    assert answer.stdout == b""
    assert (
        answer.stderr
        == f"Error: app/sub/leak.yaml: symlink points outside {app}; refusing to read it\n"
    )

    # The same link to a file inside the tree is read; a symlinked directory is not walked.
    (app / "sub" / "leak.yaml").unlink()
    (app / "sub" / "again.yaml").symlink_to(app / "a.yaml")
    (app / "elsewhere").symlink_to(outside, target_is_directory=True)
    answer = run_cli(["generate", "app"], b"", env, tmp_path)
    assert answer.code == 0, answer.stderr
    assert answer.stdout == b"kind: Secret\nstringData:\n  a: hello\n---\n" * 2
    assert b"private" not in answer.stdout


# ------------------------------------------------------------------------------ odd directories


def test_non_regular_files_in_a_directory_input_are_refused_without_blocking(
    workdir: Path, tmp_path: Path
) -> None:
    """Issue 11, item 12: opening a FIFO named *.yaml blocked the run forever."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "a.yaml").write_text("kind: Secret\nstringData:\n  a: <path:kv#plain>\n")
    os.mkfifo(app / "pipe.yaml")
    env = child_environment(workdir / "secrets.yaml")
    answer = run_cli(["generate", "app"], b"", env, tmp_path)
    assert answer.code == 3, answer.stderr
    assert answer.stdout == b""
    assert (
        answer.stderr == "Error: app/pipe.yaml: not a regular file (a FIFO); refusing to read it\n"
    )

    (app / "pipe.yaml").unlink()
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(app / "sock.yaml"))
        answer = run_cli(["generate", "app"], b"", env, tmp_path)
    assert answer.code == 3, answer.stderr
    assert (
        "Error: app/sock.yaml: not a regular file (a socket); refusing to read it" in answer.stderr
    )


@pytest.mark.parametrize(
    ("links", "named"),
    [
        ({"a.yaml": "b.yaml", "b.yaml": "a.yaml"}, "a.yaml: symlink loop"),
        ({"self.yaml": "self.yaml"}, "self.yaml: symlink loop"),
        ({"dir.yaml": "."}, "dir.yaml: not a regular file (a directory)"),
    ],
)
def test_symlink_loops_in_a_directory_input_are_input_errors(
    workdir: Path, tmp_path: Path, links: dict[str, str], named: str
) -> None:
    """Issue 11, item 5: a symlink loop was an internal error (RuntimeError from pathlib)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "up").symlink_to("..", target_is_directory=True)  # never followed: not walked
    for name, target in links.items():
        (app / name).symlink_to(target)
    answer = run_cli(
        ["generate", "app"], b"", child_environment(workdir / "secrets.yaml"), tmp_path
    )
    assert answer.code == 3, answer.stderr
    assert answer.stdout == b""
    assert answer.stderr.startswith(f"Error: app/{named}"), answer.stderr
    assert answer.stderr.count("\n") == 1


def _nested(root: Path, levels: int) -> Path:
    """``root/d/d/…`` ``levels`` deep, made without recursion (os.makedirs recurses)."""
    path = root
    for _ in range(levels):
        path = path / "d"
        path.mkdir()
    return path


def _remove_nested(root: Path, levels: int) -> None:
    for level in range(levels, 0, -1):
        deepest = root.joinpath(*["d"] * level)
        for child in deepest.iterdir():
            child.unlink()
        deepest.rmdir()


@pytest.mark.parametrize(("levels", "code"), [(1000, 0), (1001, 3)])
def test_a_deep_directory_tree_is_walked_or_refused_naming_the_path(
    workdir: Path, tmp_path: Path, levels: int, code: int
) -> None:
    """Issue 11, item 5: ~1,000 levels were a RecursionError (an internal error)."""
    app = tmp_path / "app"
    app.mkdir()
    deepest = _nested(app, levels)
    (deepest / "deep.yaml").write_text("kind: Secret\nstringData:\n  a: <path:kv#plain>\n")
    try:
        env = child_environment(workdir / "secrets.yaml")
        answer = run_cli(["generate", "app"], b"", env, tmp_path)
    finally:
        _remove_nested(app, levels)
    assert answer.code == code, answer.stderr[-300:]
    if code == 0:
        assert answer.stdout == b"kind: Secret\nstringData:\n  a: hello\n---\n"
    else:
        too_deep = "/".join(["app", *["d"] * 1001])
        assert answer.stdout == b""
        assert answer.stderr == (
            f"Error: {too_deep}: the directory tree is deeper than 1000 levels\n"
        )


# ------------------------------------------------------------------------------ YAML specials


def specials_input() -> str:
    lines = ["kind: ConfigMap", "metadata:", "  name: specials", "data:"]
    for index in range(len(SPECIALS)):
        lines.append(f"  whole{index}: <path:specials#s{index}>")
        lines.append(f"  inside{index}: 'pre <path:specials#s{index}> post'")
    lines += ["---", "kind: Secret", "metadata:", "  name: specials", "stringData:"]
    lines += [f"  whole{index}: <path:specials#s{index}>" for index in range(len(SPECIALS))]
    return "\n".join(lines) + "\n"


def test_yaml_specials_stay_strings(workdir: Path) -> None:
    env = child_environment(workdir / "secrets.yaml")
    answer = run_cli(["generate", "-"], specials_input().encode(), env, workdir)
    assert answer.code == 0, answer.stderr
    assert answer.stderr == ""
    text = answer.stdout.decode("utf-8")
    for reader, (config_map, secret) in zip(("PyYAML", "yamlcodec"), parse_both(text), strict=True):
        wrong = [
            (value, reader)
            for index, value in enumerate(SPECIALS)
            if config_map["data"][f"whole{index}"] != value
            or config_map["data"][f"inside{index}"] != f"pre {value} post"
            or secret["stringData"][f"whole{index}"] != value
        ]
        assert not wrong
