"""Docs true to the repository (issue 10 item 9): links resolve, one minimum Argo CD version,
a LICENSE that matches the package metadata."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache"}

# The minimum Argo CD version, and why: the plugins have no `discover` section (they run only
# for Applications that name them), which argocd-cmp-server accepts since v2.7 (argo-cd#12073;
# v2.6 refuses such a plugin.yaml). Everything else used (CMP v2 sidecars, the ARGOCD_ENV_
# prefix of v2.4, ARGOCD_APP_*, KUBE_VERSION, KUBE_API_VERSIONS) is older.
MINIMUM_ARGO_CD = "2.7"


def markdown_files() -> list[Path]:
    return sorted(
        path for path in REPO.rglob("*.md") if not SKIP_DIRS & set(path.relative_to(REPO).parts)
    )


FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code (links there are examples)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def github_anchor(heading: str) -> str:
    """GitHub's heading id: markup dropped, lower case, punctuation removed, spaces -> '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        anchor = github_anchor(match.group(2))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    text = path.read_text(encoding="utf-8")
    found.update(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
    return found


def relative_links(path: Path) -> list[str]:
    targets = LINK.findall(prose(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]


def test_the_anchor_rule_matches_githubs() -> None:
    """Guard for the link test: anchors as GitHub renders them for headings used here."""
    assert github_anchor("Differences from AVP") == "differences-from-avp"
    assert github_anchor("Settings of the Helm plugin (`plugin.env`)") == (
        "settings-of-the-helm-plugin-pluginenv"
    )
    assert github_anchor("The CMP route: vouch-proxy") == "the-cmp-route-vouch-proxy"
    assert github_anchor("2. Workload identity") == "2-workload-identity"


def test_markdown_files_are_found() -> None:
    names = {path.relative_to(REPO).as_posix() for path in markdown_files()}
    assert {"README.md", "docs/argocd.md", "examples/vouch-proxy/README.md"} <= names


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(path: Path) -> None:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: {destination.relative_to(REPO)} does not exist")
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(REPO)}")
    assert broken == []


TOP_LEVEL = ("avp_py/", "tests/", "docs/", "deploy/", "examples/", "scripts/", "bench/", ".github/")
PATH_MENTION = re.compile(r"`([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]*)`")


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_repository_path_named_in_code_spans_exists(path: Path) -> None:
    """`docs/argocd.md`-style mentions count as links too: they must name files that exist."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    missing = [
        mention
        for mention in PATH_MENTION.findall(text)
        if mention.startswith(TOP_LEVEL) and not (REPO / mention.rstrip("/")).exists()
    ]
    assert missing == []


def test_the_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    """Guard: the checker really fails on a missing file and on a missing anchor."""
    (tmp_path / "a.md").write_text("# Title\n", encoding="utf-8")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md) [ok](a.md#title) [bad](missing.md) [bad](a.md#nope) `[code](x.md)`\n"
        "```\n[fenced](y.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["a.md", "a.md#title", "missing.md", "a.md#nope"]
    assert anchors(tmp_path / "a.md") == {"title"}


# --------------------------------------------------------------------------- Argo CD version

# "2.7 or later", "2.7+", "Argo CD >= 2.7": a version with a lower-bound marker, counted when
# Argo CD is named shortly before it (not Python's or helm's versions).
VERSION_BOUND = re.compile(
    r"(?:≥|>=) ?v?(\d+\.\d+)|\bv?(\d+\.\d+)(?:\.\d+)?(?:\+| or later| or newer)"
)
VERSIONED_FILES = [
    "README.md",
    "docs/argocd.md",
    "docs/security.md",
    "plugin.yaml",
    "deploy/kustomization.yaml",
    "deploy/component/kustomization.yaml",
    "examples/vouch-proxy/README.md",
]


def minimum_versions_mentioned() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name in VERSIONED_FILES:
        text = " ".join((REPO / name).read_text(encoding="utf-8").split())
        for match in VERSION_BOUND.finditer(text):
            before = text[max(0, match.start() - 120) : match.start()]
            if re.search(r"Argo ?CD|argo-cd", before, re.I) and "Python" not in before[-30:]:
                found.setdefault(name, set()).add(next(g for g in match.groups() if g))
    return found


def test_one_minimum_argo_cd_version_everywhere() -> None:
    found = minimum_versions_mentioned()
    assert {version for versions in found.values() for version in versions} == {MINIMUM_ARGO_CD}
    # where users look for it
    assert {"README.md", "docs/argocd.md", "plugin.yaml", "deploy/kustomization.yaml"} <= set(found)


def test_docs_say_why_that_version() -> None:
    text = " ".join((REPO / "docs" / "argocd.md").read_text(encoding="utf-8").split())
    assert "argo-cd#12073" in text or "argoproj/argo-cd/pull/12073" in text
    assert "discover" in text


# --------------------------------------------------------------------------- licence

# sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the standard text.
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def test_license_file_is_the_apache_2_text_the_metadata_names() -> None:
    license_text = (REPO / "LICENSE").read_bytes()
    assert hashlib.sha256(license_text).hexdigest() == APACHE_2_SHA256
    assert b"Version 2.0, January 2004" in license_text
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = (\{ text = )?"Apache-2.0"', pyproject, re.M)
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert 'org.opencontainers.image.licenses="Apache-2.0"' in dockerfile
