"""The import contracts cover the whole package: a new module cannot slip past them.

``lint-imports`` (scripts/test) checks the contracts in pyproject.toml; it says nothing about a
module that no contract names. Here every module under ``avp_py/`` must be in a layer (a
top-level module, or inside a package that is one), each layer must exist, and the "only X
imports Y" contracts must start from the whole package.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # import-linter depends on tomli before Python 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "avp_py"


def contracts() -> list[Mapping[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    found: list[Mapping[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return found


def layered_names(contract: Mapping[str, Any]) -> set[str]:
    """Every module a layers contract names, as a full dotted name."""
    names = {name for layer in contract["layers"] for name in re.split(r"[|:]", layer)}
    containers = contract.get("containers", [""])
    return {f"{c}.{n.strip()}" if c else n.strip() for c in containers for n in names}


def modules(root: Path = REPO / PACKAGE) -> set[str]:
    """The dotted names of the package's modules and subpackages, from the files."""
    found = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def outside_layers(names: Iterable[str], layered: set[str]) -> list[str]:
    """The modules neither named by a layer nor inside a package that is."""
    left = []
    for name in names:
        parts = name.split(".")
        ancestors = {".".join(parts[:end]) for end in range(2, len(parts) + 1)}
        if name != PACKAGE and not ancestors & layered:
            left.append(name)
    return sorted(left)


def _layers() -> Mapping[str, Any]:
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    return layers


def test_every_module_is_in_a_layer() -> None:
    assert outside_layers(modules(), layered_names(_layers())) == []


def test_the_check_finds_a_module_in_no_layer() -> None:
    layered = layered_names(_layers())
    new = ["avp_py.newstage", "avp_py.backends.newbackend", "avp_py.cli.newcommand"]
    assert outside_layers(new, layered) == ["avp_py.newstage"]


def test_every_layer_names_a_module_that_exists() -> None:
    assert layered_names(_layers()) - modules() == set()


def test_the_only_x_imports_y_contracts_start_from_the_whole_package() -> None:
    forbidden = [
        c for c in contracts() if c["type"] == "forbidden" and c["name"].startswith("Only")
    ]
    assert len(forbidden) == 3
    for contract in forbidden:
        assert contract["source_modules"] == [PACKAGE], contract["name"]
