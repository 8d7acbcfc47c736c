"""A crash between SubmitJob and the record update, then redelivery -> one Batch job, run once.

tests/functional/submitter/test_ingest_races.py proves it against moto's Batch API; here the
Batch is the local executor, so the job also runs, and its state-change events reach the real
handler before or after the redelivery.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.aws_errors import Crash
from support.clock import FakeClock
from support.events import s3_put_event
from support.job_configs import job_config
from support.pipeline import BatchProxy

from config import records
from config.status import JobStatus
from submitter.batch import job_name
from submitter.exceptions import SubmissionInFlightError
from submitter.ingest import IngestIncompleteError
from submitter.submission import Runtime


class FailAfterSubmit(BatchProxy):
    """The first SubmitJob reaches Batch, then `error` is raised instead of its answer."""

    def __init__(self, batch: Any, error: BaseException) -> None:
        super().__init__(batch)
        self.error: BaseException | None = error

    def submit_job(self, **request: Any) -> dict[str, Any]:
        response = self._batch.submit_job(**request)
        error, self.error = self.error, None
        if error is not None:
            raise error
        return response


def crash_after_submit(batch: Any) -> FailAfterSubmit:
    """The invocation dies before the record update."""
    return FailAfterSubmit(batch, Crash())


def lost_response(batch: Any) -> FailAfterSubmit:
    """The job is created but the answer is lost: a 500 (an Exception: the lease is released)."""
    error = ClientError(
        {
            "Error": {"Code": "ServerException", "Message": "connection reset"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        },
        "SubmitJob",
    )
    return FailAfterSubmit(batch, error)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def crashed(make_pipeline: Any, clock: FakeClock) -> tuple[Any, dict[str, Any]]:
    """A pipeline on the fake clock whose first invocation died between SubmitJob and the
    record update; the S3 event, for redelivery."""
    runtime = Runtime(clock=clock, wait_seconds=0.2, poll_seconds=0.01)
    pipeline = make_pipeline(runtime=runtime, wrap_batch=crash_after_submit)
    version = pipeline.upload("jobs/churn.json", job_config("churn"))
    event = s3_put_event("jobs/churn.json", version)
    with pytest.raises(Crash):
        pipeline.ingest(event)
    return pipeline, event


def assert_one_job_run_once(pipeline: Any, job_id: str) -> dict[str, Any]:
    [job] = pipeline.batch_jobs()
    assert job["jobName"] == job_name(job_id)
    pipeline.local_batch.wait([job["jobId"]], timeout=60)
    for event in list(pipeline.batch_events):
        pipeline.state(event)
    assert pipeline.runs() == [(job_id, 1)]
    record = records.get_record(pipeline.ddb, pipeline.settings.table, job_id)
    assert record["batch_job_id"] == job["jobId"]
    assert record["status"] == JobStatus.SUCCEEDED
    return record


def test_crash_after_submit_job_redelivered_after_the_lease_runs_one_job(
    crashed: tuple[Any, dict[str, Any]], clock: FakeClock
) -> None:
    pipeline, event = crashed
    # GIVEN an invocation that died between SubmitJob and the record update
    [job] = pipeline.batch_jobs()
    [record] = pipeline.records()
    assert "batch_job_id" not in record

    # WHEN S3 redelivers while the dead invocation's lease holds: that invocation fails
    with pytest.raises(IngestIncompleteError) as raised:
        pipeline.ingest(event)
    assert isinstance(raised.value.failures[0][1], SubmissionInFlightError)
    # ... and again once the lease has expired: it takes over and finds the job by name
    clock.advance(pipeline.settings.lease_seconds + 1)
    [outcome] = pipeline.ingest(event)

    # THEN one Batch job, attached, run once, and the record follows it to SUCCEEDED
    assert outcome.action == "duplicate"
    assert outcome.batch_job_id == job["jobId"]
    record = assert_one_job_run_once(pipeline, record["job_id"])
    assert "lease_token" not in record


def test_crash_after_submit_job_then_the_jobs_events_then_redelivery(
    crashed: tuple[Any, dict[str, Any]], clock: FakeClock
) -> None:
    pipeline, event = crashed
    [record] = pipeline.records()

    # WHEN the job runs and its events arrive first: the state handler attaches the Batch job
    record = assert_one_job_run_once(pipeline, record["job_id"])
    # ... then the redelivery, even long after, changes nothing and submits nothing
    clock.advance(pipeline.settings.lease_seconds + 1)
    [outcome] = pipeline.ingest(event)

    assert outcome.action == "duplicate"
    assert outcome.batch_job_id == record["batch_job_id"]
    assert len(pipeline.batch_jobs()) == 1
    assert pipeline.runs() == [(record["job_id"], 1)]


def test_submit_job_carried_out_but_its_answer_lost_is_found_by_the_redelivery(
    make_pipeline,
) -> None:
    pipeline = make_pipeline(wrap_batch=lost_response)
    version = pipeline.upload("jobs/churn.json", job_config("churn"))
    event = s3_put_event("jobs/churn.json", version)

    # GIVEN SubmitJob created the job but the invocation saw a 500: it releases its lease
    with pytest.raises(IngestIncompleteError):
        pipeline.ingest(event)
    # WHEN Lambda retries the invocation at once: no lease to wait for, the job is found by name
    [outcome] = pipeline.ingest(event)

    assert outcome.action == "duplicate"
    assert_one_job_run_once(pipeline, outcome.job_id)
