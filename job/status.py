"""The job record, as the container sees it: RUNNING, SUCCEEDED (or FAILED with the container's
own reason when a retry cannot help). An array's children write nothing here: the array's
commit job (`job.commit_job`) records its end, once.

Every write is conditional (`config.records.advance`): a late or repeated attempt never moves a
record backwards. DynamoDB errors are translated here, where the calls are made.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config import records
from config.records import get_record
from config.status import TERMINAL, JobStatus
from job.exceptions import JobError, RecordError, translate_client_error

log = logging.getLogger(__name__)

# "standard" retries throttling and 5xx with backoff; what is left after it is transient.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


def load_record(ddb: Any, table: str, job_id: str) -> dict[str, Any]:
    try:
        record = get_record(ddb, table, job_id)
    except (ClientError, BotoCoreError) as exc:
        raise translate_client_error(exc, f"reading job {job_id!r} from {table}") from exc
    if record is None:
        raise RecordError(f"job {job_id!r} has no record in {table}")
    return record


def job_is_over(ddb: Any, table: str, job_id: str) -> bool:
    """Whether job `job_id` can no longer write anything: its record is terminal, or gone (a
    record expires long after its job ended). Asked about the holder of an output's claim."""
    try:
        record = get_record(ddb, table, job_id)
    except (ClientError, BotoCoreError) as exc:
        raise translate_client_error(exc, f"reading job {job_id!r} from {table}") from exc
    return record is None or record.get("status") in TERMINAL


def advance(ddb: Any, table: str, job_id: str, status: JobStatus, **kwargs: Any) -> bool:
    """`records.advance` with errors translated; False (logged) when the record was ahead."""
    try:
        moved = records.advance(ddb, table, job_id, status, **kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise translate_client_error(exc, f"moving job {job_id!r} to {status}") from exc
    if not moved:
        log.warning(
            "record not moved", extra={"job_id": job_id, "status": status.value, "stale": True}
        )
    return moved


def mark_running(ddb: Any, table: str, job_id: str, attempt: int) -> bool:
    return advance(ddb, table, job_id, JobStatus.RUNNING, attempt=attempt)


def mark_succeeded(ddb: Any, table: str, job_id: str, figures: dict[str, Any]) -> bool:
    """figures: rows, seconds, output_uri, manifest_uri, bad_rows (set aside under _errors/)."""
    return advance(ddb, table, job_id, JobStatus.SUCCEEDED, fields=figures)


def mark_failed(ddb: Any, table: str, job_id: str, error: JobError) -> bool:
    """Only for permanent errors: Batch will not retry, and only the container knows why."""
    return advance(
        ddb,
        table,
        job_id,
        JobStatus.FAILED,
        reason=str(error),
        fields={"exit_code": error.exit_code},
    )
