"""Batch "Job State Change" events -> the job record: forward only, late and repeated events
ignored, array parents and children told apart."""

from __future__ import annotations

from typing import Any

import pytest
from support import job_records
from support.events import load_event
from support.names import TABLE

from config import records
from config.deployment import runnable_cancelled_reason
from config.status import JobStatus
from submitter.state_change import handle_event

JOB_ID = "churn-0123456789abcdef"  # what tests/events/batch-*.json carry


def open_record(ddb: Any, status: JobStatus = JobStatus.SUBMITTED, **fields: Any) -> None:
    job_records.open_record(ddb, JOB_ID, status, name="churn", **fields)


def send(ddb: Any, name: str, **detail: Any):
    event = load_event(name)
    event["detail"].update(detail)
    return handle_event(event, ddb=ddb, table=TABLE)


def record(ddb: Any) -> dict[str, Any]:
    return records.get_record(ddb, TABLE, JOB_ID)


def test_runnable_changes_nothing_but_remembers_the_batch_job_id(ddb: Any) -> None:
    open_record(ddb)
    change = send(ddb, "batch-runnable.json")
    assert not change.applied
    assert record(ddb)["status"] == "SUBMITTED"
    assert record(ddb)["batch_job_id"] == "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"


def test_running_moves_submitted_forward_with_the_attempt(ddb: Any) -> None:
    open_record(ddb)
    assert send(ddb, "batch-running.json").applied
    assert record(ddb)["status"] == "RUNNING"
    assert record(ddb)["attempts"] == 1


def test_running_after_the_container_reported_it_is_a_no_op(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING)
    assert not send(ddb, "batch-running.json").applied
    history = record(ddb)["history"]
    assert [h["status"] for h in history] == ["SUBMITTED", "RUNNING"]


def test_a_second_attempt_running_is_recorded(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING)
    assert send(ddb, "batch-running-second-attempt.json").applied
    assert record(ddb)["attempts"] == 2


def test_succeeded_after_the_container_wrote_succeeded_is_a_no_op(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING)
    records.advance(ddb, TABLE, JOB_ID, JobStatus.SUCCEEDED, fields={"rows": 10})
    before = record(ddb)
    assert not send(ddb, "batch-succeeded.json").applied
    assert record(ddb) == before


def test_succeeded_without_the_containers_word_closes_the_record(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING)
    assert send(ddb, "batch-succeeded.json").applied
    assert record(ddb)["status"] == "SUCCEEDED"
    assert "recorded no figures" in record(ddb)["status_reason"]


@pytest.mark.parametrize(
    ("event", "reason", "exit_code", "attempts"),
    [
        ("batch-failed-permanent.json", "Essential container in task exited", 2, 1),
        ("batch-failed-transient-exhausted.json", "Essential container in task exited", 3, 3),
        ("batch-failed-oom.json", "OutOfMemoryError: Container killed", 137, 1),
        ("batch-failed-timeout.json", "Job attempt duration exceeded timeout", 137, 1),
        ("batch-failed-spot.json", "Host EC2 (instance i-0a1b2c3d4e5f67890) terminated.", None, 3),
    ],
)
def test_failed_records_reason_exit_code_and_attempts(
    ddb: Any, event: str, reason: str, exit_code: int | None, attempts: int
) -> None:
    open_record(ddb, JobStatus.RUNNING)
    assert send(ddb, event).applied
    after = record(ddb)
    assert after["status"] == "FAILED"
    assert reason in after["status_reason"]
    assert after.get("exit_code") == exit_code
    assert after["attempts"] == attempts
    assert after["history"][-1]["status"] == "FAILED"


def test_a_job_its_queue_cancelled_in_runnable_fails_with_batchs_words(ddb: Any) -> None:
    """The queue's jobStateTimeLimitAction (terraform/batch.tf, one per blocking reason): Batch
    fails the job before any attempt, and the record keeps Batch's reason as written (the README's
    troubleshooting quotes it)."""
    open_record(ddb)
    assert send(ddb, "batch-failed-runnable-time-limit.json").applied
    after = record(ddb)
    assert after["status"] == "FAILED"
    assert after["status_reason"] == runnable_cancelled_reason(
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
    )
    assert after.get("exit_code") is None


def test_failed_straight_from_submitted(ddb: Any) -> None:
    open_record(ddb)
    assert send(ddb, "batch-failed-spot.json").applied
    assert record(ddb)["status"] == "FAILED"


@pytest.mark.parametrize("terminal", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
@pytest.mark.parametrize(
    "late",
    [
        "batch-runnable.json",
        "batch-running.json",
        "batch-succeeded.json",
        "batch-failed-permanent.json",
        "batch-failed-terminated.json",
    ],
)
def test_a_terminal_record_never_changes(ddb: Any, terminal: JobStatus, late: str) -> None:
    open_record(ddb, JobStatus.RUNNING, batch_job_id="4c7599ae-0a82-49aa-ba5a-4727fcce14a8")
    records.advance(ddb, TABLE, JOB_ID, terminal)
    before = record(ddb)
    change = send(ddb, late)
    assert not change.applied
    assert record(ddb) == before


def test_duplicated_failed_event_is_recorded_once(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING)
    assert send(ddb, "batch-failed-oom.json").applied
    assert not send(ddb, "batch-failed-oom.json").applied
    assert [h["status"] for h in record(ddb)["history"]] == ["SUBMITTED", "RUNNING", "FAILED"]


def test_array_child_running_moves_the_job_to_running(ddb: Any) -> None:
    open_record(ddb, shards=4)
    assert send(ddb, "batch-array-child-running.json").applied
    assert record(ddb)["status"] == "RUNNING"
    # A child's id is not the job's: its parent's is (`<parent>:<index>`).
    assert record(ddb)["batch_job_id"] == "7d1e2f30-aaaa-4bbb-8ccc-0123456789ab"
    assert not send(ddb, "batch-array-parent-running.json").applied


def test_array_child_failure_is_noted_and_the_parent_fails_the_job(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING, shards=4)
    # a child fails: the job is still running (the other shards go on)
    child = send(ddb, "batch-array-child-failed.json")
    assert child.applied
    assert record(ddb)["status"] == "RUNNING"
    assert record(ddb)["failed_shard"]["index"] == 2
    # a child succeeding says nothing about the job
    assert not send(ddb, "batch-array-child-succeeded.json").applied
    # the parent's FAILED finishes it, naming the shard and its exit code
    assert send(ddb, "batch-array-parent-failed.json").applied
    after = record(ddb)
    assert after["status"] == "FAILED"
    assert "Array Child Job failed" in after["status_reason"]
    assert "shard 2" in after["status_reason"]
    assert after["exit_code"] == 2


def test_array_parent_succeeded_after_the_last_child_committed_is_a_no_op(ddb: Any) -> None:
    open_record(ddb, JobStatus.RUNNING, shards=4)
    records.advance(ddb, TABLE, JOB_ID, JobStatus.SUCCEEDED, fields={"shards_done": 4})
    assert not send(ddb, "batch-array-parent-succeeded.json").applied
    assert record(ddb)["status"] == "SUCCEEDED"


def test_job_found_by_name_when_parameters_are_missing(ddb: Any) -> None:
    open_record(ddb)
    assert send(ddb, "batch-running.json", parameters={}).applied
    assert record(ddb)["status"] == "RUNNING"


def test_foreign_jobs_and_other_events_are_ignored(ddb: Any) -> None:
    assert send(ddb, "batch-running.json", parameters={}, jobName="someone-elses-job") is None
    assert handle_event({"detail-type": "Scheduled Event"}, ddb=ddb, table=TABLE) is None


def test_event_for_an_unknown_job_changes_nothing(ddb: Any) -> None:
    change = send(ddb, "batch-failed-permanent.json")
    assert not change.applied
    assert record(ddb) is None
