"""An array job's commit follows its parent's SUCCEEDED (`submitter.array_commit`): the state
handler submits one commit job (Batch requests checked against botocore's model by a Stubber),
a repeated event submits none, the commit job's FAILED fails the job, and its cost is the
array's. The reconciler's path is in test_reconcile.py."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from support import job_records
from support.events import load_event
from support.names import REGION, TABLE

from config import records
from config.digest import text_sha256
from config.status import JobStatus
from submitter import array_commit
from submitter import batch as batch_api
from submitter.state_change import handle_event

JOB_ID = "churn-0123456789abcdef"  # what tests/events/batch-*.json carry
PARENT = "7d1e2f30-aaaa-4bbb-8ccc-0123456789ab"
CONFIG = '{"job_id":"churn-0123456789abcdef","name":"churn","shards":4}'
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/batchscore-normal"
COMMIT_COMMAND = ["python", "-m", "job", "commit", "--job-id", JOB_ID]
DEFINITION = "arn:aws:batch:us-east-1:123456789012:job-definition/batchscore-job:4"


@pytest.fixture
def batch(aws_credentials: None) -> Any:
    client = boto3.client("batch", region_name=REGION)
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def open_array(ddb: Any, **fields: Any) -> None:
    job_records.open_record(
        ddb,
        JOB_ID,
        JobStatus.RUNNING,
        name="churn",
        batch_job_id=PARENT,
        config=CONFIG,
        shards=4,
        **fields,
    )


def record(ddb: Any) -> dict[str, Any]:
    return records.get_record(ddb, TABLE, JOB_ID)


def parent_succeeded() -> dict[str, Any]:
    return load_event("batch-array-parent-succeeded.json")


def commit_event(status: str, commit_id: str = "commit-1", **detail: Any) -> dict[str, Any]:
    """A commit job's state change, as Batch would send it for the job we submitted."""
    event = copy.deepcopy(parent_succeeded())
    body = event["detail"]
    del body["arrayProperties"]
    body.update(
        {
            "jobId": commit_id,
            "jobName": f"batchscore-{JOB_ID}-commit",
            "status": status,
            "statusReason": "",
            "parameters": {"job_id": JOB_ID, "config_sha256": "x", "batchscore_step": "commit"},
            **detail,
        }
    )
    return event


def expect_submit(batch: Any, commit_id: str = "commit-1") -> None:
    digest = text_sha256(CONFIG)
    batch.stubber.add_response(
        "submit_job",
        {"jobName": f"batchscore-{JOB_ID}-commit", "jobId": commit_id},
        {
            "jobName": f"batchscore-{JOB_ID}-commit",
            "jobQueue": QUEUE,
            "jobDefinition": DEFINITION,
            "parameters": {"job_id": JOB_ID, "config_sha256": digest, "batchscore_step": "commit"},
            "containerOverrides": {"command": [*COMMIT_COMMAND, "--config-sha256", digest]},
        },
    )


def expect_describe(batch: Any, commit_id: str, status: str | None, **detail: Any) -> None:
    jobs = []
    if status is not None:
        jobs = [
            {
                "jobName": "c",
                "jobId": commit_id,
                "jobQueue": QUEUE,
                "status": status,
                "startedAt": 1,
                "jobDefinition": DEFINITION,
                **detail,
            }
        ]
    batch.stubber.add_response("describe_jobs", {"jobs": jobs}, {"jobs": [commit_id]})


def test_the_parents_succeeded_submits_the_commit_job_once(ddb: Any, batch: Any) -> None:
    open_array(ddb)
    expect_submit(batch)

    change = handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)

    # THEN the record names its commit job and stays open: the commit records SUCCEEDED
    assert change is not None
    assert change.note == "commit job commit-1 submitted"
    after = record(ddb)
    assert after["commit_batch_job_id"] == "commit-1"
    assert after["status"] == "RUNNING"

    # WHEN the event comes again (at least once delivery): Batch is asked, nothing submitted
    expect_describe(batch, "commit-1", "RUNNING")
    again = handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)
    assert again is not None
    assert again.note == "commit job commit-1 is RUNNING"
    assert record(ddb)["commit_batch_job_id"] == "commit-1"


def test_two_deliveries_racing_leave_one_commit_job(
    ddb: Any, batch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_array(ddb)
    expect_submit(batch, "commit-2")
    batch.stubber.add_response(
        "terminate_job",
        {},
        {"jobId": "commit-2", "reason": "batchscore: duplicate submission"},
    )
    real_submit = batch_api.submit

    def other_delivery_first(client: Any, request: dict[str, Any]) -> str:
        records.conditional_update(
            ddb,
            TABLE,
            JOB_ID,
            update="SET commit_batch_job_id = :c",
            condition="attribute_exists(job_id)",
            names={},
            values={":c": "commit-1"},
        )
        return real_submit(client, request)

    monkeypatch.setattr(batch_api, "submit", other_delivery_first)

    change = handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)

    assert change is not None
    assert change.note == "a commit job was attached meanwhile"
    assert record(ddb)["commit_batch_job_id"] == "commit-1"


def test_a_parent_succeeded_on_a_terminal_record_submits_nothing(ddb: Any, batch: Any) -> None:
    open_array(ddb)
    records.advance(ddb, TABLE, JOB_ID, JobStatus.CANCELLED)
    change = handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)
    assert change is not None
    assert not change.applied
    assert "commit_batch_job_id" not in record(ddb)


def test_another_batch_jobs_parent_submits_nothing(ddb: Any, batch: Any) -> None:
    job_records.open_record(
        ddb, JOB_ID, JobStatus.RUNNING, batch_job_id="another", config=CONFIG, shards=4
    )
    change = handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)
    assert change is not None
    assert not change.applied
    assert "commit_batch_job_id" not in record(ddb)


def test_the_commit_jobs_failure_fails_the_job(ddb: Any) -> None:
    open_array(ddb, commit_batch_job_id="commit-1")
    attempts = [{"container": {"exitCode": 137, "reason": "OutOfMemoryError: killed"}}]

    change = handle_event(
        commit_event(
            "FAILED", statusReason="Essential container in task exited", attempts=attempts
        ),
        ddb=ddb,
        table=TABLE,
    )

    assert change is not None
    assert change.applied
    after = record(ddb)
    assert after["status"] == "FAILED"
    assert after["status_reason"] == (
        "the commit of the array's shards failed: Essential container in task exited; "
        "OutOfMemoryError: killed"
    )
    assert after["exit_code"] == 137


def test_other_commit_events_change_nothing(ddb: Any) -> None:
    open_array(ddb, commit_batch_job_id="commit-1")
    before = record(ddb)
    for event in (
        commit_event("RUNNING"),
        commit_event("SUCCEEDED"),  # the container recorded SUCCEEDED itself
        commit_event("FAILED", commit_id="commit-9"),  # a duplicate we terminated
    ):
        change = handle_event(event, ddb=ddb, table=TABLE)
        assert change is not None
        assert not change.applied
    assert record(ddb) == before


def test_a_failed_commit_whose_event_was_lost_fails_the_job(ddb: Any, batch: Any) -> None:
    # GIVEN the commit job failed and its event never came: the parent's SUCCEEDED again
    # (the reconciler replays it) finds the commit job FAILED in Batch
    open_array(ddb, commit_batch_job_id="commit-1")
    expect_describe(batch, "commit-1", "FAILED", statusReason="Task failed to start")

    handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)

    after = record(ddb)
    assert after["status"] == "FAILED"
    assert after["status_reason"] == (
        "the commit of the array's shards failed: Task failed to start"
    )


def test_a_commit_job_batch_forgot_fails_the_job(ddb: Any, batch: Any) -> None:
    open_array(ddb, commit_batch_job_id="commit-1")
    expect_describe(batch, "commit-1", None)
    handle_event(parent_succeeded(), ddb=ddb, table=TABLE, batch=batch)
    assert record(ddb)["status"] == "FAILED"
    assert array_commit.LOST_COMMIT in record(ddb)["status_reason"]


def test_the_commit_jobs_end_costs_the_array(ddb: Any, batch: Any) -> None:
    # The cost comes from the parent's description, asked for when the commit job ends.
    open_array(ddb, commit_batch_job_id="commit-1")
    records.advance(ddb, TABLE, JOB_ID, JobStatus.SUCCEEDED)
    parent = parent_succeeded()["detail"]
    batch.stubber.add_response(
        "describe_jobs",
        {"jobs": [{k: v for k, v in parent.items() if k != "tags"}]},
        {"jobs": [PARENT]},
    )
    event = array_commit.parent_event(ddb, TABLE, batch, commit_event("SUCCEEDED"))
    assert event is not None
    assert event["detail"]["jobId"] == PARENT
    # not for a running commit job, nor for one the record does not name
    assert array_commit.parent_event(ddb, TABLE, batch, commit_event("RUNNING")) is None
    assert (
        array_commit.parent_event(ddb, TABLE, batch, commit_event("FAILED", commit_id="x")) is None
    )
