"""What a cycle counts as failed: ``watch --once`` exits 5 for it (cron and CI notice)."""

from __future__ import annotations

from avp_py.model import SecretRef
from avp_py.watch.argocd import Answer, Outcome
from avp_py.watch.planner import Plan
from avp_py.watch.report import CycleReport


def test_a_quiet_cycle_failed_in_nothing() -> None:
    assert CycleReport().failures() == ""


def test_refreshes_that_were_not_made_are_failures_a_deleted_application_is_not() -> None:
    answers = {
        "refreshed": Answer(Outcome.REFRESHED),
        "sent": Answer(Outcome.SENT, "no answer within 60 s"),  # Argo CD acts on it anyway
        "gone": Answer(Outcome.GONE, "not found"),  # its records are removed: nothing to redo
        "down": Answer(Outcome.FAILED, "cannot reach Argo CD"),
        "denied": Answer(Outcome.DENIED, "permission denied"),
        "token": Answer(Outcome.UNAUTHORIZED, "unauthorized"),
    }
    report = CycleReport(answers=answers)
    assert report.failed_refreshes == ["denied", "down", "token"]
    assert report.failures() == "3 hard refresh request(s) failed"


def test_lookups_that_failed_are_failures_an_unusable_secret_is_not() -> None:
    plan = Plan(
        unknown={SecretRef("kv", "a"): "HTTP 429", SecretRef("kv", "b"): "HTTP 429"},
        unusable={SecretRef("kv", "c"): "not found"},  # looked up: it is gone, reported once
    )
    report = CycleReport(plan=plan, answers={"x": Answer(Outcome.FAILED, "HTTP 500")})
    assert report.failures() == (
        "2 watched secret(s) could not be looked up and 1 hard refresh request(s) failed"
    )
