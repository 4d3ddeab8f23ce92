"""Real renders through avp-py (issue 10 item 7): charts nobody on this project wrote.

tests/data/real-charts/ holds real Helm and kustomize output (PROVENANCE.md). For each render:
every document with nothing to fill comes out byte for byte, and the documents with
placeholders come out filled exactly as an independent, minimal reference fill says (AVP's
inline and generic placeholders, `base64encode`/`sha256sum`, base64 Secret data decoded and
re-encoded). The `.avp-out.yaml` files an earlier avp-py printed are checked against that
reference before avp-py's output is compared with them.

examples/vouch-proxy/rendered.yaml is the vouch render in Helm 3's layout for the example's
current values: the test derives it (AVP_UPDATE_GOLDEN=1 rewrites it) and says why each step
is exact.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "real-charts"
EXAMPLE = REPO / "examples" / "vouch-proxy"
VOUCH = "vouch-3.2.0_example-values"
KUBECTL = shutil.which("kubectl")


class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader, plus the YAML 1.1 value key `=` (kube-prometheus-stack has one);
    go-yaml reads it as the string "="."""


Loader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)  # type: ignore[arg-type]


def parse(doc: str) -> Any:
    return yaml.load(doc, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


def read(name: str) -> str:
    raw = (DATA / name).read_bytes()
    return (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")


def load_secrets(path: Path) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def run_avp_py(text: str, secrets: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "AVP_TYPE": "file",
        "AVP_FILE_PATH": str(secrets),
    }
    return subprocess.run(
        [sys.executable, "-m", "avp_py", "generate", "-"],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


# --------------------------------------------------------------------------- stream framing

SEPARATOR = re.compile(r"(?m)^---[ \t]*\r?\n")


def documents(stream: str) -> list[str]:
    """The documents of a stream, split where AVP's decoder splits (a `---` line at column 0),
    without the empty and comment-only ones (they decode to nothing and are not printed)."""
    return [doc for doc in SEPARATOR.split(stream) if has_content(doc)]


def has_content(doc: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in doc.splitlines())


def test_framing_guard() -> None:
    stream = "---\n# Source: a\nx: 1\n---\n# only a comment\n---\n  ---\n y: |\n  ---\n"
    assert documents(stream) == ["# Source: a\nx: 1\n", "  ---\n y: |\n  ---\n"]


# --------------------------------------------------------------------------- reference fill

INLINE = re.compile(r"<path:([^#<>|\s]+)#([^#<>|\s]+)((?:\s*\|\s*[A-Za-z0-9]+)*)\s*>")
GENERIC = re.compile(r"<([A-Za-z0-9_.-]+)((?:\s*\|\s*[A-Za-z0-9]+)*)\s*>")
MODIFIERS: dict[str, Callable[[str], str]] = {
    "base64encode": lambda v: base64.b64encode(v.encode()).decode(),
    "sha256sum": lambda v: hashlib.sha256(v.encode()).hexdigest(),
}


def apply(value: str, modifiers: str) -> str:
    for name in filter(None, (part.strip() for part in modifiers.split("|"))):
        value = MODIFIERS[name](value)
    return value


def fill_string(text: str, secrets: dict[str, dict[str, str]], path: str | None) -> str:
    text = INLINE.sub(lambda m: apply(secrets[m[1]][m[2]], m[3]), text)
    if path is not None:
        text = GENERIC.sub(lambda m: apply(secrets[path][m[1]], m[2]), text)
    return text


def fill(obj: Any, secrets: dict[str, dict[str, str]], path: str | None) -> Any:
    if isinstance(obj, dict):
        return {key: fill(value, secrets, path) for key, value in obj.items()}
    if isinstance(obj, list):
        return [fill(item, secrets, path) for item in obj]
    if isinstance(obj, str):
        return fill_string(obj, secrets, path)
    return obj


def reference_fill(doc: dict[str, Any], secrets: dict[str, dict[str, str]]) -> dict[str, Any]:
    """AVP's semantics for the shapes these renders use: placeholders in every string; the
    annotation path enables generic ones; a Secret's base64 `data` is decoded, filled and
    re-encoded."""
    path = (doc.get("metadata", {}).get("annotations") or {}).get("avp.kubernetes.io/path")
    filled: dict[str, Any] = fill(doc, secrets, path)
    if doc.get("kind") == "Secret" and isinstance(doc.get("data"), dict):
        filled["data"] = {
            key: fill_base64(value, secrets, path) for key, value in doc["data"].items()
        }
    return filled


def fill_base64(value: str, secrets: dict[str, dict[str, str]], path: str | None) -> str:
    try:
        text = base64.b64decode(value, validate=False).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return value  # binary data: nothing to fill
    filled = fill_string(text, secrets, path)
    return value if filled == text else base64.b64encode(filled.encode()).decode()


# --------------------------------------------------------------------------- the renders

RENDERS = {
    # name: (render, secrets file, documents expected to be filled)
    "vouch-3.2.0": (f"{VOUCH}.helm.yaml", DATA / f"{VOUCH}.secrets.yaml", 2),
    "vouch-3.2.0-example-helm3": (None, EXAMPLE / "secrets.yaml", 2),
    "cert-manager": ("cert-manager_2d0d7f7f.helm.yaml.gz", EXAMPLE / "secrets.yaml", 0),
    "argo-cd-10.1.1": ("argo-cd-10.1.1.helm.yaml.gz", EXAMPLE / "secrets.yaml", 0),
    "kube-prometheus-stack-88.5.3": (
        "kube-prometheus-stack-88.5.3.helm.yaml.gz",
        EXAMPLE / "secrets.yaml",
        0,
    ),
    "kustomize-secretgenerator": (
        "kustomize-secretgenerator.build.yaml",
        DATA / "kustomize-secretgenerator.secrets.yaml",
        3,
    ),
}


def render_text(name: str) -> str:
    source = RENDERS[name][0]
    if source is None:
        return (EXAMPLE / "rendered.yaml").read_text(encoding="utf-8")
    return read(source)


@pytest.mark.parametrize("name", sorted(RENDERS))
def test_real_render_untouched_documents_pass_through_and_placeholders_fill(name: str) -> None:
    source, secrets_file, filled_count = RENDERS[name]
    text = render_text(name)
    secrets = load_secrets(secrets_file)
    result = run_avp_py(text, secrets_file)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    inputs, outputs = documents(text), documents(result.stdout)
    assert len(outputs) == len(inputs)
    filled = 0
    for index, (before, after) in enumerate(zip(inputs, outputs, strict=True)):
        parsed = parse(before)
        expected = reference_fill(parsed, secrets)
        if expected == parsed:
            assert after == before, f"document {index + 1} changed"
            continue
        filled += 1
        assert parse(after) == expected, f"document {index + 1}"
        assert after.startswith(before.split("\n", 1)[0] + "\n"), "the # Source comment stays"
    assert filled == filled_count
    for vault in secrets.values():
        for value in vault.values():
            assert value not in result.stderr


@pytest.mark.parametrize(
    ("render", "secrets", "earlier"),
    [
        (f"{VOUCH}.helm.yaml", f"{VOUCH}.secrets.yaml", f"{VOUCH}.avp-out.yaml"),
        (
            "kustomize-secretgenerator.build.yaml",
            "kustomize-secretgenerator.secrets.yaml",
            "kustomize-secretgenerator.avp-out.yaml",
        ),
    ],
)
def test_earlier_outputs_are_right_and_still_produced(
    render: str, secrets: str, earlier: str
) -> None:
    """The stored .avp-out.yaml: first checked against the reference fill, then compared with
    what avp-py prints now (byte for byte)."""
    inputs, stored = documents(read(render)), documents(read(earlier))
    assert len(stored) == len(inputs)
    values = load_secrets(DATA / secrets)
    for before, after in zip(inputs, stored, strict=True):
        assert parse(after) == reference_fill(parse(before), values)
    result = run_avp_py(read(render), DATA / secrets)
    assert result.returncode == 0, result.stderr
    assert result.stdout == read(earlier)


def test_reference_fill_guard() -> None:
    """The reference fill really fills, so the comparisons above can fail."""
    secrets = {"kv": {"a": "A", "g": "G"}}
    doc = {
        "kind": "Secret",
        "metadata": {"annotations": {"avp.kubernetes.io/path": "kv"}},
        "stringData": {"x": "<path:kv#a> <path:kv#a | sha256sum> <g | base64encode>"},
        "data": {"y": base64.b64encode(b"<path:kv#a>").decode()},
    }
    filled = reference_fill(doc, secrets)
    assert filled["stringData"]["x"] == f"A {hashlib.sha256(b'A').hexdigest()} Rw=="
    assert filled["data"]["y"] == "QQ=="


# --------------------------------------------------------------------------- the example

# The example's secrets were renamed after the real render (issue 11: one dash-free word after
# `{app}-`); nothing else in its values changed (checked below).
RENAMED = {
    "vouch-proxy-oauth-client-secret": "vouch-proxy-oauthClientSecret",
    "vouch-proxy-jwt-secret": "vouch-proxy-jwtSecret",
}
SOURCE_HEADER = re.compile(r"(?m)^---\n(# Source: [^\n]*\n)")
CHECKSUM = re.compile(r'checksum/secret: "([0-9a-f]{64})"')


def helm_documents(stream: str) -> list[tuple[str, str]]:
    """(# Source line, body) of each document `helm template` printed."""
    parts = SOURCE_HEADER.split(stream)
    assert parts[0] == ""
    return list(zip(parts[1::2], parts[2::2], strict=True))


def secret_template_checksum(secret_body: str) -> str:
    """The chart's `checksum/secret`: sha256 of secret.yaml's template output, which is the
    document Helm prints with the template's leading and trailing newline."""
    return hashlib.sha256(("\n" + secret_body.strip() + "\n").encode()).hexdigest()


def helm3_layout(stream: str) -> str:
    """As Helm 3 prints it: releaseutil.SplitManifests trims every document (strings.TrimSpace)
    and `helm template` writes `---\\n# Source: NAME\\n` + document, one newline between."""
    docs = [source + body.strip(" \t\r\n") for source, body in helm_documents(stream)]
    return "\n".join(f"---\n{doc}" for doc in docs) + "\n"


def derive_example_render() -> str:
    real = read(f"{VOUCH}.helm.yaml")
    (secret_body,) = [b for s, b in helm_documents(real) if s.endswith("/secret.yaml\n")]
    # the checksum rule, proven on the real render before it is used
    assert CHECKSUM.findall(real) == [secret_template_checksum(secret_body)]
    renamed = real
    for old, new in RENAMED.items():
        renamed = renamed.replace(old, new)
    (new_secret,) = [b for s, b in helm_documents(renamed) if s.endswith("/secret.yaml\n")]
    renamed = CHECKSUM.sub(f'checksum/secret: "{secret_template_checksum(new_secret)}"', renamed)
    return helm3_layout(renamed)


def test_example_values_are_the_rendered_values_with_the_renamed_secrets() -> None:
    rendered_with = (DATA / f"{VOUCH}.values.yaml").read_text(encoding="utf-8")
    for old, new in RENAMED.items():
        rendered_with = rendered_with.replace(old, new)
    current = (EXAMPLE / "values.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(current) == yaml.safe_load(rendered_with), (
        "examples/vouch-proxy/values.yaml changed: render the chart again (PROVENANCE.md)"
    )
    secrets = load_secrets(EXAMPLE / "secrets.yaml")["kv-platform-prod"]
    assert set(RENAMED.values()) <= set(secrets)


def test_example_rendered_yaml_is_the_real_render_in_helm3_layout() -> None:
    derived = derive_example_render()
    target = EXAMPLE / "rendered.yaml"
    if os.environ.get("AVP_UPDATE_GOLDEN"):
        target.write_text(derived, encoding="utf-8")
    assert target.read_text(encoding="utf-8") == derived


def test_helm3_layout_guard() -> None:
    stream = "---\n# Source: c/a.yaml\nx: 1\n\n---\n# Source: c/b.yaml\ny: \n  z: 2\n\n"
    assert (
        helm3_layout(stream)
        == "---\n# Source: c/a.yaml\nx: 1\n---\n# Source: c/b.yaml\ny: \n  z: 2\n"
    )


def test_example_names_the_rendered_chart_version() -> None:
    chart = yaml.safe_load((EXAMPLE / "Chart.yaml").read_text(encoding="utf-8"))
    (dependency,) = chart["dependencies"]
    assert (dependency["name"], dependency["version"]) == ("vouch", "3.2.0")
    rendered = (EXAMPLE / "rendered.yaml").read_text(encoding="utf-8")
    assert set(re.findall(r"helm\.sh/chart: (\S+)", rendered)) == {"vouch-3.2.0"}
    assert set(re.findall(r"app\.kubernetes\.io/version: (\S+)", rendered)) == {'"0.39"'}


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_demo_output_is_read_by_kubectl(tmp_path: Path) -> None:
    """scripts/demo (the example through the file backend), read back as Argo CD reads it."""
    demo = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert demo.returncode == 0, demo.stderr
    out = tmp_path / "demo.yaml"
    out.write_text(demo.stdout, encoding="utf-8")
    assert KUBECTL is not None
    read_back = subprocess.run(
        [KUBECTL, "label", "--local", "-f", str(out), "avp-py/checked=yes", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert read_back.returncode == 0, read_back.stderr
    items, text, decoder = [], read_back.stdout.strip(), json.JSONDecoder()
    while text:  # kubectl prints one JSON object per manifest
        item, end = decoder.raw_decode(text)
        items.append(item)
        text = text[end:].strip()
    kinds = [item["kind"] for item in items]
    assert kinds == ["ServiceAccount", "Secret", "Service", "Deployment", "Ingress"]
    secret = items[kinds.index("Secret")]
    config = yaml.safe_load(secret["stringData"]["config.yaml"])
    values = load_secrets(EXAMPLE / "secrets.yaml")["kv-platform-prod"]
    assert config["oauth"]["client_secret"] == values["vouch-proxy-oauthClientSecret"]
    assert config["vouch"]["jwt"]["secret"] == values["vouch-proxy-jwtSecret"]
