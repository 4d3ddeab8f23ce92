"""Differential tests against kubectl, Argo CD's reader (issue 10 "Done when" and item 8).

* every golden output of ``cases/`` read back by kubectl is what the case means: the objects
  the render held just before the write step turned them into text (a spy on
  ``output.write``; the case runs in-process as in ``test_cases``), flattened as Argo CD
  flattens Lists, so neither our writer nor our reader is the judge of our output;
* the same outputs read by our reader and by kubectl agree (one kubectl call for all);
* YAML values go-yaml v2 types, rejects or tags in a way libyaml alone would not;
* JSON text with lone surrogates and out-of-range numbers;
* client-go JSONPath printing (nulls) as the ``jsonPath`` modifier does it.

Each skips cleanly without kubectl.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from avp_py import documents, jsonpath, modifiers, output, yamlcodec
from avp_py.budget import Budget
from avp_py.cli.app import cli
from avp_py.errors import AvpError
from avp_py.model import YamlNode
from avp_py.sources import Source
from tests.conformance import kubectl
from tests.conformance.test_cases import _case_dirs, _environment, _keyvault, _spec, _stdin

CASES = Path(__file__).parent / "cases"
_LIMITS = yamlcodec.Limits(max_nodes=1_000_000, max_depth=200)


def _our_objects(name: str, text: str) -> list[dict[str, Any]]:
    loaded = documents.load([Source(name, text)], _LIMITS, directory_mode=False, load_all=True)
    return [
        obj for doc in loaded if doc.body is not None for obj in kubectl.as_kubectl_reads(doc.body)
    ]


Written = tuple[Sequence[documents.Document], Mapping[int, YamlNode]]
GOLDEN_CASES = [case for case in _case_dirs() if (case / "expected.yaml").is_file()]


def _render_objects(case: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The objects the case's render wrote, as the write step received them, as kubectl lists
    them: a replaced body, else the body as read (a passed-through document as our reader reads
    its text, which is written unchanged), a List as its items."""
    written: list[Written] = []
    write = output.write

    def spy(
        docs: Sequence[documents.Document], replaced: Mapping[int, YamlNode], budget: Budget
    ) -> str:
        written.append((list(docs), dict(replaced)))
        return write(docs, replaced, budget)

    monkeypatch.setattr(output, "write", spy)
    spec = _spec(case)
    args = [str(a) for a in spec.get("args", ["generate", "-"])]
    monkeypatch.chdir(case)
    env = _environment(case, spec)
    env["AVP_SERVER_SOCKET"] = ""  # in-process, where the spy is
    with _keyvault(spec, env):
        result = CliRunner().invoke(cli, args, input=_stdin(case, args), env=env)
    assert result.exit_code == 0, result.stderr
    ((docs, replaced),) = written
    objects: list[dict[str, Any]] = []
    for position, doc in enumerate(docs):
        body = replaced.get(position, doc.body)
        if body is None:
            body = yamlcodec.load_yaml(doc.chunk.text, _LIMITS)
        assert isinstance(body, dict)
        objects.extend(kubectl.as_kubectl_reads(body))
    return objects


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=lambda p: p.name)
def test_every_golden_output_reads_back_as_the_render_meant_it(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl.kubectl_path()
    golden = tmp_path / "expected.yaml"
    golden.write_bytes((case / "expected.yaml").read_bytes())
    meant = _render_objects(case, monkeypatch)
    theirs, stderr = kubectl.read(golden)
    assert stderr == ""
    assert len(theirs) == len(meant)
    for ours, read in zip(meant, theirs, strict=True):
        assert kubectl.same(ours, read), f"kubectl reads {read!r}, the render meant {ours!r}"


def test_every_golden_output_reads_back_as_we_read_it(tmp_path: Path) -> None:
    kubectl.kubectl_path()
    expected: list[tuple[str, dict[str, Any]]] = []
    for golden in sorted(CASES.glob("*/expected.yaml")):
        case = golden.parent.name
        text = golden.read_text()
        (tmp_path / f"{case}.yaml").write_text(text)
        expected.extend((case, obj) for obj in _our_objects(case, text))
    assert len(expected) > 40
    theirs, stderr = kubectl.read(tmp_path)
    assert stderr == ""
    assert len(theirs) == len(expected)
    for (case, ours), read in zip(expected, theirs, strict=True):
        assert kubectl.same(ours, read), f"{case}: kubectl reads {read!r}, we mean {ours!r}"


# YAML values (the `v:` of one object each): what go-yaml v2 makes of them, per issue 10 item 8.
YAML_VALUES = [
    # unquoted '?' inside a flow collection
    "{k: x?y}",
    "[x?y]",
    "[x?]",
    "[x ?y]",
    "{x?y: v}",
    "[a, [b?]]",
    "[?x]",
    "{? k: v}",
    "x?y",
    "['x?y']",
    # tags go-yaml v2 cannot resolve
    "!custom val",
    "!custom 5",
    "!custom {a: 1}",
    "!custom [1, x]",
    "!!python/object:os.system 5",
    "!!map 5",
    "!!str {a: 1}",
    "!!merge x",
    "{<<: !custom {a: 1}, b: 2}",
    "{!custom <<: {a: 1}}",
    "!!null x",
    # !!binary that is not UTF-8
    "!!binary /w==",
    "!!binary 4pw=",
    "!!binary 7aCA",
    "!!binary 4pyT/w==",
    # numbers
    "1e400",
    "1e-400",
    "99999999999999999999999",
]


def _widget(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  v: {value}\n"


def test_yaml_values_read_as_kubectl_reads_them(tmp_path: Path) -> None:
    kubectl.kubectl_path()
    ours: dict[str, object] = {}
    for number, value in enumerate(YAML_VALUES):
        name = f"w{number:03d}"
        text = _widget(name, value)
        (tmp_path / f"{name}.yaml").write_text(text)
        try:
            body = yamlcodec.load_yaml(text)
        except AvpError:
            ours[name] = "error"
            continue
        assert isinstance(body, dict)
        ours[name] = body["spec"]["v"]
    objects, stderr = kubectl.read(tmp_path)
    theirs: dict[str, object] = {obj["metadata"]["name"]: obj["spec"]["v"] for obj in objects}
    for number, value in enumerate(YAML_VALUES):
        name = f"w{number:03d}"
        if name not in theirs:
            assert f"{name}.yaml" in stderr
            assert ours[name] == "error", f"kubectl rejects {value!r}, we read {ours[name]!r}"
        else:
            assert kubectl.same(ours[name], theirs[name]), (value, ours[name], theirs[name])


def test_json_manifests_read_as_kubectl_reads_them(tmp_path: Path) -> None:
    kubectl.kubectl_path()
    text = '{"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "j"}, "spec": %s}'
    good = tmp_path / "good.json"
    good.write_text(text % '{"s": "\\ud800x", "t": "a\\udc80b", "u": "\\ud83d\\ude00"}')
    (theirs,), stderr = kubectl.read(good)
    assert stderr == ""
    assert kubectl.same(_our_objects("good", good.read_text())[0], theirs)
    bad = tmp_path / "bad.json"
    bad.write_text(text % '{"n": 1e400}')
    objects, stderr = kubectl.read(bad)
    assert objects == []
    assert "cannot unmarshal number 1e400 into Go value of type float64" in stderr
    with pytest.raises(AvpError, match="cannot unmarshal number into Go value of type float64"):
        _our_objects("bad", bad.read_text())


# The jsonPath modifier decodes a JSON value (numbers as float64); kubectl walks the object it
# read (integers as int64). The data holds no integer, whose printing would differ: the numbers
# are floats to both (issue 10 item 5: %v and json.Marshal of fractions and exponents).
JSONPATH_DATA = {
    "a": None,
    "b": ["one", None, True],
    "c": {"d": None, "e": "text"},
    "f": 1.5,
    "g": [{"k": None}, {"k": "v"}],
    "n": [0.5, 1e-7, 1e21, 12345678.9, -2.5e-10, 1234567.5],
    # lone surrogates (issue 10 item 8): U+FFFD to both, in values, keys and JSON output
    "s": "\ud800x",
    "t": {"\udc80": "a\udbffb"},
}
JSONPATH_TEMPLATES = [
    "{.spec.a}",
    "{.spec.b}",
    "{.spec.b[1]}",
    "{.spec.b[*]}",
    "{.spec.c}",
    "{.spec.c.d}",
    "{..d}",
    "{.spec.g[*].k}",
    "{range .spec.b[*]}[{@}]{end}",
    "{.spec.f}",
    "{.spec.a.x}",
    "{.spec.g[?(@.k)].k}",
    "{.spec.n}",
    "{.spec.n[*]}",
    "{.spec.n[3]}",
    "{.spec.s}",
    "{.spec.t}",
    "{.spec.t.*}",
    "{range .spec.t.*}[{@}]{end}",
]


@pytest.mark.parametrize("template", JSONPATH_TEMPLATES)
def test_json_path_prints_as_kubectl_prints(tmp_path: Path, template: str) -> None:
    kubectl.kubectl_path()
    obj = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "p"}, "spec": JSONPATH_DATA}
    path = tmp_path / "object.json"
    path.write_text(json.dumps(obj))
    stdout, stderr, code = kubectl.jsonpath(path, template)
    data = modifiers.decode_go_json(json.dumps(kubectl.as_kubectl_reads(obj)[0]))
    try:
        ours = jsonpath.evaluate(template, data)
    except jsonpath.JsonPathError as exc:
        assert code != 0, f"kubectl prints {stdout!r}, we fail with {exc}"
        assert str(exc) in stderr
        return
    assert code == 0, f"kubectl fails ({stderr.strip()}), we print {ours!r}"
    assert ours == stdout
