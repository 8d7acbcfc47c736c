"""At-least-once delivery: duplicates, concurrency and a crash between SubmitJob and the record
update never make a second Batch job."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from support.aws_errors import Crash
from support.events import s3_event
from support.job_configs import job_config
from support.submitter_aws import SubmitterAws, fail_next_attach

from config import records
from submitter.exceptions import SubmissionInFlightError
from submitter.ingest import IngestIncompleteError


def crashed_invocation(aws: SubmitterAws, event_name: str) -> dict[str, Any]:
    """Upload a config; its first invocation dies when a Batch call reaches `event_name` (later
    ones pass). The event, for redelivery."""
    crashed: list[bool] = []

    def hook(**_: Any) -> None:
        if not crashed:
            crashed.append(True)
            raise Crash

    aws.batch.meta.events.register(event_name, hook)
    version = aws.upload("jobs/churn.json", job_config())
    event = s3_event(("jobs/churn.json", version))
    with pytest.raises(Crash):
        aws.ingest(event)
    return event


def test_update_failing_after_submit_job_then_redelivery_makes_one_batch_job(
    aws: SubmitterAws,
) -> None:
    # GIVEN the record update after SubmitJob fails once (DynamoDB 500)
    version = aws.upload("jobs/churn.json", job_config())
    event = s3_event(("jobs/churn.json", version))
    fired = fail_next_attach(aws)
    # WHEN the event is handled: the Batch job exists, the record does not say so; Lambda fails
    with pytest.raises(IngestIncompleteError):
        aws.ingest(event)
    assert fired == [True]
    [job] = aws.batch_jobs()
    record = records.get_record(aws.ddb, aws.settings.table, job["jobName"][len("batchscore-") :])
    assert "batch_job_id" not in record

    # THEN the redelivery finds the earlier submission by name instead of submitting again
    [outcome] = aws.ingest(event)
    assert outcome.action == "duplicate"
    assert outcome.batch_job_id == job["jobId"]
    assert len(aws.batch_jobs()) == 1
    record = records.get_record(aws.ddb, aws.settings.table, outcome.job_id)
    assert record["batch_job_id"] == job["jobId"]
    assert "lease_token" not in record


def test_crash_after_submit_job_is_recovered_once_the_lease_expires(aws: SubmitterAws) -> None:
    # GIVEN an invocation that dies right after SubmitJob (no cleanup runs)
    event = crashed_invocation(aws, "after-call.batch.SubmitJob")
    [job] = aws.batch_jobs()

    # WHEN it is redelivered while the dead invocation's lease still runs: the invocation fails
    with pytest.raises(IngestIncompleteError) as raised:
        aws.ingest(event)
    assert isinstance(raised.value.failures[0][1], SubmissionInFlightError)

    # THEN after the lease expired the redelivery takes over and finds the job: still one
    aws.clock.advance(aws.settings.lease_seconds + 1)
    [outcome] = aws.ingest(event)
    assert outcome.batch_job_id == job["jobId"]
    assert len(aws.batch_jobs()) == 1


def test_crash_before_submit_job_is_submitted_by_the_redelivery(aws: SubmitterAws) -> None:
    event = crashed_invocation(aws, "before-call.batch.SubmitJob")
    assert aws.batch_jobs() == []

    aws.clock.advance(aws.settings.lease_seconds + 1)
    [outcome] = aws.ingest(event)
    assert outcome.action == "submitted"
    assert len(aws.batch_jobs()) == 1


def test_concurrent_deliveries_of_one_upload_make_one_job(aws: SubmitterAws) -> None:
    # GIVEN the same event delivered 8 times at once (real time: waiters poll the record)
    version = aws.upload("jobs/churn.json", job_config())
    event = s3_event(("jobs/churn.json", version))
    runtime = replace(aws.runtime, sleep=__import__("time").sleep, wait_seconds=10)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: aws.ingest(event, runtime)[0], range(8)))

    assert sorted(o.action for o in results) == ["duplicate"] * 7 + ["submitted"]
    assert len({o.batch_job_id for o in results}) == 1
    assert len(aws.batch_jobs()) == 1


def test_duplicates_and_reordering_across_many_uploads(aws: SubmitterAws) -> None:
    versions = [aws.upload(f"jobs/job-{i}.json", job_config(name=f"job{i}")) for i in range(6)]
    deliveries = [(f"jobs/job-{i}.json", v) for i, v in enumerate(versions)]
    # reversed, with every other upload delivered a second time
    order = list(reversed(deliveries)) + deliveries[::2]
    outcomes = [aws.ingest(s3_event(d))[0] for d in order]
    assert sum(o.action == "submitted" for o in outcomes) == 6
    assert sum(o.action == "duplicate" for o in outcomes) == 3
    assert len(aws.batch_jobs()) == 6
