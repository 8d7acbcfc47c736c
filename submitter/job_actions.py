"""Cancel and rerun, as the CLI calls them (clients and settings passed in)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from config import records
from config.records import KEY, LEASE_TOKEN, LEASE_UNTIL
from config.status import JobStatus
from submitter import batch as batch_api
from submitter.exceptions import JobNotFoundError, JobStateError, RerunIncompleteError
from submitter.settings import Settings
from submitter.submission import (
    Action,
    Outcome,
    Runtime,
    create_and_submit,
    new_job_record,
    release,
    resume,
    stored_config,
)

logger = logging.getLogger(__name__)

CANCEL_REASON = "cancelled with batchscore cancel"
RERUN_SUFFIX_CHARS = 8
# After a failed SubmitJob, how long a rerun waits for Batch to list a job it may have made.
RERUN_LISTING_WAIT_SECONDS = 30.0
RERUN_LISTING_POLL_SECONDS = 2.0


def cancel(
    ddb: Any,
    batch: Any,
    settings: Settings,
    job_id: str,
    *,
    reason: str = CANCEL_REASON,
    runtime: Runtime | None = None,
) -> bool:
    """Terminate the job's Batch job (an array parent takes its children along) and record
    CANCELLED. False when the job had finished already (nothing is changed then)."""
    runtime = runtime or Runtime()
    record = records.get_record(ddb, settings.table, job_id)
    if record is None:
        raise JobNotFoundError(job_id)
    status = JobStatus(record["status"])
    if status.is_terminal:
        if status == JobStatus.CANCELLED and record.get("batch_job_id"):
            # Cancelling again re-sends TerminateJob (idempotent) in case the first one failed.
            batch_api.terminate(batch, record["batch_job_id"], reason, sleep=runtime.sleep)
        return False
    batch_job_id = record.get("batch_job_id") or batch_api.find_submitted(
        batch, queue=record["queue"], job_id=job_id, sleep=runtime.sleep
    )
    # Record first: the state-change events that TerminateJob causes then find a terminal
    # record, and a submission still in flight sees CANCELLED when it attaches (and terminates).
    moved = records.advance(
        ddb, settings.table, job_id, JobStatus.CANCELLED, reason=reason, now=runtime.clock()
    )
    if batch_job_id:
        batch_api.terminate(batch, batch_job_id, reason, sleep=runtime.sleep)
    return moved


def rerun(
    ddb: Any,
    batch: Any,
    settings: Settings,
    job_id: str,
    *,
    runtime: Runtime | None = None,
) -> Outcome:
    """Submit the stored config of a finished job again as a new job linked by `rerun_of`.

    Nobody redelivers a CLI call the way S3 redelivers an upload, so a rerun whose submission
    fails after its record exists recovers at once, the way a redelivered upload does (`resume`:
    find the Batch job by its deterministic name, submit only when there is none): a `SubmitJob`
    whose answer was lost to a 5xx must not leave a job that runs without its record knowing, and
    the user must not be pushed into a second rerun of the same work."""
    runtime = runtime or Runtime()
    original = finished_record(ddb, settings, job_id)
    new_id = rerun_id(job_id, runtime.new_token())
    record, config = new_job_record(
        stored_config(original, settings),
        new_id,
        settings,
        upload=original.get("upload"),
        rerun_of=job_id,
    )
    try:
        return create_and_submit(ddb, batch, settings, record, config, runtime)
    except Exception as first:
        stored = records.get_record(ddb, settings.table, new_id)
        if stored is None:
            raise  # nothing was recorded, so nothing was submitted: a plain failure
        logger.warning("rerun %s did not finish (%s); recovering it", new_id, first)
        try:
            recovered = _recover(ddb, batch, settings, stored, runtime)
        except Exception as second:
            raise RerunIncompleteError(new_id, job_id, second) from second
    # `resume` calls a job it found a "duplicate" (of a delivery); here it is this rerun's.
    return replace(recovered, action=Action.SUBMITTED) if recovered.batch_job_id else recovered


def finished_record(ddb: Any, settings: Settings, job_id: str) -> dict[str, Any]:
    """The record of a job a rerun may start from: over, and not rejected."""
    original = records.get_record(ddb, settings.table, job_id)
    if original is None:
        raise JobNotFoundError(job_id)
    status = JobStatus(original["status"])
    if status == JobStatus.REJECTED or not original.get("config"):
        raise JobStateError(f"job {job_id!r} was rejected: fix the config and upload it again")
    if not status.is_terminal:
        raise JobStateError(f"job {job_id!r} is {status.value}: cancel it first or let it finish")
    return original


def _recover(
    ddb: Any, batch: Any, settings: Settings, stored: dict[str, Any], runtime: Runtime
) -> Outcome:
    """Finish a rerun whose record exists, the way a redelivery would, but at once."""
    job_id = stored[KEY]
    token, until = stored.get(LEASE_TOKEN), int(stored.get(LEASE_UNTIL) or 0)
    if token and until > runtime.clock().timestamp():
        # A live lease (the PutItem's answer was lost, or releasing failed too): the new id is
        # this call's alone, so the lease is ours. Release it, or `resume` would wait it out.
        release(ddb, settings, job_id, token)
    if not stored.get("batch_job_id"):
        # SubmitJob may have been carried out: Batch's ListJobs can take a moment to list a new
        # job, and `resume` submits when it finds none. Give it that moment first.
        _await_listing(batch, stored["queue"], job_id, runtime)
    return resume(ddb, batch, settings, job_id, runtime)


def _await_listing(batch: Any, queue: str, job_id: str, runtime: Runtime) -> None:
    waited = 0.0
    while waited < RERUN_LISTING_WAIT_SECONDS:
        if batch_api.find_submitted(batch, queue=queue, job_id=job_id, sleep=runtime.sleep):
            return
        runtime.sleep(RERUN_LISTING_POLL_SECONDS)
        waited += RERUN_LISTING_POLL_SECONDS


def rerun_id(job_id: str, token: str) -> str:
    """`<original>-r<8 hex>`, kept within the 64 characters a job id may have."""
    suffix = f"-r{token[:RERUN_SUFFIX_CHARS]}"
    return job_id[: 64 - len(suffix)] + suffix
