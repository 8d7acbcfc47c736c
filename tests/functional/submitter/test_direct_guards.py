"""Direct, fast tests of behaviours that were only noticed by slow or unrelated tests when broken
on purpose (issue 12's guards): each fails on a one-line bug in the function it names."""

from __future__ import annotations

from typing import Any

from support.events import load_event
from support.names import TABLE
from support.submitter_aws import SubmitterAws

from config import records
from config.status import JobStatus
from submitter.state_change import handle_event
from submitter.submission import attach

JOB_ID = "churn-0123456789abcdef"  # what tests/events/batch-*.json carry


def test_a_lone_succeeded_event_of_a_single_job_records_its_attempts(ddb: Any) -> None:
    """state_change: the RUNNING events were lost; SUCCEEDED alone must still count attempts."""
    records.create_record(ddb, TABLE, {"job_id": JOB_ID, "name": "churn", "status": "SUBMITTED"})
    event = load_event("batch-succeeded.json")
    two_attempts = [dict(event["detail"]["attempts"][0]) for _ in range(2)]
    event["detail"]["attempts"] = two_attempts

    assert handle_event(event, ddb=ddb, table=TABLE).applied

    after = records.get_record(ddb, TABLE, JOB_ID)
    assert (after["status"], after["attempts"]) == ("SUCCEEDED", 2)


def test_attach_after_a_cancel_terminates_the_new_batch_job(aws: SubmitterAws) -> None:
    """submission.attach: the record was CANCELLED between SubmitJob and attach."""
    records.create_record(aws.ddb, TABLE, {"job_id": "late", "name": "late", "status": "SUBMITTED"})
    assert records.advance(aws.ddb, TABLE, "late", JobStatus.CANCELLED, reason="cancelled")
    terminated: list[dict[str, Any]] = []
    aws.batch.meta.events.register(
        "provide-client-params.batch.TerminateJob", lambda params, **_: terminated.append(params)
    )

    attach(aws.ddb, aws.batch, aws.settings, "late", "batch-job-1", aws.runtime)

    assert [call["jobId"] for call in terminated] == ["batch-job-1"]
    after = records.get_record(aws.ddb, TABLE, "late")
    assert after["status"] == "CANCELLED"
    assert "batch_job_id" not in after
