"""Where each handler calls `submitter.notify` after its own work: one call per handler, so the
Lambda entry points and the local stack's wiring (`submitter.local.pipeline`) stay a line long.
Every hook is idempotent (`notify.job_finished` sends once per job), so calling it on a
redelivered event, or for a job another path notified already, sends nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from submitter.notify import Notifier, job_finished, stuck_jobs
from submitter.reconcile import Finding, Verdict
from submitter.state_change import DETAIL_TYPE as BATCH_DETAIL_TYPE
from submitter.state_change import BatchJobEvent

if TYPE_CHECKING:  # submitter.submission imports pydantic, which the state Lambda does not load
    from submitter.submission import Outcome

# Ingest outcomes whose record may be terminal (`submission.Action` values): a rejection, a
# refused submission, and a redelivery of either (whose first delivery may have died before
# notifying).
_INGEST_ENDINGS = ("rejected", "failed", "duplicate")


def after_batch_event(event: dict[str, Any], ddb: Any, table: str, notifier: Notifier) -> None:
    """A single job's, an array parent's or an array's commit job's SUCCEEDED or FAILED: the
    record is terminal by then (the container or the state handler wrote it), except after an
    array parent's SUCCEEDED (its commit job follows), where `job_finished` sends nothing."""
    if event.get("detail-type") != BATCH_DETAIL_TYPE:
        return
    change = BatchJobEvent.from_event(event)
    if change.job_id and change.array_index is None and change.status in ("SUCCEEDED", "FAILED"):
        job_finished(ddb, table, change.job_id, notifier)


def after_ingest(outcomes: Iterable[Outcome], ddb: Any, table: str, notifier: Notifier) -> None:
    for outcome in outcomes:
        if outcome.action in _INGEST_ENDINGS:
            job_finished(ddb, table, outcome.job_id, notifier)


def after_reconcile(
    findings: Iterable[Finding], ddb: Any, batch: Any, table: str, notifier: Notifier
) -> None:
    """Records the reconciler settled (a lost Batch event), then jobs stuck in RUNNABLE."""
    for finding in findings:
        if finding.action == Verdict.CHANGED:
            job_finished(ddb, table, finding.job_id, notifier)
    stuck_jobs(ddb, batch, table, notifier)
