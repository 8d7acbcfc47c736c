"""EventBridge "Batch Job State Change" events -> the job record, forward only.

The container records RUNNING and SUCCEEDED itself; this side records what the container cannot
say (killed, spot reclaim, timeout, out of memory, exhausted retries) and fills gaps when the
container's own writes are missing. A terminal record never changes, so late and repeated events
are no-ops.

Array jobs: Batch sends events for the parent and for every child (`<parent id>:<index>`).
A child's RUNNING moves the job to RUNNING; a child's FAILED is noted (which shard, why) but
does not finish the job; the parent's FAILED does, with the child's details in the reason.
The parent's SUCCEEDED (every child succeeded) submits the array's commit job
(`submitter.array_commit`), whose own FAILED fails the job; the commit records SUCCEEDED.

When the parent's FAILED comes before any child's (EventBridge does not keep order), the handler
asks Batch for a failed child (`ListJobs(arrayJobId, jobStatus=FAILED)`, then `DescribeJobs`)
and records the job FAILED with that shard's details in the same conditional write. The other
way, letting the late child's event enrich the FAILED record, would make "a terminal record
never changes" carry an exception; asking Batch keeps every write forward-only and the record
final the moment it becomes terminal. Without a Batch client, or when Batch cannot say, the job
is recorded FAILED without the shard's details: the status matters more than the reason.

Only the record's own Batch job moves it. Every event carries the `job_id` parameter, and so do
the events of a duplicate submission, which the submission's `attach` terminates (its FAILED
event says `batchscore: duplicate submission`). So each write is conditional on the record's
`batch_job_id` being the event's (a child's `<parent>:<index>` counts as its parent's). An event
that finds the record without a Batch job id attaches its own first (the submitter may have died
before attaching, or its attach may simply come later): the first attach wins, and the submitter
terminates its own job when it loses. A job batchscore terminated as a duplicate neither
attaches nor applies, even while the record has no Batch job id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from config import records
from config.records import KEY, utc_now
from config.status import TERMINAL, JobStatus
from submitter import array_commit, reasons
from submitter.batch import job_id_from_name, with_backoff
from submitter.exceptions import ThrottledError

logger = logging.getLogger(__name__)

DETAIL_TYPE = "Batch Job State Change"
MAX_REASON = 1000


@dataclass(frozen=True)
class Change:
    job_id: str
    batch_status: str
    applied: bool
    note: str = ""


@dataclass(frozen=True)
class BatchJobEvent:
    """The parts of an event's `detail` this side reads."""

    job_id: str | None
    batch_job_id: str
    status: str
    reason: str
    attempts: list[dict[str, Any]]
    array_index: int | None  # set on array children
    is_array_parent: bool
    # The whole description: an array parent's SUCCEEDED submits its commit job from it.
    detail: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> BatchJobEvent:
        detail = event.get("detail") or {}
        parameters = detail.get("parameters") or {}
        batch_job_id = detail.get("jobId", "")
        array = detail.get("arrayProperties") or {}
        index = array.get("index")
        if index is None and ":" in batch_job_id:
            tail = batch_job_id.rsplit(":", 1)[1]
            index = int(tail) if tail.isdigit() else None
        return cls(
            job_id=parameters.get("job_id") or job_id_from_name(detail.get("jobName", "")),
            batch_job_id=batch_job_id,
            status=detail.get("status", ""),
            reason=detail.get("statusReason") or "",
            attempts=list(detail.get("attempts") or []),
            array_index=index,
            is_array_parent=index is None and "size" in array,
            detail=detail,
        )

    @property
    def owner_id(self) -> str:
        """The Batch job id the record carries when this event is its job's: a child's parent."""
        if self.array_index is not None and ":" in self.batch_job_id:
            return self.batch_job_id.rsplit(":", 1)[0]
        return self.batch_job_id

    @property
    def is_terminated_duplicate(self) -> bool:
        """A submission that batchscore's exactly-once logic terminated (`submission.attach`)."""
        return self.reason.startswith(reasons.DUPLICATE_SUBMISSION)

    @property
    def exit_code(self) -> int | None:
        """The last attempt's exit code (None when the container never ran or was killed)."""
        for attempt in reversed(self.attempts):
            code = (attempt.get("container") or {}).get("exitCode")
            if code is not None:
                return int(code)
        return None

    @property
    def container_reason(self) -> str:
        if not self.attempts:
            return ""
        return (self.attempts[-1].get("container") or {}).get("reason") or ""

    def failure_reason(self) -> str:
        parts = [self.reason or "failed"]
        if self.container_reason and self.container_reason not in self.reason:
            parts.append(self.container_reason)
        return "; ".join(parts)[:MAX_REASON]


def handle_event(
    event: dict[str, Any], *, ddb: Any, table: str, batch: Any = None
) -> Change | None:
    """Apply one "Batch Job State Change" event (other events: None). `batch` (optional) is
    asked for a failed child when an array parent's FAILED comes first."""
    if event.get("detail-type") != DETAIL_TYPE:
        return None
    change = BatchJobEvent.from_event(event)
    if not change.job_id:
        logger.info("not a batchscore job: %s", change.batch_job_id)
        return None
    if array_commit.is_commit_job(change.detail):  # an array's commit job (`array_commit`)
        applied = array_commit.on_commit_event(ddb, table, change.job_id, change.detail)
        return Change(change.job_id, change.status, applied, "the array's commit job")
    return apply(ddb, table, change, batch=batch)


def apply(ddb: Any, table: str, event: BatchJobEvent, *, batch: Any = None) -> Change:
    job_id = event.job_id or ""
    if not event.owner_id:
        return Change(job_id, event.status, False, "no Batch job id")
    if event.is_terminated_duplicate:
        logger.info(
            "ignored: %s is a duplicate submission batchscore terminated",
            event.batch_job_id,
            extra={"job_id": job_id, "batch_job_id": event.batch_job_id},
        )
        return Change(job_id, event.status, False, "a terminated duplicate submission")
    # Remember the Batch id should the submitter have died before storing it, or not have stored
    # it yet (only while the record is open: a terminal record never changes). Every write below
    # then holds only if the record carries this event's Batch job.
    _attach_if_missing(ddb, table, job_id, event.owner_id)
    if event.status == "RUNNING":
        return _record_running(ddb, table, job_id, event)
    if event.status == "SUCCEEDED":
        return _record_succeeded(ddb, table, job_id, event, batch)
    if event.status == "FAILED":
        return _record_failed(ddb, table, job_id, event, batch)
    # SUBMITTED, PENDING, RUNNABLE, STARTING: the record says SUBMITTED already.
    return Change(job_id, event.status, False, "nothing to record")


def _record_running(ddb: Any, table: str, job_id: str, event: BatchJobEvent) -> Change:
    # The attempt number is a single job's; an array's children each count their own.
    single = event.array_index is None and not event.is_array_parent
    attempt = len(event.attempts) + 1 if single else None
    applied = records.advance(
        ddb, table, job_id, JobStatus.RUNNING, attempt=attempt, guard=_owned_by(event)
    )
    return Change(job_id, event.status, applied)


def _record_succeeded(
    ddb: Any, table: str, job_id: str, event: BatchJobEvent, batch: Any = None
) -> Change:
    if event.array_index is not None:
        return Change(job_id, event.status, False, "a child: the parent's SUCCEEDED commits")
    if event.is_array_parent:  # every child succeeded: commit the array, once
        applied, note = array_commit.on_parent_succeeded(ddb, table, job_id, event.detail, batch)
        return Change(job_id, event.status, applied, note)
    # The container wrote SUCCEEDED with its figures before exiting, so this is normally a
    # no-op; if the record is still open, Batch's word is all there is. The attempt count
    # goes with it: the RUNNING event that carries it may arrive later (and then changes
    # nothing), so the record must not depend on event order.
    single = not event.is_array_parent
    applied = records.advance(
        ddb,
        table,
        job_id,
        JobStatus.SUCCEEDED,
        reason="reported by AWS Batch; the job recorded no figures",
        attempt=(len(event.attempts) or None) if single else None,
        guard=_owned_by(event),
    )
    return Change(job_id, event.status, applied)


def _record_failed(ddb: Any, table: str, job_id: str, event: BatchJobEvent, batch: Any) -> Change:
    if event.array_index is not None:
        applied = _note_child_failure(ddb, table, job_id, event)
        return Change(job_id, event.status, applied, "child failure noted")
    reason = event.failure_reason()
    fields: dict[str, Any] = {}
    if event.exit_code is not None:
        fields["exit_code"] = event.exit_code
    if event.is_array_parent:
        reason = _with_failed_shard(ddb, table, job_id, event, batch, reason, fields)
    applied = records.advance(
        ddb,
        table,
        job_id,
        JobStatus.FAILED,
        reason=reason,
        fields=fields,
        attempt=len(event.attempts) or None,
        guard=_owned_by(event),
    )
    return Change(job_id, event.status, applied)


def _with_failed_shard(
    ddb: Any,
    table: str,
    job_id: str,
    event: BatchJobEvent,
    batch: Any,
    reason: str,
    fields: dict[str, Any],
) -> str:
    """An array parent's failure reason, naming its failed shard (noted by the child's event, or
    asked of Batch while the record is open); the shard's details and exit code go to `fields`."""
    record = records.get_record(ddb, table, job_id) or {}
    if record.get("batch_job_id") != event.owner_id:
        return reason  # another Batch job's record: the write is refused anyway
    child = record.get("failed_shard")
    if not child and record and not JobStatus(record["status"]).is_terminal:
        child = failed_child_from_batch(batch, event.batch_job_id)
        if child:
            fields["failed_shard"] = child
    if not child:
        return reason
    if child.get("exit_code") is not None:
        fields["exit_code"] = child["exit_code"]
    return f"{reason}; shard {child['index']}: {child['reason']}"[:MAX_REASON]


def _owned_by(event: BatchJobEvent) -> records.Guard:
    """The write's extra condition: the record carries the event's Batch job."""
    return records.Guard(
        "#batch_job = :batch_job",
        names={"#batch_job": "batch_job_id"},
        values={":batch_job": event.owner_id},
    )


def _attach_if_missing(ddb: Any, table: str, job_id: str, batch_job_id: str) -> None:
    """Store the Batch job id on an open record that lacks it (the submitter died before
    attaching it, or attaches later). Open, not only SUBMITTED: the container's own RUNNING may
    come first, and the events may arrive in any order; a terminal record never changes. An
    array child passes its parent's id."""
    if batch_job_id:
        terminal = {f":t{i}": status.value for i, status in enumerate(sorted(TERMINAL))}
        records.conditional_update(
            ddb,
            table,
            job_id,
            update="SET #b = :b",
            condition=(
                f"attribute_exists(#s) AND attribute_not_exists(#b) "
                f"AND NOT #s IN ({', '.join(terminal)})"
            ),
            names={"#s": "status", "#b": "batch_job_id"},
            values={":b": batch_job_id, **terminal},
        )


def failed_child_from_batch(batch: Any, parent_id: str) -> dict[str, Any] | None:
    """The `failed_shard` details of the array's lowest-index failed child, as Batch describes it;
    None without a client, without a failed child, or when Batch does not answer (logged)."""
    if batch is None or not parent_id:
        return None
    try:
        page = with_backoff(
            lambda: batch.list_jobs(arrayJobId=parent_id, jobStatus="FAILED", maxResults=100)
        )
        ids = sorted(
            (s["jobId"] for s in page.get("jobSummaryList", [])),
            key=lambda job_id: int(job_id.rsplit(":", 1)[1]) if ":" in job_id else 0,
        )
        if not ids:
            return None
        jobs = with_backoff(lambda: batch.describe_jobs(jobs=ids[:1]))["jobs"]
    except (ClientError, ThrottledError) as exc:
        logger.warning("cannot ask Batch for the failed shard of %s: %s", parent_id, exc)
        return None
    if not jobs:
        return None
    return _shard_details(BatchJobEvent.from_event({"detail": jobs[0]}))


def _shard_details(event: BatchJobEvent) -> dict[str, Any]:
    detail = {
        "index": event.array_index,
        "reason": event.failure_reason(),
        "exit_code": event.exit_code,
        "attempts": len(event.attempts),
        "at": records.timestamp(utc_now()),
    }
    return {k: v for k, v in detail.items() if v is not None}


def _note_child_failure(ddb: Any, table: str, job_id: str, event: BatchJobEvent) -> bool:
    """Keep the first failed shard's details for the parent's FAILED; open records only."""
    detail = _shard_details(event)
    terminal = {f":t{i}": status.value for i, status in enumerate(sorted(TERMINAL))}
    noted = records.conditional_update(
        ddb,
        table,
        job_id,
        update="SET #c = :child",
        condition=(
            "attribute_exists(#k) AND attribute_not_exists(#c) "
            f"AND NOT #s IN ({', '.join(terminal)}) AND #b = :b"
        ),
        names={"#k": KEY, "#c": "failed_shard", "#s": "status", "#b": "batch_job_id"},
        values={**terminal, ":child": detail, ":b": event.owner_id},
    )
    return noted is not None
