"""An array job's commit, started by the array parent's SUCCEEDED (events or the reconciler).

Batch makes an array parent SUCCEEDED only after every child has succeeded, so that event is
the "all shards done" signal: no child counts itself on the job's record (one hot item whose
size and write rate grew with the shard count). On it the state handler submits one small
*commit job*: the same job definition and queue as the array, with the command `python -m job
commit --job-id ID` (`job.commit_job`). It reads the N shard markers, holds the bad-rows budget
over the whole array, writes the one manifest and records SUCCEEDED with the figures.

Why a Batch job and not the commit in this Lambda: the output is written by the job's role only
(this Lambda would need read and write on every output bucket), the commit code is the job's
(pyarrow, not in the Lambda zip), and reading 10,000 markers takes longer than the state
Lambda's 30 s at ~20 ms a GET without a pool. Why submitted here and not at ingest with
`dependsOn`: the ingest Lambda's SubmitJob budget (50 TPS for the account) is the burst
bottleneck, and one SubmitJob at an array's end is spread over time; the exactly-once submission
logic stays about one Batch job per record; and the reconciler, which replays the parent's
description through this handler, finishes a commit whose event was lost with no code of its own.

Exactly one commit job is attached per record (`commit_batch_job_id`, set only when absent):
a second delivery of the same event that loses the race terminates its own submission. A second
commit job that slipped through would be harmless anyway (the manifest is created only if absent
and the record moves only forward).

The commit job's own events carry the job's `job_id` parameter and `batchscore_step=commit`:
its FAILED (a commit killed or out of retries, which cannot record itself) fails the job,
guarded on the record carrying that commit job. Its other statuses change nothing: the
container records SUCCEEDED (or a permanent failure) itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from config import records
from config.digest import text_sha256
from config.records import KEY, timestamp, utc_now
from config.status import TERMINAL, JobStatus
from submitter import batch as batch_api
from submitter import reasons

logger = logging.getLogger(__name__)

STEP_PARAMETER = "batchscore_step"  # a Batch parameter no command references: a label
COMMIT_STEP = "commit"
COMMIT_JOB_ID = "commit_batch_job_id"  # the record's attribute naming its commit job
COMMIT_NAME_SUFFIX = "-commit"
COMMIT_COMMAND = ("python", "-m", "job", "commit", "--job-id")
LOST_COMMIT = "batchscore: the commit job is unknown to Batch"


def is_commit_job(detail: dict[str, Any]) -> bool:
    return (detail.get("parameters") or {}).get(STEP_PARAMETER) == COMMIT_STEP


def commit_request(job_id: str, config_text: str, parent: dict[str, Any]) -> dict[str, Any]:
    """SubmitJob arguments of the commit job of the array `parent` (its Batch description)."""
    digest = text_sha256(config_text)
    return {
        "jobName": batch_api.job_name(job_id) + COMMIT_NAME_SUFFIX,
        "jobQueue": parent["jobQueue"],
        "jobDefinition": parent["jobDefinition"],
        "parameters": {"job_id": job_id, "config_sha256": digest, STEP_PARAMETER: COMMIT_STEP},
        "containerOverrides": {"command": [*COMMIT_COMMAND, job_id, "--config-sha256", digest]},
    }


def on_parent_succeeded(
    ddb: Any, table: str, job_id: str, parent: dict[str, Any], batch: Any
) -> tuple[bool, str]:
    """Submit the commit job of array `parent` (a Batch job description) unless the record has
    one; if it has one that FAILED (its event lost), fail the job. Returns (applied, note)."""
    record = records.get_record(ddb, table, job_id)
    if record is None or record.get("status") in TERMINAL:
        return False, "the record is terminal"
    if record.get("batch_job_id") != parent.get("jobId"):
        return False, "another Batch job's record"
    if batch is None:
        return False, "no Batch client: the reconciler will submit the commit"
    existing = record.get(COMMIT_JOB_ID)
    if existing:
        return _follow(ddb, table, job_id, existing, batch)
    # A record always has its config; without one the commit job refuses it (digest mismatch).
    request = commit_request(job_id, record.get("config") or "", parent)
    commit_id = batch_api.submit(batch, request)
    if not _attach(ddb, table, job_id, parent["jobId"], commit_id):
        logger.warning("job %s has a commit job already; terminating %s", job_id, commit_id)
        batch_api.terminate(batch, commit_id, reasons.DUPLICATE_SUBMISSION)
        return False, "a commit job was attached meanwhile"
    logger.info("commit job submitted", extra={"job_id": job_id, "commit_job": commit_id})
    return False, f"commit job {commit_id} submitted"


def on_commit_event(ddb: Any, table: str, job_id: str, detail: dict[str, Any]) -> bool:
    """A commit job's state change: only its FAILED is recorded (the job FAILED)."""
    if detail.get("status") != "FAILED":
        return False
    return _fail(ddb, table, job_id, detail)


def parent_event(
    ddb: Any, table: str, batch: Any, event: Mapping[str, Any]
) -> dict[str, Any] | None:
    """For a commit job's final event: the same event with the array parent's description in
    it (what the job's cost is computed from); None when there is nothing to cost yet."""
    detail = event.get("detail") or {}
    if detail.get("status") not in ("SUCCEEDED", "FAILED"):
        return None
    job_id = (detail.get("parameters") or {}).get("job_id")
    record = records.get_record(ddb, table, job_id) if job_id else None
    if not record or record.get(COMMIT_JOB_ID) != detail.get("jobId"):
        return None
    parent_id = record.get("batch_job_id")
    described = batch_api.with_backoff(lambda: batch.describe_jobs(jobs=[parent_id]))
    jobs = described.get("jobs", [])
    return {**event, "detail": jobs[0]} if jobs else None


def _follow(ddb: Any, table: str, job_id: str, commit_id: str, batch: Any) -> tuple[bool, str]:
    jobs = batch_api.with_backoff(lambda: batch.describe_jobs(jobs=[commit_id])).get("jobs", [])
    if not jobs:
        detail = {"jobId": commit_id, "statusReason": LOST_COMMIT}
        return _fail(ddb, table, job_id, detail), "the commit job is unknown to Batch"
    commit = jobs[0]
    if commit.get("status") == "FAILED":
        return _fail(ddb, table, job_id, commit), "the commit job failed"
    return False, f"commit job {commit_id} is {commit.get('status')}"


def _fail(ddb: Any, table: str, job_id: str, detail: dict[str, Any]) -> bool:
    reason = detail.get("statusReason") or "failed"
    attempts = detail.get("attempts") or []
    container = (attempts[-1].get("container") or {}) if attempts else {}
    if container.get("reason") and container["reason"] not in reason:
        reason = f"{reason}; {container['reason']}"
    fields = {} if container.get("exitCode") is None else {"exit_code": container["exitCode"]}
    return records.advance(
        ddb,
        table,
        job_id,
        JobStatus.FAILED,
        reason=f"the commit of the array's shards failed: {reason}"[:1000],
        fields=fields,
        guard=records.Guard(
            "#commit_job = :commit_job",
            names={"#commit_job": COMMIT_JOB_ID},
            values={":commit_job": detail.get("jobId", "")},
        ),
    )


def _attach(ddb: Any, table: str, job_id: str, parent_id: str, commit_id: str) -> bool:
    open_statuses = {f":o{i}": s.value for i, s in enumerate(JobStatus) if s not in TERMINAL}
    attached = records.conditional_update(
        ddb,
        table,
        job_id,
        update="SET #c = :c, #u = :now",
        condition=(
            f"attribute_exists(#k) AND attribute_not_exists(#c) AND #b = :b "
            f"AND #s IN ({', '.join(open_statuses)})"
        ),
        names={
            "#k": KEY,
            "#c": COMMIT_JOB_ID,
            "#b": "batch_job_id",
            "#s": "status",
            "#u": "updated_at",
        },
        values={":c": commit_id, ":b": parent_id, ":now": timestamp(utc_now()), **open_statuses},
    )
    return attached is not None
