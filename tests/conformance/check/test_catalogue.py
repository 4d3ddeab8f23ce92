"""Every mistake of the catalogue is reported with file, document and object, with the file
backend and with the real Azure SDK against the Key Vault test server; clean cases pass; no
output ever contains a value."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from click.testing import CliRunner, Result

from avp_py.backends.azurekeyvault import AzureKeyVaultBackend
from avp_py.backends.base import MetadataBackend
from avp_py.cli.app import cli
from tests.kvserver import KeyVaultServer

from .spec import CATALOGUE, catalogue, file_env, sentinels

SPEC = catalogue()
FORMATS = ("json", "text", "markdown", "junit", "sarif")


def _cases() -> list[Any]:
    return [
        pytest.param(case, backend, id=f"{backend}-{case['file'].split('/')[-1][:-5]}")
        for case in SPEC["cases"]
        for backend in case.get("backends", ["file", "azure"])
    ]


def _run(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, ["check", "--app", SPEC["app"], *args], env=env)


def _text_block(text: str, file: str, document: int) -> list[str]:
    """The finding lines of one document in the text report (under each of its headings: one
    per object, so one per item of a List)."""
    lines = text.splitlines()
    start = lines.index(file)
    block, inside = [], False
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            if not line.startswith("  "):
                break  # the next file, or the summary
            inside = line.startswith(f"  document {document} (line ")
        elif inside:
            block.append(line)
    return block


def _junit(text: str) -> set[tuple[str, str, str]]:
    """(severity, code, object) of every test case that is a finding, parsed back."""
    found = set()
    for testcase in ET.fromstring(text).iter("testcase"):
        fields = {p.get("name"): p.get("value", "") for p in testcase.iter("property")}
        if not fields:
            continue  # the passing case of a clean check
        assert testcase.get("name", "").endswith(f"[{fields['code']}]")
        severity = "error" if testcase.find("failure") is not None else "warning"
        found.add((severity, fields["code"], fields["object"]))
    return found


def _sarif(text: str) -> set[tuple[str, str, str, str]]:
    """(level, rule, file, object) of every SARIF result."""
    (run,) = json.loads(text)["runs"]
    found = set()
    for result in run["results"]:
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        obj = result["properties"]["object"]
        found.add((result["level"], result["ruleId"], uri, obj))
    return found


def _expected(case: dict[str, Any], backend: str) -> set[tuple[str, str, int, str]]:
    found = set()
    for severity, code, document, obj in case["findings"]:
        found.add((severity, code, document, obj))
    return found


@pytest.mark.keyvault
@pytest.mark.parametrize(("case", "backend"), _cases())
def test_catalogue(
    case: dict[str, Any],
    backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(CATALOGUE)
    env = request.getfixturevalue("azure_env") if backend == "azure" else file_env()
    env["AVP_SECRET_NAME_PATTERN"] = SPEC["pattern"]
    results = {fmt: _run(["--format", fmt, case["file"]], env) for fmt in FORMATS}
    for fmt, result in results.items():
        assert result.exit_code == case["exit_code"], (fmt, result.output, result.stderr)
        assert result.stderr == ""
        for value in sentinels():
            assert value not in result.stdout + result.stderr, fmt

    report = json.loads(results["json"].stdout)
    assert {f["file"] for f in report["findings"]} <= {case["file"]}
    got = {(f["severity"], f["code"], f["document"], f["object"]) for f in report["findings"]}
    assert got == _expected(case, backend)
    for severity, code, document, obj in _expected(case, backend):
        block = _text_block(results["text"].stdout, case["file"], document)
        assert any(
            line.startswith(f"    {severity:<7} ") and obj in line and line.endswith(f"[{code}]")
            for line in block
        ), block
        assert f"`{case['file']}`" in results["markdown"].stdout
        assert obj in results["markdown"].stdout and f"`{code}`" in results["markdown"].stdout
    assert _junit(results["junit"].stdout) == {
        (severity, code, obj) for severity, code, _, obj in _expected(case, backend)
    }
    assert _sarif(results["sarif"].stdout) == {
        (severity, code, case["file"], obj) for severity, code, _, obj in _expected(case, backend)
    }
    messages = " ".join(f["message"] for f in report["findings"])
    for text in case.get("messages", []):
        assert text in messages, (text, messages)

    if "strict_exit_code" in case:
        strict = _run(["--strict", case["file"]], env)
        assert strict.exit_code == case["strict_exit_code"], strict.output
    if backend == "azure":  # the Azure backend reads states from metadata: no value
        assert issubclass(AzureKeyVaultBackend, MetadataBackend)
        kv: KeyVaultServer = request.getfixturevalue("kv")
        assert kv.counts(SPEC["vault"], "get") == 0, "a value was read although listing works"


def test_catalogue_covers_every_mistake_of_the_issue() -> None:
    mistakes = " ".join(case["mistake"] for case in SPEC["cases"])
    for words in (
        "typo in a SecretProviderClass objectName",
        "does not exist yet",
        "disabled",
        "objectVersion that does not exist",
        "secretObjects key",
        "without the application's prefix",
        "ConfigMap",
    ):
        assert words in mistakes
    files = {path.relative_to(CATALOGUE).as_posix() for path in CATALOGUE.glob("*/*.yaml")}
    assert files == {case["file"] for case in SPEC["cases"]}
