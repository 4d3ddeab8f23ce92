"""Leak guard (issue #6, item 3): no secret value, client secret, cache key or token ever
appears in stderr, in a log record, in exception text or in the cache files.

Every value is a *sentinel*: a random token that cannot occur by chance. The sweep runs every
conformance case (its secrets replaced by sentinels, structure kept: JSON stays JSON, base64
stays base64 of the sentinel text) through the CLI in-process, four times: with ``--verbose``,
with ``--verbose-sensitive-output``, and twice with the encrypted cross-run cache on (the
second run reads the cache); cases with a ``keyvault`` section run against the Key Vault test
server. Failing runs are part of it on purpose: missing secrets, modifier errors on sentinel
values, ConfigMap type errors. Azure runs use the project's Key Vault test
server with a client-secret credential whose secret is a sentinel: success, failures, a
rejected client secret and a 403; then the same through the real console script. Last, the
``repr``/``str`` of every object that holds a value or a credential.

What counts as a leak: a sentinel, any 10-character piece of one, or the stored form of a
value (its base64 or JSON text). stdout of a successful run is the one place values belong.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.keyvault.secrets._shared import http_challenge_cache
from click.testing import CliRunner

from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.base import BackendContext, BackendStats
from avp_py.backends.cache import CacheSettings
from avp_py.backends.file import CONTENT_TYPES
from avp_py.cli.app import cli
from avp_py.directives import parse_directives
from avp_py.documents import Document
from avp_py.errors import AvpError, ResolutionError
from avp_py.model import Missing, SecretRef, SecretValue
from avp_py.planner import plan_document
from avp_py.render import RenderResult, RenderStats, start_deadline
from avp_py.resolver import Resolver
from avp_py.settings import load_settings
from avp_py.settings.policy import ReferenceRules, TenantPolicy
from avp_py.stream import Chunk
from avp_py.substitute import substitute
from avp_py.testing import MemoryBackend
from tests.isolation import clean_environment, is_inherited_setting
from tests.kvserver import KeyVaultServer
from tests.kvserver.certificates import PEM_FILE, PKCS12, shared_chain

CASES = Path(__file__).parents[1] / "conformance" / "cases"
AVP = str(Path(sys.executable).parent / "avp-py")


# ------------------------------------------------------------------------------ sentinels


class Sentinels:
    """Fresh random tokens, and every text form a leak of one could take."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.stored: list[str] = []  # values as the backend holds them (base64, JSON, ...)

    def new(self) -> str:
        token = "S3NT" + secrets.token_hex(8)
        self.tokens.append(token)
        return token

    def forbidden(self, *extra: str) -> list[str]:
        pieces = {t[i : i + 10] for t in self.tokens for i in range(4, len(t) - 9)}
        return sorted({*self.tokens, *pieces, *self.stored, *(e for e in extra if e)})

    def leaks(self, text: str, *extra: str) -> list[str]:
        return [item for item in self.forbidden(*extra) if item in text]


def _base64_text(value: str) -> str | None:
    if len(value) < 4 or len(value) % 4 or value.isdigit():
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded.isprintable() or "\n" in decoded else None


def sentinelize(value: Any, sentinels: Sentinels) -> Any:
    """The same shape with every text replaced by a sentinel (numbers, booleans stay)."""
    if isinstance(value, dict):
        return {key: sentinelize(item, sentinels) for key, item in value.items()}
    if isinstance(value, list):
        return [sentinelize(item, sentinels) for item in value]
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    if isinstance(parsed, (dict, list)):
        return _stored(json.dumps(sentinelize(parsed, sentinels)), sentinels)
    if not isinstance(parsed, str):
        return value  # "4", "true": a JSON scalar, kept so that jsonParse still works
    decoded = _base64_text(value)
    if decoded is not None:
        inner = sentinelize(decoded, sentinels)
        return _stored(base64.b64encode(inner.encode()).decode(), sentinels)
    if "\n" in value:
        loaded = yaml.safe_load(value.lstrip("-\n"))
        if isinstance(loaded, dict):
            text = yaml.safe_dump(sentinelize(loaded, sentinels), sort_keys=False)
            return _stored("---\n" + text, sentinels)
    return sentinels.new()


def _stored(text: str, sentinels: Sentinels) -> str:
    sentinels.stored.append(text)
    return text


# ------------------------------------------------------------------------------ capture


class Capture:
    """Every log record created while a run goes on (whatever handlers or propagation the
    CLI sets up: a record that exists can be emitted by some configuration), and every avp-py
    error constructed (raised, or caught and reported as a line of another error)."""

    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []
        self.errors: list[AvpError] = []

    def clear(self) -> None:
        self.records.clear()
        self.errors.clear()

    @property
    def log_text(self) -> str:
        lines = []
        for record in self.records:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a malformed record: its parts, then
                message = f"{record.msg} {record.args}"
            lines.append(f"{record.name} {record.levelname} {message}")
            if record.exc_info and record.exc_info[1] is not None:
                lines.append("".join(traceback.format_exception(record.exc_info[1])))
        return "\n".join(lines)

    def exception_text(self, stderr: str) -> str:
        """str, repr, details and formatted chain (causes, contexts) of the error the run
        ended with (the one whose message is stderr's ``Error:`` line), and of every error
        about a value (ResolutionError: modifier failures, missing secrets), reported or not.

        Other errors caught inside the library are not included: e.g. the codec's parse error
        that yamlParse replaces (``from None``) with a message that leaves the value out.
        """
        first = next((line for line in stderr.splitlines() if line.startswith("Error: ")), "")
        parts = []
        for error in self.errors:
            if f"Error: {error}" != first and not isinstance(error, ResolutionError):
                continue
            parts += [str(error), repr(error), *error.details()]
            parts.append("".join(traceback.format_exception(error)))
        return "\n".join(parts)


@dataclass
class Outcome:
    """One in-process CLI run: exit code, stdout, stderr, exception and log text."""

    code: int
    stdout: str
    stderr: str
    exception_text: str
    log_text: str


@pytest.fixture(scope="module")
def capture() -> Iterator[Capture]:
    seen = Capture()
    factory = logging.getLogRecordFactory()
    initialise = AvpError.__init__

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = factory(*args, **kwargs)
        seen.records.append(made)
        return made

    def constructed(self: AvpError, *args: Any, **kwargs: Any) -> None:
        initialise(self, *args, **kwargs)
        seen.errors.append(self)

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)  # third-party libraries' debug records are created too
    logging.setLogRecordFactory(record)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AvpError, "__init__", constructed)
        yield seen
    logging.setLogRecordFactory(factory)
    root.setLevel(level)


def invoke(
    capture: Capture, args: list[str], env: Mapping[str, str | None], cwd: Path, stdin: bytes
) -> Outcome:
    """The CLI in-process, as Argo CD's sidecar would run it; logging restored afterwards."""
    logger = logging.getLogger("avp_py")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    clean: dict[str, str | None] = {name: None for name in os.environ if is_inherited_setting(name)}
    clean.update(env)
    capture.clear()
    current = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, args, input=stdin, env=clean)
    finally:
        os.chdir(current)
        logger.handlers, logger.level, logger.propagate = saved
    return Outcome(
        result.exit_code,
        result.stdout,
        result.stderr,
        capture.exception_text(result.stderr),
        capture.log_text,
    )


def cache_files_text(directory: Path) -> str:
    """Every byte of every file under the cache directory, as latin-1 text (searchable)."""
    if not directory.exists():
        return ""
    parts = [path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()]
    return b"\n".join(parts).decode("latin-1")


# ------------------------------------------------------------------------------ the sweep


def _case_dirs() -> list[Path]:
    return sorted(path for path in CASES.iterdir() if (path / "case.yaml").is_file())


def _stdin(case: Path, args: list[str]) -> bytes:
    if "-" not in args:
        return b""
    for name in ("input.yaml", "input.json", "input.txt"):
        if (case / name).is_file():
            return (case / name).read_bytes()
    return b""


@dataclass
class CaseResult:
    runs: list[tuple[str, Outcome]]
    leaks: list[str]
    cache_text: str


CACHE_KEY_SENTINELS = Sentinels()
CACHE_KEY = CACHE_KEY_SENTINELS.new() + "-cache-key-at-least-32-characters"


def run_case(case: Path, tmp: Path, capture: Capture) -> CaseResult:
    spec = yaml.safe_load((case / "case.yaml").read_text()) or {}
    work = tmp / case.name
    shutil.copytree(case, work)
    sentinels = Sentinels()
    source = (
        case / "secrets.yaml"
        if (case / "secrets.yaml").is_file()
        else CASES / "shared-secrets.yaml"
    )
    original = yaml.safe_load(source.read_text())
    content_types = original.pop(CONTENT_TYPES, None)  # metadata, not values: kept as is
    data = sentinelize(original, sentinels)
    if content_types is not None:
        data[CONTENT_TYPES] = content_types
    (work / "secrets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    env: dict[str, str | None] = {"AVP_TYPE": "file", "AVP_FILE_PATH": str(work / "secrets.yaml")}
    env.update({str(k): None if v is None else str(v) for k, v in (spec.get("env") or {}).items()})
    args = [str(a) for a in spec.get("args", ["generate", "-"])]
    stdin = _stdin(case, args)
    cache_dir = tmp / f"cache-{case.name}"
    with_cache = {**env, "AVP_CACHE_DIR": str(cache_dir), "AVP_CACHE_KEY": CACHE_KEY}
    with keyvault_for(spec, sentinels, env, with_cache):
        plans: list[tuple[str, list[str], Mapping[str, str | None]]] = [
            ("verbose", [*args, "--verbose"], env),
            ("sensitive", [*args, "--verbose-sensitive-output"], env),
            ("cache-store", [*args, "--verbose"], with_cache),
            ("cache-read", [*args, "--verbose-sensitive-output"], with_cache),
        ]
        runs = [(mode, invoke(capture, a, e, work, stdin)) for mode, a, e in plans]
    cache_text = cache_files_text(cache_dir)
    leaks = []
    for mode, outcome in runs:
        texts = {"stderr": outcome.stderr, "exception": outcome.exception_text}
        texts["log"] = outcome.log_text
        for where, text in texts.items():
            leaks += [f"{mode} {where}: {item}" for item in sentinels.leaks(text, CACHE_KEY)]
        if outcome.code != 0:
            leaks += [
                f"{mode} stdout of a failed run: {i}" for i in sentinels.leaks(outcome.stdout)
            ]
    leaks += [f"cache file: {item}" for item in sentinels.leaks(cache_text, CACHE_KEY)]
    return CaseResult(runs, leaks, cache_text)


@contextmanager
def keyvault_for(
    spec: Mapping[str, Any], sentinels: Sentinels, *envs: dict[str, str | None]
) -> Iterator[None]:
    """For a conformance case with a ``keyvault`` section: the test server, sentinel values."""
    config = spec.get("keyvault")
    if not config:
        yield
        return
    http_challenge_cache.clear()
    with KeyVaultServer() as server:
        for vault, values in config.get("vaults", {}).items():
            for name, versions in values.items():
                for _ in versions if isinstance(versions, list) else [versions]:
                    server.set_secret(vault, name, sentinels.new())
        server.faults.latency = float(config.get("latency", 0))
        if "throttle_after" in config:
            server.faults.throttle_after(int(config["throttle_after"]), retry_after=1)
        for env in envs:
            env.update(server.client_env("managed"))
            env.update(AVP_TYPE="azurekeyvault", AVP_FILE_PATH=None)
        try:
            yield
        finally:
            sentinels.stored.extend(token.token for token in server.tokens())
            http_challenge_cache.clear()


@pytest.fixture(scope="module")
def sweep(capture: Capture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CaseResult]:
    tmp = tmp_path_factory.mktemp("leak-sweep")
    results = {}
    for case in _case_dirs():
        results[case.name] = run_case(case, tmp, capture)
    return results


@pytest.mark.parametrize("name", [case.name for case in _case_dirs()])
def test_no_sentinel_leaks_from_a_conformance_case(name: str, sweep: dict[str, CaseResult]) -> None:
    result = sweep[name]
    assert result.leaks == []
    for mode, outcome in result.runs:
        assert "Traceback" not in outcome.stderr, (mode, outcome.stderr)


def test_the_sweep_carries_values_and_failures(sweep: dict[str, CaseResult]) -> None:
    """The sweep is only worth something if sentinels reached outputs, errors happened, and
    the cache stored and served values."""
    runs = [outcome for result in sweep.values() for _, outcome in result.runs]
    filled = [o for o in runs if o.code == 0 and "S3NT" in o.stdout + _decoded(o.stdout)]
    assert len(filled) >= 80, len(filled)
    codes = {o.code for o in runs}
    assert {0, 2, 3, 4, 5} <= codes, codes
    assert len([o for o in runs if o.code == 4]) >= 12
    assert all(o.exception_text for o in runs if o.code not in (0, 1))
    cached = [r for r in sweep.values() if len(r.cache_text) > 1000]
    assert len(cached) >= 20, "the cache runs must have stored encrypted values"
    hits = [
        o
        for r in sweep.values()
        for mode, o in r.runs
        if mode == "cache-read" and int((CACHE_HITS.search(o.stderr) or ["", "0"])[1]) > 0
    ]
    assert len(hits) >= 20, len(hits)


CACHE_HITS = re.compile(r"(\d+) cache hits")


def _decoded(text: str) -> str:
    """stdout with every base64-looking word decoded, so Secret data counts too."""
    words = [_base64_text(word.strip('"')) for word in text.split()]
    return " ".join(word for word in words if word)


# ------------------------------------------------------------------------------ targeted failures

FAILURES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  annotations:
    avp.kubernetes.io/path: kv
data:
  not-json: <text | jsonParse>
  json-path: <text | jsonPath {.a}>
  yaml: <dup-yaml | yamlParse>
  map-into-configmap: <json | jsonParse>
  float-into-configmap: <float | jsonParse>
  base64-of-a-map: <json | jsonParse | base64encode>
  indent-a-map: <json | jsonParse | indent 2>
  missing: <nope>
  whole-file-missing: <path:kv-missing#text>
---
apiVersion: v1
kind: Secret
metadata:
  name: s
data:
  encoded: {encoded}
"""


def test_failing_modifiers_and_kinds_never_quote_a_value(capture: Capture, tmp_path: Path) -> None:
    sentinels = Sentinels()
    text, key = sentinels.new(), sentinels.new()
    data = {
        "kv": {
            "text": f"{text} is not JSON {{",
            "dup-yaml": f"{key}: 1\n{key}: 2\n",
            "json": json.dumps({"a": sentinels.new(), "b": [sentinels.new()]}),
            "float": "1.5",
        }
    }
    sentinels.stored.extend(data["kv"].values())
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump(data))
    encoded = base64.b64encode(b"<path:kv#json | jsonParse>").decode()
    manifest = FAILURES.replace("{encoded}", encoded).encode()
    env = {"AVP_TYPE": "file", "AVP_FILE_PATH": str(tmp_path / "secrets.yaml")}
    for flag in ("--verbose", "--verbose-sensitive-output"):
        outcome = invoke(capture, ["generate", "-", flag], env, tmp_path, manifest)
        assert outcome.code == 4, outcome.stderr
        assert outcome.stdout == ""
        assert len(outcome.stderr.splitlines()) >= 1 + 9, outcome.stderr
        for where in (outcome.stderr, outcome.exception_text, outcome.log_text):
            assert sentinels.leaks(where) == [], where


def key_material(*values: str) -> list[str]:
    """Real key material as sentinel: every 16-character piece of each value (a PEM bundle,
    a PFX), and of the base64 text inside each PEM block."""
    texts = [*values, *("".join(v.split("-----")[2::4]).replace("\n", "") for v in values)]
    return [text[i : i + 16] for text in texts for i in range(0, len(text) - 15, 8)]


CERTIFICATES = """\
apiVersion: v1
kind: Secret
metadata:
  name: tls
  annotations:
    avp.kubernetes.io/path: kv
type: kubernetes.io/tls
data:
  tls.crt: <pfx | certificate | base64encode>
  tls.key: <pfx | privateKey | base64encode>
stringData:
  ca.crt: <pem | caChain>
  key: <pem | privateKey>
{failing}"""
CERTIFICATE_FAILURES = """\
  password: <pfx-password | privateKey>
  wrong-type: <pem-as-pfx | certificate>
  no-type: <untyped | privateKey>
  also-fine: <pem | certificate>
  into-a-map: <pem | privateKey | jsonParse>
"""


def test_certificate_key_material_never_leaks(capture: Capture, tmp_path: Path) -> None:
    """A real key's PEM body (issue 15): in no stderr line, log record, exception or cache
    file; only in stdout of a successful run."""
    chain = shared_chain("leak.example.test", rsa_leaf=True)
    pfx, protected, pem = chain.pfx(), chain.pfx(b"pw"), chain.pem_bundle()
    sentinels = Sentinels()
    sentinels.stored.extend(key_material(pfx, protected, pem))
    data = {
        "kv": {
            "pfx": pfx,
            "pem": pem,
            "pfx-password": protected,
            "pem-as-pfx": pem,
            "untyped": pfx,
        },
        CONTENT_TYPES: {
            "kv": {"pfx": PKCS12, "pem": PEM_FILE, "pfx-password": PKCS12, "pem-as-pfx": PKCS12}
        },
    }
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump(data))
    env = {
        "AVP_TYPE": "file",
        "AVP_FILE_PATH": str(tmp_path / "secrets.yaml"),
        "AVP_CACHE_DIR": str(tmp_path / "cache"),
        "AVP_CACHE_KEY": CACHE_KEY,
    }
    runs = [
        (CERTIFICATES.format(failing=""), 0),
        (CERTIFICATES.format(failing=CERTIFICATE_FAILURES), 4),
    ]
    for manifest, code in runs:
        for flag in ("--verbose", "--verbose-sensitive-output"):
            outcome = invoke(capture, ["generate", "-", flag], env, tmp_path, manifest.encode())
            assert outcome.code == code, outcome.stderr
            for where in (outcome.stderr, outcome.exception_text, outcome.log_text):
                assert sentinels.leaks(where) == [], where
            if code:
                assert outcome.stdout == "" and outcome.stderr.count("for placeholder") == 4
            else:
                assert "tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS" in outcome.stdout
    assert sentinels.leaks(cache_files_text(tmp_path / "cache")) == []
    assert len(cache_files_text(tmp_path / "cache")) > 1000  # the values were cached


# ------------------------------------------------------------------------------ Azure


@dataclass
class Azure:
    kv: KeyVaultServer
    sentinels: Sentinels
    client_id: str
    client_secret: str
    env: dict[str, str | None]

    def forbidden_text(self, text: str) -> list[str]:
        tokens = [token.token for token in self.kv.tokens()]
        return self.sentinels.leaks(
            text, self.client_secret, self.kv.client_secret, CACHE_KEY, *tokens
        )


@pytest.fixture(scope="module")
def azure() -> Iterator[Azure]:
    sentinels = Sentinels()
    with KeyVaultServer() as kv:
        client_id = str(uuid.uuid4())
        client_secret = sentinels.new() + "~client-secret"
        kv.add_client_secret(client_id, client_secret)
        kv.set_secret("kv-leak", "plain", sentinels.new())
        kv.set_secret("kv-leak", "json", json.dumps({"user": sentinels.new()}))
        kv.set_secret("kv-leak", "text", sentinels.new() + " {not json")
        kv.set_secret("kv-denied", "plain", sentinels.new())
        kv.deny("kv-denied")
        chain = shared_chain("leak.example.test", rsa_leaf=True)
        pfx, protected = chain.pfx(), chain.pfx(b"pw")  # each call salts anew: made once
        kv.import_certificate("kv-leak", "cert", pfx, PKCS12)
        kv.import_certificate("kv-leak", "cert-password", protected, PKCS12)
        sentinels.stored.extend(key_material(pfx, protected, chain.key_pem))
        sentinels.stored.extend(kv.get_secret("kv-leak", n).value for n in ("json", "text"))
        env: dict[str, str | None] = dict(kv.client_env("secret", client_id=client_id))
        env.update(
            AZURE_CLIENT_SECRET=client_secret,
            AVP_TYPE="azurekeyvault",
            AVP_AZURE_CREDENTIAL="environment",
            AVP_TIMEOUT_SECONDS="20",
        )
        yield Azure(kv, sentinels, client_id, client_secret, env)
        assert kv.errors == []


AZURE_SUCCESS = """\
apiVersion: v1
kind: Secret
metadata:
  name: s
stringData:
  plain: <path:kv-leak#plain>
  user: <path:kv-leak#json | jsonPath {.user}>
"""
AZURE_FAILURES = """\
apiVersion: v1
kind: Secret
metadata:
  name: s
stringData:
  missing: <path:kv-leak#nope>
  not-json: <path:kv-leak#text | jsonParse>
  not-a-map: <path:kv-leak#json | jsonPath {.user.name}>
"""
DENIED = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  a: <path:kv-denied#plain>\n"
AZURE_CERTIFICATE = """\
apiVersion: v1
kind: Secret
metadata:
  name: tls
type: kubernetes.io/tls
data:
  tls.crt: <path:kv-leak#cert | certificate | base64encode>
  tls.key: <path:kv-leak#cert | privateKey | base64encode>
"""
AZURE_CERTIFICATE_FAILURES = """\
apiVersion: v1
kind: Secret
metadata:
  name: tls
stringData:
  tls.key: <path:kv-leak#cert | privateKey>
  password: <path:kv-leak#cert-password | privateKey>
  no-type: <path:kv-leak#plain | certificate>
"""


WRONG = "wrong"  # replaced by a fresh sentinel: a client secret the server never issued
AZURE_SCENARIOS = [
    ("success", AZURE_SUCCESS, {}, 0, "0 backend requests, 2 cache hits"),
    ("unresolved", AZURE_FAILURES, {}, 4, "Error: could not replace 3 placeholders"),
    (
        "rejected-client-secret",
        AZURE_SUCCESS,
        {"AZURE_CLIENT_SECRET": WRONG},
        5,
        "Error: could not get a token to read secret",
    ),
    ("access-denied", DENIED, {}, 5, "access denied to secret plain in vault kv-denied"),
    ("certificate", AZURE_CERTIFICATE, {}, 0, "0 backend requests, 1 cache hits"),
    (
        "certificate-failures",
        AZURE_CERTIFICATE_FAILURES,
        {},
        4,
        "privateKey: the PKCS#12 (PFX) file cannot be opened without a password",
    ),
]


@pytest.mark.parametrize(
    ("scenario", "manifest", "overrides", "code", "says"),
    AZURE_SCENARIOS,
    ids=[scenario[0] for scenario in AZURE_SCENARIOS],
)
@pytest.mark.keyvault
def test_azure_runs_leak_nothing(
    azure: Azure,
    capture: Capture,
    tmp_path: Path,
    scenario: str,
    manifest: str,
    overrides: dict[str, str],
    code: int,
    says: str,
) -> None:
    env = dict(azure.env)
    if overrides.get("AZURE_CLIENT_SECRET") == WRONG:
        overrides = {"AZURE_CLIENT_SECRET": azure.sentinels.new() + "~wrong-client-secret"}
    env.update(overrides)
    env.update(AVP_CACHE_DIR=str(tmp_path / "cache"), AVP_CACHE_KEY=CACHE_KEY)
    stderr = ""
    for flag in ("--verbose", "--verbose-sensitive-output"):
        http_challenge_cache.clear()
        outcome = invoke(capture, ["generate", "-", flag], env, tmp_path, manifest.encode())
        assert outcome.code == code, outcome.stderr
        assert "Traceback" not in outcome.stderr
        for where in (outcome.stderr, outcome.exception_text, outcome.log_text):
            assert azure.forbidden_text(where) == [], where
        if code:
            assert outcome.stdout == ""
        elif scenario == "certificate":
            assert "tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS" in outcome.stdout  # the key did flow
        else:
            assert "S3NT" in outcome.stdout  # the values did flow
        stderr = outcome.stderr
    assert says in stderr  # the second run: from the cache, or the same failure again
    cache = cache_files_text(tmp_path / "cache")
    assert azure.forbidden_text(cache) == []
    if scenario in ("success", "certificate"):
        assert azure.kv.tokens(), "the run must have obtained a token"
        assert len(cache) > 1000, "the values must have been cached (encrypted)"


@pytest.mark.keyvault
def test_azure_console_script_leaks_nothing(azure: Azure, tmp_path: Path) -> None:
    """The real process: whatever reaches fd 2 (warnings, last-resort logging) counts."""
    base = clean_environment()
    wrong = azure.sentinels.new() + "~wrong-client-secret"
    runs = [
        (AZURE_SUCCESS, {}, 0),
        (AZURE_FAILURES, {}, 4),
        (AZURE_SUCCESS, {"AZURE_CLIENT_SECRET": wrong}, 5),
        (DENIED, {}, 5),
    ]
    for manifest, overrides, code in runs:
        env = {**base, **{k: v for k, v in azure.env.items() if v is not None}, **overrides}
        env.update(AVP_CACHE_DIR=str(tmp_path / "cache"), AVP_CACHE_KEY=CACHE_KEY)
        done = subprocess.run(
            [AVP, "generate", "-", "--verbose-sensitive-output"],
            input=manifest.encode(),
            capture_output=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode == code, stderr
        assert "Traceback" not in stderr
        assert azure.forbidden_text(stderr) == [], stderr
        assert (done.stdout == b"") == bool(code)
    assert azure.forbidden_text(cache_files_text(tmp_path / "cache")) == []


# ------------------------------------------------------------------------------ repr / str


def shows(obj: object) -> str:
    return f"{obj!r} {obj!s} {obj}"


def test_secret_value_is_redacted() -> None:
    token = Sentinels().new()
    for value in (token, {"k": token}, [token]):
        held = SecretValue(value, "v1")
        assert token not in shows(held)
        assert token not in shows([held]) + shows({"ref": held})
    assert "v1" in repr(SecretValue(token, "v1"))  # versions are not secret


def test_settings_and_options_hide_credentials(tmp_path: Path) -> None:
    sentinels = Sentinels()
    secret, password, cache_key = sentinels.new(), sentinels.new(), sentinels.new() + "x" * 32
    environ = {
        "AVP_TYPE": "file",
        "AZURE_CLIENT_SECRET": secret,
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": password,
        "AVP_CACHE_DIR": str(tmp_path),
        "AVP_CACHE_KEY": cache_key,
    }
    settings = load_settings(environ)
    assert settings.cache is not None and settings.cache.key == cache_key
    assert settings.options["AZURE_CLIENT_SECRET"] == secret
    for obj in (settings, settings.options, settings.cache, settings.policy, settings.app):
        assert sentinels.leaks(shows(obj)) == [], type(obj).__name__
    context = BackendContext(settings.options, start_deadline(5), 4, BackendStats())
    assert sentinels.leaks(shows(context)) == []
    cache = CacheSettings(str(tmp_path), cache_key, 60.0, 10)
    assert sentinels.leaks(shows(cache)) == []
    options = AzureOptions.from_options(
        {
            **environ,
            "AVP_AZURE_CREDENTIAL": "environment",
            "AZURE_TENANT_ID": "t",
            "AZURE_CLIENT_ID": "c",
        }
    )
    assert options.client_secret == secret
    assert sentinels.leaks(shows(options)) == []


def test_resolver_and_substitution_outcomes_are_redacted() -> None:
    sentinels = Sentinels()
    value = sentinels.new()
    found, absent = SecretRef("kv", "found"), SecretRef("kv", "absent")
    deadline = start_deadline(5)
    backend = MemoryBackend()
    backend.set_secret(found.path, found.key, value)
    outcomes = Resolver(backend, 2, deadline).resolve({found, absent})
    assert isinstance(outcomes[absent], Missing)
    assert outcomes[found].reveal() == value  # type: ignore[union-attr]
    assert sentinels.leaks(shows(outcomes)) == []

    text = "kind: Secret\nstringData:\n  a: <path:kv#found>\n"
    body = yaml.safe_load(text)
    document = Document(Chunk("x", 1, 1, text, False), body)
    rules = ReferenceRules(None, TenantPolicy())
    plan = plan_document(document, parse_directives(body), rules).plan
    filled = substitute(plan, outcomes.__getitem__)
    assert filled.body == {"kind": "Secret", "stringData": {"a": value}}
    assert sentinels.leaks(shows(filled) + shows(plan)) == []


def test_render_result_is_redacted() -> None:
    value = Sentinels().new()
    result = RenderResult(
        f"kind: Secret\nstringData:\n  a: {value}\n---\n", RenderStats(1, 1, 1, 1, 0)
    )
    assert value not in shows(result)


def test_sentinels_are_detected() -> None:
    """The detector itself: a token, a piece of one, and a stored form all count."""
    sentinels = Sentinels()
    token = sentinels.new()
    stored = _stored(base64.b64encode(token.encode()).decode(), sentinels)
    assert sentinels.leaks(f"x {token} y") and sentinels.leaks(f"...{token[6:17]}...")
    assert sentinels.leaks(stored) and not sentinels.leaks("S3NT but nothing else")
