"""The job record on (moto) DynamoDB: created once, moved only forward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.names import TABLE

from config.records import (
    DuplicateJobError,
    advance,
    create_record,
    get_record,
    to_attribute,
)
from config.status import JobStatus


def submitted(job_id: str = "job-1") -> dict:
    return {"job_id": job_id, "name": "churn", "status": "SUBMITTED", "priority": "high", "rows": 0}


def test_a_record_is_created_once(ddb) -> None:
    create_record(ddb, TABLE, submitted())
    with pytest.raises(DuplicateJobError, match="job-1"):
        create_record(ddb, TABLE, submitted() | {"name": "other"})
    record = get_record(ddb, TABLE, "job-1")
    assert record["name"] == "churn"
    assert record["history"][0]["status"] == "SUBMITTED"
    assert record["expires_at"] > datetime.now(UTC).timestamp()


def test_status_moves_forward_with_history(ddb) -> None:
    create_record(ddb, TABLE, submitted())
    assert advance(ddb, TABLE, "job-1", JobStatus.RUNNING, attempt=1)
    assert advance(ddb, TABLE, "job-1", JobStatus.SUCCEEDED, fields={"rows": 1000, "seconds": 1.25})
    record = get_record(ddb, TABLE, "job-1")
    assert record["status"] == "SUCCEEDED"
    assert (record["rows"], record["seconds"], record["attempts"]) == (1000, 1.25, 1)
    assert [h["status"] for h in record["history"]] == ["SUBMITTED", "RUNNING", "SUCCEEDED"]


def test_a_terminal_record_never_moves(ddb) -> None:
    create_record(ddb, TABLE, submitted())
    assert advance(ddb, TABLE, "job-1", JobStatus.FAILED, reason="Essential container exited")
    for late in (JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.CANCELLED, JobStatus.FAILED):
        assert not advance(ddb, TABLE, "job-1", late, reason="late", attempt=2)
    record = get_record(ddb, TABLE, "job-1")
    assert record["status"] == "FAILED"
    assert record["status_reason"] == "Essential container exited"
    assert len(record["history"]) == 2


def test_running_repeats_only_for_a_later_attempt(ddb) -> None:
    create_record(ddb, TABLE, submitted())
    assert advance(ddb, TABLE, "job-1", JobStatus.RUNNING, attempt=2)
    assert not advance(ddb, TABLE, "job-1", JobStatus.RUNNING, attempt=1)  # late, reordered
    assert not advance(ddb, TABLE, "job-1", JobStatus.RUNNING, attempt=2)  # duplicated
    assert advance(ddb, TABLE, "job-1", JobStatus.RUNNING, attempt=3)
    assert get_record(ddb, TABLE, "job-1")["attempts"] == 3


def test_rejected_is_terminal_from_birth(ddb) -> None:
    create_record(
        ddb, TABLE, {"job_id": "bad", "status": "REJECTED", "status_reason": "name: required"}
    )
    assert not advance(ddb, TABLE, "bad", JobStatus.RUNNING, attempt=1)


def test_advancing_a_missing_record_writes_nothing(ddb) -> None:
    assert not advance(ddb, TABLE, "ghost", JobStatus.RUNNING, attempt=1)
    assert get_record(ddb, TABLE, "ghost") is None


def test_a_set_of_numbers_is_stored_as_a_number_set() -> None:
    assert to_attribute({3, 1}) == {"NS": ["1", "3"]}
