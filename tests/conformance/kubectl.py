"""kubectl as the stand-in for Argo CD's reader: it carries the go-yaml v2, sigs.k8s.io/yaml and
client-go JSONPath code AVP 1.18.1 runs on (issue 10 item 8). Tests that use it skip cleanly
when it is not installed.

``kubectl label --local -f PATH x=y`` reads manifests offline exactly as Argo CD does and adds
one label; objects with an ``items`` list are flattened into their items, as Argo CD does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

LABEL = ("x", "y")
_TIMEOUT = 60


def kubectl_path() -> str:
    """The kubectl binary, or skip the calling test."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed")
    return found


def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """One kubectl call, offline (no cluster, no kubeconfig needed)."""
    command = [kubectl_path(), *args]
    env = {"PATH": "/usr/bin:/bin", "KUBECONFIG": "/dev/null", "HOME": "/nonexistent"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=_TIMEOUT, env=env, check=False
    )


def read(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Every object kubectl reads from a file or a directory (in its order), and its stderr."""
    done = run(["label", "--local", "-f", str(path), f"{LABEL[0]}={LABEL[1]}", "-o", "json"])
    return parse_stream(done.stdout), done.stderr


def jsonpath(path: Path, template: str) -> tuple[str, str, int]:
    """``kubectl -o jsonpath`` over one object, with missing keys an error as in AVP."""
    done = run(
        [
            "label",
            "--local",
            "-f",
            str(path),
            f"{LABEL[0]}={LABEL[1]}",
            "--allow-missing-template-keys=false",
            "-o",
            f"jsonpath={template}",
        ]
    )
    return done.stdout, done.stderr, done.returncode


def parse_stream(text: str) -> list[dict[str, Any]]:
    """kubectl prints one JSON object after another (a single object is not wrapped)."""
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return objects
        value, position = decoder.raw_decode(text, position)
        objects.append(value)


def as_kubectl_reads(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What kubectl prints for one object we read: its items if it is a list, labelled."""
    items = body.get("items")
    objects = items if isinstance(items, list) else [body]
    return [_labelled(item) for item in objects]


def _labelled(body: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    metadata = copy.setdefault("metadata", {})
    labels = metadata.get("labels") or {}
    metadata["labels"] = {**labels, LABEL[0]: LABEL[1]}
    return copy


def same(ours: object, theirs: object) -> bool:
    """Equal as JSON values: numbers by value, but a bool is never a number."""
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return ours == theirs
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(same, ours, theirs))
    return type(ours) is type(theirs) and ours == theirs
