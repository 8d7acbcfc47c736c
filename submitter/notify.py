"""Who hears when a job ends (or sits in RUNNABLE too long): an SNS message and an EventBridge
event, each sent exactly once per job.

Where a job ends decides who sends: the ingest Lambda (REJECTED), the state Lambda (SUCCEEDED
and FAILED: on the Batch event that follows the record's terminal write, whoever made it), the
reconciler (a lost event), `batchscore cancel` (CANCELLED). Each calls `job_finished`, which
reads the record and sends only when it is terminal and not notified yet.

Exactly once: the sender first sets `notified_at` with a conditional write (absent, and the
status still the one read). Of two deliveries of the same Batch event, or the container's
SUCCEEDED racing the state Lambda, one wins the write and sends; the others see it set and do
nothing. When sending fails the marker is taken back (conditionally, only the winner's own) and
the error re-raised, so the Lambda's retry sends again: a notification may be late, never lost,
and never doubled unless the process dies between a successful send and returning (the one
at-least-once window, as with any SNS producer).

The EventBridge event (`detail-type` "batchscore Job Finished", source "batchscore") carries the
detail below; the SNS message carries a readable summary followed by the same JSON, with
`status`, `name` and `drifted` as message attributes for subscription filter policies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from config import env
from config.records import (
    KEY,
    STATUS_INDEX,
    STATUS_INDEX_RANGE,
    conditional_update,
    from_item,
    get_record,
    timestamp,
    utc_now,
)
from config.status import JobStatus
from submitter import drift

logger = logging.getLogger(__name__)

SOURCE = "batchscore"
DETAIL_TYPE = "batchscore Job Finished"
STUCK_DETAIL_TYPE = "batchscore Job Stuck"
NOTIFIED = "notified_at"
STUCK_NOTIFIED = "stuck_notified_at"
DEFAULT_RUNNABLE_ALERT_SECONDS = 3600
MAX_SUBJECT = 100  # SNS: ASCII, no line breaks, under 100 characters
MAX_DETAIL_BYTES = 256 * 1024  # EventBridge: an entry of PutEvents is at most 256 KiB
SUMMARY_KEYS = ("kind", "rows", "missing", "bins", "histograms", "counts", "quantiles")


@dataclass(frozen=True)
class NotifySettings:
    topic_arn: str | None = None
    event_bus: str | None = None
    drift_threshold: float = drift.DEFAULT_THRESHOLD
    runnable_alert_seconds: int = DEFAULT_RUNNABLE_ALERT_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> NotifySettings:
        threshold = environ.get(env.DRIFT_THRESHOLD, "").strip()
        runnable = environ.get(env.RUNNABLE_ALERT_SECONDS, "").strip()
        return cls(
            topic_arn=environ.get(env.NOTIFY_TOPIC_ARN, "").strip() or None,
            event_bus=environ.get(env.EVENT_BUS, "").strip() or None,
            drift_threshold=float(threshold) if threshold else drift.DEFAULT_THRESHOLD,
            runnable_alert_seconds=int(runnable) if runnable else DEFAULT_RUNNABLE_ALERT_SECONDS,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.topic_arn or self.event_bus)


class NotifyError(Exception):
    """EventBridge refused the event (PutEvents reports failed entries without raising)."""


@dataclass(frozen=True)
class Notifier:
    """Sends through the clients it is given; `on_sent` sees each notification after it went
    out (the local stack prints it)."""

    settings: NotifySettings
    sns: Any = None
    events: Any = None
    on_sent: Callable[[str, dict[str, Any]], None] | None = None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], client: Callable[[str], Any], **kwargs: Any
    ) -> Notifier:
        settings = NotifySettings.from_env(environ)
        return cls(
            settings,
            sns=client("sns") if settings.topic_arn else None,
            events=client("events") if settings.event_bus else None,
            **kwargs,
        )

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        text = json.dumps(detail, sort_keys=True, default=str)
        if self.events is not None and self.settings.event_bus:
            entry = {
                "Source": SOURCE,
                "DetailType": detail_type,
                "Detail": text,
                "EventBusName": self.settings.event_bus,
            }
            answer = self.events.put_events(Entries=[entry])
            if answer.get("FailedEntryCount"):
                raise NotifyError(f"EventBridge refused the event: {answer.get('Entries')}")
        if self.sns is not None and self.settings.topic_arn:
            self.sns.publish(
                TopicArn=self.settings.topic_arn,
                Subject=subject(detail_type, detail),
                Message=f"{readable(detail_type, detail)}\n\n{json.dumps(detail, indent=2)}",
                MessageAttributes=_attributes(detail),
            )
        if self.on_sent is not None:
            self.on_sent(detail_type, detail)


def job_finished(ddb: Any, table: str, job_id: str, notifier: Notifier) -> dict[str, Any] | None:
    """Send the job's "finished" notification if its record is terminal and nobody sent it
    yet; return what was sent (None: nothing to send, or sent already)."""
    if not notifier.settings.enabled:
        return None
    record = get_record(ddb, table, job_id)
    if record is None or not JobStatus(record["status"]).is_terminal or record.get(NOTIFIED):
        return None
    stamp = timestamp(utc_now())
    if not _claim(ddb, table, job_id, NOTIFIED, stamp, record["status"]):
        return None
    try:
        found = drift.drift_for(ddb, table, record, notifier.settings.drift_threshold)
        detail = finished_detail(record, found)
        notifier.publish(DETAIL_TYPE, detail)
    except BaseException:
        _release(ddb, table, job_id, NOTIFIED, stamp)
        raise
    logger.info("notified", extra={"job_id": job_id, "status": record["status"]})
    return detail


def finished_detail(record: dict[str, Any], found_drift: dict[str, Any] | None) -> dict[str, Any]:
    """The event's detail for a terminal record. `cost` is the record's when the cost feature
    wrote one (usd, on_demand_usd, spot_usd, vcpu_seconds, gib_seconds, attempts, basis)."""
    summary = record.get("prediction_summary")
    return {
        "job_id": record[KEY],
        "name": record.get("name"),
        "status": record["status"],
        "reason": record.get("status_reason"),
        "queue": record.get("queue"),
        "priority": record.get("priority"),
        "attempts": record.get("attempts"),
        "shards": record.get("shards"),
        "rows": record.get("rows"),
        "bad_rows": record.get("bad_rows"),
        "created_at": record.get(STATUS_INDEX_RANGE),
        "finished_at": record.get("updated_at"),
        "duration_seconds": _duration(record),
        "scoring_seconds": record.get("seconds"),
        "cost": record.get("cost"),
        "output_uri": record.get("output_uri"),
        "manifest_uri": record.get("manifest_uri"),
        "prediction_summary": (
            {k: summary[k] for k in SUMMARY_KEYS if k in summary} if summary else None
        ),
        "drift": found_drift,
    }


def subject(detail_type: str, detail: dict[str, Any]) -> str:
    if detail_type == STUCK_DETAIL_TYPE:
        text = f"batchscore: {detail.get('name')} stuck in RUNNABLE"
    else:
        drifted = " (predictions drifted)" if (detail.get("drift") or {}).get("drifted") else ""
        text = f"batchscore: {detail.get('name')} {detail.get('status')}{drifted}"
    ascii_only = text.encode("ascii", "replace").decode()
    return ascii_only[:MAX_SUBJECT]


def readable(detail_type: str, detail: dict[str, Any]) -> str:
    """A few lines a person reads in an e-mail or a chat message."""
    if detail_type == STUCK_DETAIL_TYPE:
        return (
            f"batchscore job {detail['job_id']} ({detail.get('name')}) has been RUNNABLE for "
            f"{detail['runnable_seconds']:.0f} s in queue {detail.get('queue')}: "
            f"{detail.get('batch_reason') or 'Batch gives no reason'}. "
            f"`batchscore status {detail['job_id']}` explains why."
        )
    lines = [f"batchscore job {detail['job_id']} ({detail.get('name')}): {detail['status']}"]
    if detail.get("reason"):
        lines.append(f"reason: {detail['reason']}")
    figures = [f"queue {detail['queue']}"] if detail.get("queue") else []
    if detail.get("attempts") is not None:
        figures.append(f"attempts {detail['attempts']}")
    if detail.get("rows") is not None:
        figures.append(f"rows {detail['rows']:,}")
    if detail.get("bad_rows"):
        figures.append(f"bad rows {detail['bad_rows']:,}")
    if detail.get("duration_seconds") is not None:
        figures.append(f"duration {detail['duration_seconds']:.1f} s")
    lines.append(", ".join(figures))
    cost = detail.get("cost")
    if isinstance(cost, dict) and cost.get("usd") is not None:
        lines.append(f"cost: ${float(cost['usd']):.4f} ({cost.get('basis') or 'estimated'})")
    if detail.get("output_uri"):
        lines.append(f"output: {detail['output_uri']}")
    found = detail.get("drift")
    if found and found.get("comparable"):
        verdict = "DRIFTED" if found["drifted"] else "stable"
        lines.append(
            f"drift: PSI {found['psi']:.3f} against {found['previous_job_id']} "
            f"(threshold {found['threshold']}): {verdict}"
        )
    return "\n".join(lines)


# --- stuck in RUNNABLE -------------------------------------------------------------------------


def stuck_jobs(
    ddb: Any,
    batch: Any,
    table: str,
    notifier: Notifier,
    *,
    now: datetime | None = None,
    describe: Callable[[Any, list[str]], dict[str, dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """Notify, once per job, each SUBMITTED record older than the threshold whose Batch job is
    RUNNABLE (the reconciler's schedule calls this). Returns what was sent."""
    if not notifier.settings.enabled:
        return []
    now = now or utc_now()
    cutoff = timestamp(now - timedelta(seconds=notifier.settings.runnable_alert_seconds))
    waiting = [r for r in _submitted_before(ddb, table, cutoff) if r.get("batch_job_id")]
    if not waiting:
        return []
    if describe is None:
        from submitter.reconcile import describe as describe_jobs

        describe = describe_jobs
    jobs = describe(batch, [r["batch_job_id"] for r in waiting])
    sent = []
    for record in waiting:
        job = jobs.get(record["batch_job_id"])
        if job is None or job.get("status") != "RUNNABLE":
            continue
        stamp = timestamp(now)
        if not _claim(ddb, table, record[KEY], STUCK_NOTIFIED, stamp, JobStatus.SUBMITTED.value):
            continue
        detail = {
            "job_id": record[KEY],
            "name": record.get("name"),
            "status": "RUNNABLE",
            "queue": record.get("queue"),
            "created_at": record.get(STATUS_INDEX_RANGE),
            "runnable_seconds": _seconds_since(record.get(STATUS_INDEX_RANGE), now),
            "threshold_seconds": notifier.settings.runnable_alert_seconds,
            "batch_reason": job.get("statusReason"),
        }
        try:
            notifier.publish(STUCK_DETAIL_TYPE, detail)
        except BaseException:
            _release(ddb, table, record[KEY], STUCK_NOTIFIED, stamp)
            raise
        sent.append(detail)
    return sent


def _submitted_before(ddb: Any, table: str, cutoff: str) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "#s = :s AND #c < :cutoff",
        "FilterExpression": "attribute_not_exists(#n)",
        "ExpressionAttributeNames": {
            "#s": "status",
            "#c": STATUS_INDEX_RANGE,
            "#n": STUCK_NOTIFIED,
        },
        "ExpressionAttributeValues": {
            ":s": {"S": JobStatus.SUBMITTED.value},
            ":cutoff": {"S": cutoff},
        },
    }
    found: list[dict[str, Any]] = []
    while True:
        page = ddb.query(**kwargs)
        found.extend(from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- the exactly-once marker -------------------------------------------------------------------


def _claim(ddb: Any, table: str, job_id: str, marker: str, stamp: str, status: str) -> bool:
    """Set `marker` if absent while the record's status is still `status`: the one sender."""
    return (
        conditional_update(
            ddb,
            table,
            job_id,
            update="SET #m = :stamp",
            condition="attribute_exists(#k) AND attribute_not_exists(#m) AND #s = :status",
            names={"#k": KEY, "#m": marker, "#s": "status"},
            values={":stamp": stamp, ":status": status},
        )
        is not None
    )


def _release(ddb: Any, table: str, job_id: str, marker: str, stamp: str) -> None:
    """Take our marker back after a failed send, so a retry sends (only ours: the stamp)."""
    try:
        conditional_update(
            ddb,
            table,
            job_id,
            update="REMOVE #m",
            condition="#m = :stamp",
            names={"#m": marker},
            values={":stamp": stamp},
        )
    except Exception:  # the send's error matters more; a stuck marker is logged
        logger.exception("could not take back %s of %s", marker, job_id)


def _attributes(detail: dict[str, Any]) -> dict[str, Any]:
    values = {
        "status": str(detail.get("status")),
        "name": str(detail.get("name")),
        "drifted": "true" if (detail.get("drift") or {}).get("drifted") else "false",
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


def _duration(record: dict[str, Any]) -> float | None:
    start, end = record.get(STATUS_INDEX_RANGE), record.get("updated_at")
    if not start or not end:
        return None
    return round(_epoch(end) - _epoch(start), 3)


def _seconds_since(stamp: str | None, now: datetime) -> float:
    return round(now.timestamp() - _epoch(stamp), 1) if stamp else 0.0


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
