"""Smoke test of the benchmark suite (``bench/``): the generators build what they say, and a
tiny scenario runs the real ``avp-py`` against the Key Vault test server and reports the
server's own request counts. Untimed: nothing here asserts on a duration."""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench import inputs
from bench.avp_model import avp_pattern
from bench.limits import Yardsticks
from bench.measure import median_sample
from bench.report import render_report, targets
from bench.scenarios import SCENARIOS, Context, Options, render, small_app_input
from bench.served import RenderServer
from bench.served_runs import served
from bench.suite import Machine, Suite, avp_command, child_env
from tests.kvserver import KeyVaultServer


class FakeVault:
    """Stands in for the server where only version ids are needed."""

    def set_secret(self, vault: str, name: str, value: str) -> str:
        return uuid.uuid4().hex


def documents(text: str) -> int:
    return sum(1 for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc)


def test_big_chart_input_and_avp_pattern() -> None:
    vault = inputs.seed_vault(FakeVault(), "bench-big", 400, inputs.BIG_PINNED)
    chart = inputs.big_chart(vault)
    pattern = avp_pattern(chart.text, {vault.name: vault.enabled})
    assert documents(chart.text) == chart.documents == 300
    assert pattern.placeholders == chart.placeholders == 1500
    assert len(pattern.refs) == chart.distinct == 120
    assert sum(1 for ref in pattern.refs if ref[2]) == len(inputs.BIG_PINNED)
    # 100 annotated manifests × (1 challenge + 16 list pages + 400 GETs), 900 inline × 2
    assert pattern.annotated_manifests == 100
    assert pattern.round_trips == 100 * (1 + 16 + 400) + 900 * 2


def test_small_inputs_and_avp_pattern() -> None:
    small = inputs.small_app(inputs.seed_vault(FakeVault(), "bench-small", 5, inputs.SMALL_PINNED))
    pattern = avp_pattern(small.text, {"bench-small": 5})
    assert documents(small.text) == small.documents == 10
    assert (pattern.inline_occurrences, len(pattern.refs)) == (20, 5)
    assert pattern.round_trips == 40

    empty = inputs.no_placeholders()
    assert documents(empty.text) == 50
    assert avp_pattern(empty.text, {}).round_trips == 0

    throttle = inputs.throttle_app(inputs.seed_vault(FakeVault(), "bench-throttle", 20))
    assert len(avp_pattern(throttle.text, {}).refs) == throttle.distinct == 20


def test_passthrough_input() -> None:
    vault = inputs.seed_vault(FakeVault(), "bench-pass", inputs.PASS_VAULT_SIZE)
    stream = inputs.passthrough(vault, 1_200_000)
    pattern = avp_pattern(stream.text, {})
    assert stream.size >= 1_200_000
    assert documents(stream.text) == stream.documents
    assert pattern.inline_occurrences == stream.placeholders > 0
    with_placeholders = stream.text.count("kind: Secret")
    assert with_placeholders == (stream.documents + 49) // 100  # 1 %
    assert stream.text.count("kind: CustomResourceDefinition") >= stream.documents // 5


@pytest.fixture
def context(tmp_path: Path) -> Iterator[Context]:
    with KeyVaultServer() as kv:
        python = Path(sys.executable)
        options = Options(repeat=1, quick=True, latency=0.0)
        yield Context(kv, tmp_path, avp_command(python), python, child_env(kv), options)
        assert kv.errors == []


@pytest.mark.keyvault
def test_reported_requests_equal_the_server_counters(context: Context) -> None:
    workload = small_app_input(context)
    sample = render(context, workload)
    kv = context.kv
    assert isinstance(kv, KeyVaultServer)
    assert sample.requests.challenges == kv.counts("bench-small", "challenge") == 1
    assert sample.requests.gets == kv.counts("bench-small", "get") == 5
    assert sample.requests.lists == kv.counts("bench-small", "list") == 0
    assert sample.requests.tokens == kv.token_requests() == 1
    assert sample.requests.throttled == kv.status_count(429) == 0
    assert sample.maxrss_mb > 0 and sample.cpu > 0


@pytest.mark.keyvault
def test_a_served_render_counts_the_render_process_and_uses_the_warm_state(
    context: Context,
) -> None:
    # Server mode (issue 13): the render runs in the server's child, so the sample must add
    # its CPU from the server's log; a warm server makes no token request and no challenge.
    directory = Path(tempfile.mkdtemp(prefix="avp-bench-", dir="/tmp"))  # a short socket path
    workload = small_app_input(context)
    try:
        with RenderServer(context.avp, context.env, directory / "srv") as server:
            result = served(context, server, workload)
            status_log = server.tail()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    [sample] = result.samples
    assert result.notes == []
    assert (sample.requests.gets, sample.requests.challenges, sample.requests.tokens) == (5, 0, 0)
    assert sample.cpu > 0
    assert "render pid" in status_log and ", cpu " in status_log
    assert {s.code for s in result.starts} == {"pass", "import avp_py.cli, avp_py.server.client"}


@pytest.mark.keyvault
@pytest.mark.slow
def test_small_app_scenario_and_report(context: Context) -> None:
    outcome = SCENARIOS["small-app"](context)
    assert outcome.median.requests.gets == len(outcome.pattern.refs) == 5
    assert "5 distinct secrets" in outcome.summary
    assert outcome.warm is not None
    if outcome.warm.sample is not None:  # the cross-run cache is there
        assert outcome.warm.sample.requests.key_vault == 0
    assert outcome.start is not None and outcome.start.wall > 0
    suite = Suite(
        context.options,
        Machine(2, "test", 1.0, "3", "abc", 0.0, 0.0),
        Yardsticks(0.01, 0.02),
        {"small-app": outcome},
        1.0,
    )
    report = render_report(suite, "python -m bench --quick")
    assert "| small-app |" in report
    assert {t.name for t in targets(suite)} >= {"small app: cold, vs AVP's least time"}
    assert median_sample(outcome.samples) == outcome.median


def test_watch_scenario_counts_one_listing_per_secret_and_no_value_read() -> None:
    from bench.watch import APPS, SECRETS, run_watch, watch_table

    outcome = run_watch(avp_command(Path(sys.executable)), latency=0.0)
    quiet, rotated, again = outcome.cycles
    for cycle in outcome.cycles:
        assert cycle.listings == SECRETS and cycle.gets == 0
        assert f"{APPS} record(s) of {APPS} Application(s)" in cycle.summary
    assert outcome.affected == 100
    assert (quiet.argocd, rotated.argocd, again.argocd) == (0, outcome.affected, 0)
    assert f"| 50 secrets rotated | {rotated.key_vault} | {SECRETS} | 0 |" in watch_table(outcome)
