"""Job records put straight into the table, as the submitter (or the container) left them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config import records
from config.status import JobStatus
from support.names import TABLE


def open_record(
    ddb: Any,
    job_id: str,
    status: JobStatus = JobStatus.SUBMITTED,
    *,
    batch_job_id: str | None = None,
    at: datetime | None = None,
    name: str = "n",
    table: str = TABLE,
    **fields: Any,
) -> dict[str, Any]:
    """A record created SUBMITTED then moved to `status` (RUNNING as attempt 1), last touched
    `at` (now by default); the record as stored."""
    record = {"job_id": job_id, "name": name, "status": JobStatus.SUBMITTED.value, **fields}
    if batch_job_id:
        record["batch_job_id"] = batch_job_id
    records.create_record(ddb, table, record, now=at)
    if status != JobStatus.SUBMITTED:
        attempt = 1 if status == JobStatus.RUNNING else None
        assert records.advance(ddb, table, job_id, status, attempt=attempt, now=at)
    return records.get_record(ddb, table, job_id)
