"""Exactly one Batch job per job record, even when deliveries race or an invocation dies.

The record is created first (conditional put) with a *submission lease*: `lease_token` and
`lease_until` (epoch seconds). Whoever holds the lease submits; `attach` then stores the Batch job
id and drops the lease. A redelivery that finds a record without `batch_job_id`:
- waits a little while the lease is fresh (a concurrent delivery is probably about to attach);
- takes the lease over once it has expired (its holder died: the lease outlives the Lambda timeout)
  or was released (its holder failed with an exception), looks for the earlier submission by its
  deterministic job name with `ListJobs`, and submits only when there is none.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from config import records
from config.models import JobConfig
from config.parsing import validate_document
from config.records import KEY, LEASE_TOKEN, LEASE_UNTIL, utc_now
from config.status import JobStatus
from submitter import batch as batch_api
from submitter import reasons
from submitter.exceptions import SubmissionInFlightError, SubmitRefusedError
from submitter.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """What tests replace: the clock, sleeping, lease tokens, and how long a redelivery waits for
    a concurrent submission before it gives up (and fails, so Lambda retries it later)."""

    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    new_token: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    wait_seconds: float = 3.0
    poll_seconds: float = 0.05


class Action(StrEnum):
    """What the submitter did with one upload (or one rerun)."""

    SUBMITTED = "submitted"  # a new Batch job
    DUPLICATE = "duplicate"  # a repeated delivery: the job it made the first time
    REJECTED = "rejected"  # an invalid config: a REJECTED record, no Batch job
    FAILED = "failed"  # Batch refused the submission: a FAILED record
    IGNORED = "ignored"  # not a job upload (a deletion, a kept rejected config, a vanished key)


@dataclass(frozen=True)
class Outcome:
    """What became of one upload (or one rerun)."""

    job_id: str
    action: Action
    batch_job_id: str | None = None
    reason: str | None = None


def new_job_record(
    config: JobConfig, job_id: str, settings: Settings, **fields: Any
) -> tuple[dict[str, Any], JobConfig]:
    """A SUBMITTED record for `config` under `job_id`, and the config as stored (its job_id set,
    so the container reads the same id)."""
    document = config.model_dump(mode="json", exclude_none=True) | {"job_id": job_id}
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    record = {
        "job_id": job_id,
        "name": config.name,
        "status": JobStatus.SUBMITTED.value,
        "priority": config.priority,
        "queue": settings.queue_for_priority(config.priority),
        "config": text,
        "shards": config.shards,
        **fields,
    }
    return record, stored_config(record, settings)


def stored_config(record: dict[str, Any], settings: Settings) -> JobConfig:
    return validate_document(json.loads(record["config"]), queues=settings.priorities)


def create_and_submit(
    ddb: Any,
    batch: Any,
    settings: Settings,
    record: dict[str, Any],
    config: JobConfig,
    runtime: Runtime,
) -> Outcome:
    """Create the record (status SUBMITTED, holding the lease) and submit its Batch job.

    Raises DuplicateJobError when the record exists already: the caller decides whether that is
    a redelivery (`resume`) or a reused job_id.
    """
    now = runtime.clock()
    token = runtime.new_token()
    lease = {LEASE_TOKEN: token, LEASE_UNTIL: _epoch(now) + settings.lease_seconds}
    records.create_record(
        ddb, settings.table, {**record, **lease}, now=now, ttl_days=settings.ttl_days
    )
    # A fresh record cannot have a Batch job yet: its name derives from a job id just claimed.
    return _submit_holding_lease(
        ddb, batch, settings, record[KEY], config, record["queue"], token, runtime, look=False
    )


def resume(
    ddb: Any,
    batch: Any,
    settings: Settings,
    job_id: str,
    runtime: Runtime,
    *,
    record: dict[str, Any] | None = None,
) -> Outcome:
    """A redelivery found the record: finish its submission if nobody else can, else no-op.

    The config submitted is the stored one (`stored_config`). `record`: the record as the
    caller just read it (saves the first read).
    """
    deadline = time.monotonic() + runtime.wait_seconds
    while True:
        if record is None:
            record = records.get_record(ddb, settings.table, job_id)
        if record is None:  # deleted in between (TTL or by hand): nothing to resume
            return Outcome(job_id, Action.DUPLICATE, reason="record vanished")
        if record.get("batch_job_id") or record["status"] != JobStatus.SUBMITTED:
            return Outcome(job_id, Action.DUPLICATE, batch_job_id=record.get("batch_job_id"))
        if _epoch(runtime.clock()) >= int(record.get(LEASE_UNTIL, 0)):
            token = runtime.new_token()
            if _take_lease(ddb, settings, job_id, record.get(LEASE_TOKEN), token, runtime):
                logger.warning("taking over the submission of %s", job_id)
                return _submit_holding_lease(
                    ddb,
                    batch,
                    settings,
                    job_id,
                    stored_config(record, settings),
                    record["queue"],
                    token,
                    runtime,
                    look=True,
                )
            record = None  # someone else took it: read again
            continue
        if time.monotonic() >= deadline:
            raise SubmissionInFlightError(job_id)
        runtime.sleep(runtime.poll_seconds)
        record = None


def _submit_holding_lease(
    ddb: Any,
    batch: Any,
    settings: Settings,
    job_id: str,
    config: JobConfig,
    queue: str,
    token: str,
    runtime: Runtime,
    *,
    look: bool,
) -> Outcome:
    try:
        found = None
        if look:
            found = batch_api.find_submitted(batch, queue=queue, job_id=job_id, sleep=runtime.sleep)
        if found:
            logger.warning("found the earlier submission %s of %s", found, job_id)
            batch_job_id = found
        else:
            request = batch_api.submit_request(
                config, job_id=job_id, queue=queue, job_definition=settings.job_definition
            )
            try:
                batch_job_id = batch_api.submit(batch, request, sleep=runtime.sleep)
            except SubmitRefusedError as exc:
                records.advance(ddb, settings.table, job_id, JobStatus.FAILED, reason=str(exc))
                release(ddb, settings, job_id, token)
                return Outcome(job_id, Action.FAILED, reason=str(exc))
        attach(ddb, batch, settings, job_id, batch_job_id, runtime)
    except Exception:
        # Our own failure (not a crash): let the redelivery take over at once.
        release(ddb, settings, job_id, token)
        raise
    return Outcome(
        job_id, Action.SUBMITTED if not found else Action.DUPLICATE, batch_job_id=batch_job_id
    )


def attach(
    ddb: Any, batch: Any, settings: Settings, job_id: str, batch_job_id: str, runtime: Runtime
) -> None:
    """Store the Batch job id (whatever the status: the container may already have started) and
    drop the lease. Should another Batch job be attached already, ours is the duplicate and is
    terminated; should the job have been cancelled meanwhile, the new Batch job is terminated."""
    attached = records.conditional_update(
        ddb,
        settings.table,
        job_id,
        update="SET #b = :b, #u = :now REMOVE #lt, #lu",
        condition=(
            "attribute_exists(#k) AND (attribute_not_exists(#b) OR #b = :b) AND #s <> :cancelled"
        ),
        names={
            "#k": KEY,
            "#b": "batch_job_id",
            "#s": "status",
            "#u": "updated_at",
            "#lt": LEASE_TOKEN,
            "#lu": LEASE_UNTIL,
        },
        values={
            ":b": batch_job_id,
            ":now": records.timestamp(runtime.clock()),
            ":cancelled": JobStatus.CANCELLED.value,
        },
    )
    if attached is not None:
        return
    # The rare paths: read the record to tell them apart.
    record = records.get_record(ddb, settings.table, job_id) or {}
    if record.get("status") == JobStatus.CANCELLED:
        batch_api.terminate(batch, batch_job_id, reasons.CANCELLED_WHILE_SUBMITTING)
    elif record.get("batch_job_id") != batch_job_id:
        logger.error("job %s has another Batch job; terminating %s", job_id, batch_job_id)
        batch_api.terminate(batch, batch_job_id, reasons.DUPLICATE_SUBMISSION)


def _take_lease(
    ddb: Any, settings: Settings, job_id: str, old: str | None, token: str, runtime: Runtime
) -> bool:
    values: dict[str, Any] = {
        ":new": token,
        ":until": _epoch(runtime.clock()) + settings.lease_seconds,
    }
    if old is None:
        held = "attribute_not_exists(#lt)"
    else:
        held = "#lt = :old"
        values[":old"] = old
    taken = records.conditional_update(
        ddb,
        settings.table,
        job_id,
        update="SET #lt = :new, #lu = :until",
        condition=f"attribute_not_exists(#b) AND {held}",
        names={"#b": "batch_job_id", "#lt": LEASE_TOKEN, "#lu": LEASE_UNTIL},
        values=values,
    )
    return taken is not None


def release(ddb: Any, settings: Settings, job_id: str, token: str) -> None:
    """Best effort: expire our lease so a redelivery need not wait for it."""
    try:
        records.conditional_update(
            ddb,
            settings.table,
            job_id,
            update="SET #lu = :zero",
            condition="#lt = :mine",
            names={"#lt": LEASE_TOKEN, "#lu": LEASE_UNTIL},
            values={":zero": 0, ":mine": token},
        )
    except ClientError:
        logger.warning("could not release the submission lease of %s", job_id, exc_info=True)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
