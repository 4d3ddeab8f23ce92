"""Input discovery and decoding (AVP's walk rules, fail-closed additions)."""

from __future__ import annotations

import codecs
import os
import threading
from pathlib import Path

import pytest

from avp_py import sources
from avp_py.errors import InputError, ManifestParseError
from avp_py.sources import decode, discover, read_file


def _tree(root: Path) -> None:
    for name in ("b.yaml", "B.yml", "a.json", "c.YAML", "notes.txt", "sub/z.yaml", ".git/x.yaml"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kind: X\n")


def test_directory_walk_order_and_extensions(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = [os.path.relpath(p, tmp_path) for p in discover(str(tmp_path))]
    assert found == [".git/x.yaml", "B.yml", "a.json", "b.yaml", "sub/z.yaml"]


def test_single_file_roots(tmp_path: Path) -> None:
    assert discover(str(tmp_path / "missing.yaml")) == [str(tmp_path / "missing.yaml")]
    assert discover(str(tmp_path / "manifest.txt")) == []


def test_symlinks(tmp_path: Path) -> None:
    inside = tmp_path / "app"
    inside.mkdir()
    (inside / "real.yaml").write_text("kind: X\n")
    (inside / "alias.yaml").symlink_to(inside / "real.yaml")
    (inside / "linked-dir").symlink_to(inside)
    assert [Path(p).name for p in discover(str(inside))] == ["alias.yaml", "real.yaml"]
    secret = tmp_path / "outside.yaml"
    secret.write_text("kind: X\n")
    (inside / "escape.yaml").symlink_to(secret)
    with pytest.raises(InputError, match="symlink points outside"):
        discover(str(inside))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="could not read file: .*missing.yaml from disk"):
        read_file(str(tmp_path / "missing.yaml"), 1000)


def test_size_limit_reads_only_what_it_needs(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a" * 5000)
    with pytest.raises(InputError, match="larger than 1000 bytes"):
        read_file(str(big), 1000)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + b"kind: X\n", "kind: X\n"),
        ("kind: X\n".encode("utf-16"), "kind: X\n"),
        ("k: é\n".encode(), "k: é\n"),
    ],
)
def test_decoding(data: bytes, text: str) -> None:
    assert decode("f", data, 1000).text == text


@pytest.mark.parametrize(
    ("data", "reason"), [(b"k: \xff\xfe\n", "not UTF-8"), (b"k: a\x00b", "NUL")]
)
def test_binary_input_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ManifestParseError, match=reason):
        decode("f", data, 1000)


def test_a_walked_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    # Issue 11, item 12; the hostile suite runs the same through the console script.
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(InputError, match=r"pipe.yaml: not a regular file \(a FIFO\)"):
        discover(str(tmp_path))
    # Swapped in after the walk: opened non-blocking, refused from fstat.
    with pytest.raises(InputError, match=r"pipe.yaml: not a regular file \(a FIFO\)"):
        read_file(str(tmp_path / "pipe.yaml"), 1000, walked=True)


def test_a_fifo_named_on_the_command_line_is_read_like_stdin(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("kind: X\n",))
    writer.start()
    assert read_file(str(fifo), 1000).text == "kind: X\n"
    writer.join()


def test_symlink_loops_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    with pytest.raises(InputError, match=r"a.yaml: symlink loop; refusing to read it"):
        discover(str(tmp_path))


def test_a_dangling_symlink_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to("nowhere.yaml")
    with pytest.raises(InputError, match=r"could not read file: .*gone.yaml from disk"):
        discover(str(tmp_path))


def test_the_walk_keeps_depth_first_order_and_bounds_the_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a/b/c/1.yaml", "a/b/2.yaml", "a/3.yaml", "a0.yaml", "b/4.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kind: X\n")
    found = [os.path.relpath(p, tmp_path) for p in discover(str(tmp_path))]
    assert found == ["a/3.yaml", "a/b/2.yaml", "a/b/c/1.yaml", "a0.yaml", "b/4.yaml"]
    monkeypatch.setattr(sources, "MAX_TREE_DEPTH", 2)
    with pytest.raises(InputError, match=r"a/b/c: the directory tree is deeper than 2 levels"):
        discover(str(tmp_path))


def _chart(root: Path) -> Path:
    (root / "templates" / "sub").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (root / "templates" / "sub" / "deep.yaml").write_text("kind: ConfigMap\n")
    return root


def test_a_helm_chart_s_templates_are_refused_naming_the_helm_plugin(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "demo")
    (tmp_path / "other" / "templates").mkdir(parents=True)  # no Chart.yaml: plain manifests
    (tmp_path / "other" / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    assert discover(str(tmp_path / "other")) == [str(tmp_path / "other/templates/cm.yaml")]
    for given in (tmp_path, chart, chart / "templates" / "sub" / "deep.yaml"):
        with pytest.raises(InputError) as caught:
            discover(str(given))
        message = str(caught.value)
        assert message.startswith(f"{chart} is a Helm chart ({chart}/Chart.yaml and templates/)")
        assert "argocd-vault-plugin-helm" in message and f"helm template {chart} |" in message


def test_every_chart_of_a_tree_is_named(tmp_path: Path) -> None:
    first, second = _chart(tmp_path / "a"), _chart(tmp_path / "b")
    with pytest.raises(InputError) as caught:
        discover(str(tmp_path))
    assert str(caught.value).startswith(f"{first} is a Helm chart")
    assert list(caught.value.details()) == [f"also a Helm chart: {second}"]
