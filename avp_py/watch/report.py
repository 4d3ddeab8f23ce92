"""What one watch cycle did: the ``--verbose`` summary line, and what failed (``--once``'s
exit code). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from avp_py.watch.argocd import Answer, Outcome
from avp_py.watch.planner import Plan


@dataclass
class CycleReport:
    """What one cycle did, for the summary line and for tests."""

    plan: Plan = field(default_factory=Plan)
    records: int = 0
    foreign: int = 0
    secrets: int = 0
    requests: int = 0
    answers: dict[str, Answer] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed_refreshes(self) -> list[str]:
        """The Applications whose refresh request failed (not sent, refused, or answered with
        an error); an Application that no longer exists is not a failure."""
        return sorted(
            application
            for application, answer in self.answers.items()
            if not answer.asked and answer.outcome is not Outcome.GONE
        )

    def failures(self) -> str:
        """What failed in this cycle, in words; empty when nothing did (``--once``'s exit)."""
        parts = []
        if self.plan.unknown:
            parts.append(f"{len(self.plan.unknown)} watched secret(s) could not be looked up")
        if self.failed_refreshes:
            parts.append(f"{len(self.failed_refreshes)} hard refresh request(s) failed")
        return " and ".join(parts)


def summary(report: CycleReport) -> str:
    """The ``--verbose`` line of one cycle."""
    plan = report.plan
    asked = sum(1 for answer in report.answers.values() if answer.asked)
    return (
        f"cycle: {report.records} record(s) of {plan.applications} Application(s),"
        f" {report.secrets} secret(s) looked up with {report.requests} backend request(s),"
        f" {len(plan.refreshes)} refresh(es) due, {asked} asked, {len(plan.awaiting)} awaiting"
        f" a render, {len(plan.unusable)} unusable and {len(plan.unknown)} unknown secret(s),"
        f" {len(plan.expired)} record(s) expired, {report.foreign} of another identity;"
        f" {report.seconds:.2f} s"
    )
