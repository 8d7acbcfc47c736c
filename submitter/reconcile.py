"""Open job records against AWS Batch: the safety net for a state-change event that never arrived.

EventBridge delivers Batch's events to the state Lambda at least once, but a delivery that keeps
failing ends in the dead-letter queue, and a container that died without writing its own status
then leaves its record RUNNING (or SUBMITTED) forever. The reconciler asks Batch instead: the
records still open (`SUBMITTED`, `RUNNING`) that nothing has touched for a while, one
`DescribeJobs` per 100 of them, and each job's description goes through the state-change handler
exactly as an event would (a DescribeJobs job has the shape of an event's `detail`). So the
forward-only rules, array handling and failure reasons are the handler's, not repeated here, and
a record that moved on meanwhile is not moved back.

A record without a Batch job id is a submission that died between `SubmitJob` and the record
update (or before `SubmitJob`) and whose redeliveries have not finished it (yet). Batch is asked
for a job of its deterministic name: one found is attached and applied like any other. None
found once the upload can no longer be redelivered (`SUBMISSION_WINDOW`) means nothing will ever
submit it: the record becomes FAILED with `NEVER_SUBMITTED` as its reason, so the status is exact
and `batchscore rerun` can take it. Before that window it is reported and left to the ingest side.

What it does not do:
- guess: a job Batch no longer knows (it keeps jobs about 7 days) is reported, never changed;
- touch fresh records (younger than `older_than`: a job being submitted or just started, which
  Batch may not list yet);
- touch terminal records: only open statuses are queried, and the handler's writes are
  conditional on the record being open anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from config import records
from config.records import (
    LEASE_UNTIL,
    STATUS_INDEX,
    STATUS_INDEX_RANGE,
    from_item,
    timestamp,
    utc_now,
)
from config.status import JobStatus
from submitter import state_change
from submitter.batch import find_submitted, with_backoff

logger = logging.getLogger(__name__)

SCHEDULED_DETAIL_TYPE = "Scheduled Event"  # what an EventBridge schedule sends
DEFAULT_OLDER_THAN = timedelta(minutes=10)
DEFAULT_LIMIT = 500  # per run: 5 DescribeJobs, ~2 DynamoDB calls a record; the Lambda has 30 s
# Batch keeps a job's description about 7 days after it ends: older open records cannot be
# settled by asking Batch, so the schedule leaves them to `batchscore reconcile` and a person.
SCHEDULED_SINCE = timedelta(days=8)
DESCRIBE_MAX = 100  # DescribeJobs takes at most 100 job ids
OPEN = (JobStatus.SUBMITTED, JobStatus.RUNNING)
# After this long nothing submits a record that has no Batch job: S3's events reach the ingest
# Lambda asynchronously, retried for at most 6 hours (Lambda's default maximum event age;
# terraform sets no other), and a submission lease lasts 70 s
# (submitter.settings.DEFAULT_LEASE_SECONDS; a test holds this above their sum).
SUBMISSION_WINDOW = timedelta(hours=6, minutes=10)
NEVER_SUBMITTED = (
    "never submitted: its submission kept failing until no retry was left (see the ingest "
    "Lambda's dead-letter queue); `batchscore rerun` this job, or upload the config again "
    "(without its job_id)"
)

# Outcome actions


class Verdict(StrEnum):
    """What the reconciler did with one record."""

    CHANGED = "changed"  # the record now says what Batch says
    UNCHANGED = "unchanged"  # it already did
    UNKNOWN = "unknown to Batch"  # Batch no longer knows the job: reported, never guessed
    NOT_ATTACHED = "no Batch job id"  # no job found for it yet: left for a later run


@dataclass(frozen=True)
class Finding:
    """One open record compared with Batch."""

    job_id: str
    batch_job_id: str | None
    was: str  # the record's status before
    batch_status: str | None  # None: Batch did not describe the job
    status: str  # the record's status after
    action: Verdict

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reconcile(
    ddb: Any,
    batch: Any,
    table: str,
    *,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    now: datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
    since: timedelta | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Finding]:
    """Compare the open records untouched for `older_than` with Batch; apply what Batch says.

    `limit`: at most this many records, oldest first (None: all). `since`: only records created
    within this long (None: any age); the schedule passes `SCHEDULED_SINCE` so that records
    Batch has forgotten, which stay open until someone decides, do not fill every run's `limit`
    and starve the records it could still settle."""
    now = now or utc_now()
    cutoff = timestamp(now - older_than)
    earliest = timestamp(now - since) if since is not None else None
    open_records = stale_records(ddb, table, cutoff, limit, earliest=earliest)
    return compare(ddb, batch, table, open_records, now=now, sleep=sleep)


def stale_records(
    ddb: Any, table: str, cutoff: str, limit: int | None, *, earliest: str | None = None
) -> list[dict[str, Any]]:
    """Open records last updated before `cutoff` (an ISO timestamp), created after `earliest`
    (when given), oldest first, at most `limit` (None: all).

    One Query per open status on the `by-status` index. A record updated before the cutoff was
    created before it too, so the index's range key bounds the read and `updated_at` filters it.
    """
    found: list[dict[str, Any]] = []
    for status in OPEN:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": (
                "#s = :s AND #c BETWEEN :earliest AND :cutoff"
                if earliest
                else "#s = :s AND #c < :cutoff"
            ),
            "FilterExpression": "#u < :cutoff",
            "ExpressionAttributeNames": {
                "#s": "status",
                "#c": STATUS_INDEX_RANGE,
                "#u": "updated_at",
            },
            "ExpressionAttributeValues": {":s": {"S": status.value}, ":cutoff": {"S": cutoff}},
        }
        if earliest:
            kwargs["ExpressionAttributeValues"][":earliest"] = {"S": earliest}
        while limit is None or len(found) < limit:
            page = ddb.query(**kwargs)
            found.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found if limit is None else found[:limit]


def compare(
    ddb: Any,
    batch: Any,
    table: str,
    open_records: Iterable[dict[str, Any]],
    *,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Finding]:
    """Feed Batch's description of each record's job to the state-change handler."""
    now = now or utc_now()
    pending = list(open_records)
    ids = [r["batch_job_id"] for r in pending if r.get("batch_job_id")]
    described = describe(batch, ids, sleep=sleep)
    findings = []
    for record in pending:
        if record.get("batch_job_id"):
            finding = _apply(ddb, batch, table, record, described)
        else:
            finding = _unattached(ddb, batch, table, record, now=now, sleep=sleep)
        if finding.action in (Verdict.CHANGED, Verdict.UNKNOWN):
            logger.info("reconciled", extra=finding.as_dict())
        findings.append(finding)
    return findings


def describe(
    batch: Any, batch_job_ids: list[str], *, sleep: Callable[[float], None] = time.sleep
) -> dict[str, dict[str, Any]]:
    """{Batch job id: DescribeJobs job} for the ids Batch knows, 100 per call."""
    unique = list(dict.fromkeys(batch_job_ids))
    jobs: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), DESCRIBE_MAX):
        chunk = unique[start : start + DESCRIBE_MAX]
        page = with_backoff(partial(batch.describe_jobs, jobs=chunk), sleep=sleep)
        jobs.update({job["jobId"]: job for job in page.get("jobs", [])})
    return jobs


def _apply(
    ddb: Any,
    batch: Any,
    table: str,
    record: dict[str, Any],
    described: dict[str, dict[str, Any]],
) -> Finding:
    job_id, status = record["job_id"], record["status"]
    batch_job_id = record["batch_job_id"]
    job = described.get(batch_job_id)
    if job is None:
        return Finding(job_id, batch_job_id, status, None, status, Verdict.UNKNOWN)
    event = {"detail-type": state_change.DETAIL_TYPE, "source": "aws.batch", "detail": job}
    change = state_change.handle_event(event, ddb=ddb, table=table, batch=batch)
    applied = change is not None and change.applied
    # An applied change moved the record to the Batch status (RUNNING, SUCCEEDED or FAILED).
    after = job["status"] if applied else status
    return Finding(
        job_id,
        batch_job_id,
        status,
        job["status"],
        after,
        Verdict.CHANGED if applied else Verdict.UNCHANGED,
    )


def _unattached(
    ddb: Any,
    batch: Any,
    table: str,
    record: dict[str, Any],
    *,
    now: datetime,
    sleep: Callable[[float], None],
) -> Finding:
    """A record without a Batch job id: look its job up by name; if there is none and nothing
    can submit it any more, FAILED. The write holds only while the record is SUBMITTED, has no
    Batch job id and no live submission lease: should the window's assumptions ever break (a
    longer lease, a longer event age), a submission in progress still wins."""
    job_id, status = record["job_id"], record["status"]
    found = None
    if record.get("queue"):
        found = find_submitted(batch, queue=record["queue"], job_id=job_id, sleep=sleep)
    if found:
        attached = {**record, "batch_job_id": found}
        return _apply(ddb, batch, table, attached, describe(batch, [found], sleep=sleep))
    created = datetime.fromisoformat(record.get("created_at") or timestamp(now))
    if status != JobStatus.SUBMITTED or now - created < SUBMISSION_WINDOW:
        return Finding(job_id, None, status, None, status, Verdict.NOT_ATTACHED)
    failed = records.advance(
        ddb,
        table,
        job_id,
        JobStatus.FAILED,
        reason=NEVER_SUBMITTED,
        now=now,
        guard=records.Guard(  # never attached, and no live submission lease
            "attribute_not_exists(#b) AND (attribute_not_exists(#lu) OR #lu < :now_epoch)",
            names={"#b": "batch_job_id", "#lu": LEASE_UNTIL},
            values={":now_epoch": int(now.timestamp())},
        ),
    )
    after = JobStatus.FAILED.value if failed else status
    return Finding(
        job_id, None, status, None, after, Verdict.CHANGED if failed else Verdict.UNCHANGED
    )


def refresh(
    ddb: Any,
    batch: Any,
    table: str,
    record: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Finding | None:
    """Bring one record up to date with Batch (one DescribeJobs); None when it is terminal.

    No age threshold: a person asked about this job, and every write is forward-only anyway.
    """
    if JobStatus(record["status"]).is_terminal:
        return None
    return compare(ddb, batch, table, [record], sleep=sleep)[0]


def is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == SCHEDULED_DETAIL_TYPE
