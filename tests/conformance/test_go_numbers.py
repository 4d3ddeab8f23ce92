"""Go's number rules (:mod:`avp_py.gocompat`) confirmed by kubectl, which carries the same
go-yaml v2, sigs.k8s.io/yaml and client-go JSONPath as AVP 1.18.1 (issue 10, item 5).

``kubectl label --local -f - x=y -o yaml`` reads a manifest and writes it again exactly as AVP
does (YAML → JSON → int64/float64 → ``json.Marshal`` → go-yaml); ``-o jsonpath`` prints with
client-go's ``%v`` and ``json.Marshal``. Skipped when kubectl is not installed.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from avp_py import gocompat, yamlcodec

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

# Plain YAML scalars of every class: int64, uint64, beyond uint64, integral floats (what
# jsonParse yields), fractions and exponents on both sides of json.Marshal's 1e-6 and 1e21.
LITERALS = [
    "4611686018427388000",
    "4611686018427388000.0",
    "9007199254740993",
    "9007199254740993.0",
    "9223372036854775807",
    "9223372036854775808",
    "10000000000000000000",
    "1e19",
    "18446744073709551615",
    "18446744073709551616",
    "1e20",
    "1e21",
    "123456789012345678901234567890",
    "1.5e300",
    "0.1",
    "0.5",
    "1234567.5",
    "123456789.5",
    "0.000001",
    "0.0000001",
    "1e-7",
    "-2.5e-10",
    "5e-324",
    "-0.0",
    "0755",
    "0x1F",
    "1_000",
    ".5",
    "1.",
]
# Fractions and huge floats only: a JSON integer is an int64 for kubectl but a float64 for
# AVP's jsonPath, and %v prints the two differently.
JSONPATH_FLOATS = [0.5, 1e-7, 12345678.9, 2.5e-8, 1e21, 1.5e300, 0.000001, -2.5e-10]


def _kubectl(manifest: str, output: str) -> str:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "label", "--local", "-f", "-", "x=y", "-o", output],
        input=manifest,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _manifest(values: list[str]) -> str:
    items = "".join(f"- {value}\n" for value in values)
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: numbers\nnumbers:\n{items}"


def _numbers(text: str) -> list[str]:
    """The ``- VALUE`` lines under ``numbers:``."""
    lines = text.splitlines()
    start = lines.index("numbers:") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("- ")), len(lines))
    return [line[2:] for line in lines[start:end]]


def _with_dot(text: str) -> str:
    """avp-py's one deliberate difference: '1e+21' is written '1.0e+21' (README)."""
    mantissa, mark, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if mark and "." not in mantissa else text


def test_numbers_are_read_and_written_as_go_does() -> None:
    manifest = _manifest(LITERALS)
    go = [_with_dot(value) for value in _numbers(_kubectl(manifest, "yaml"))]
    ours = _numbers(yamlcodec.dump_yaml(yamlcodec.load_yaml(manifest)))
    assert ours == go
    assert go[:2] == ["4611686018427388000", "4611686018427388000"]  # the number


def test_jsonpath_prints_floats_as_go_does() -> None:
    manifest = _manifest([repr(value) for value in JSONPATH_FLOATS])
    printed, _, marshalled = _kubectl(manifest, "jsonpath={.numbers[*]}|{.numbers}").partition("|")
    assert printed.split(" ") == [gocompat.format_float(value) for value in JSONPATH_FLOATS]
    assert marshalled == "[" + ",".join(map(gocompat.json_float, JSONPATH_FLOATS)) + "]"
