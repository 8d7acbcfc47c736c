"""Uploads that waited in the ingest queue: S3 -> SQS -> this Lambda (an event source mapping).

Why a queue (docs/scale.md, "Bursts"): Batch accepts SubmitJob at 50 TPS per account. Invoked by S3
directly, the ingest Lambda scales with the uploads, so a burst of thousands meets throttling that
the handler's backoff (about 11 s at most) cannot outlast, and Lambda retries a *function error*
only twice before the event goes to the dead-letter queue: a job not made. Behind a queue, the
event source mapping's `maximum_concurrency` bounds the callers, messages simply wait their turn,
and a record that still fails returns to the queue (partial batch response) for another try, up to
the redrive policy's count, after which it lands in the dead-letter queue.

Each SQS message body is one S3 notification (its `Records`), or S3's `s3:TestEvent`; it is handed
to `submitter.ingest.handle_event`, which is unchanged: the same idempotency (conditional put,
submission lease) absorbs a message delivered twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch import process_partial_response as process_batch
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from submitter.exceptions import RetryableError
from submitter.ingest import handle_event
from submitter.settings import Settings
from submitter.submission import Outcome, Runtime

logger = logging.getLogger(__name__)

# A record started with less time than this left could be cut off by the Lambda timeout (60 s):
# one record's worst case is the SubmitJob backoff (about 11 s of sleeps, submitter.batch) plus a
# few requests of at most 13 s each (submitter.clients). Records not started go back to the queue.
RESERVE_MILLIS = 25_000


class DeferredError(RetryableError):
    """Too little time left in this invocation to start the record: it returns to the queue."""


def is_queue_event(event: dict[str, Any]) -> bool:
    """Whether Lambda's event comes from SQS (else it is an S3 notification, as before)."""
    found = event.get("Records") or []
    return bool(found) and all(r.get("eventSource") == "aws:sqs" for r in found)


def handle_batch(
    event: dict[str, Any],
    *,
    s3: Any,
    ddb: Any,
    batch: Any,
    settings: Settings,
    runtime: Runtime | None = None,
    remaining_millis: Callable[[], int] | None = None,
    after: Callable[[list[Outcome]], None] | None = None,
) -> dict[str, Any]:
    """Ingest every message of an SQS batch; the `batchItemFailures` response names the ones to
    redeliver (Lambda deletes the rest). `remaining_millis`: the invocation's time left
    (`context.get_remaining_time_in_millis`); None: no limit (the local stack, tests).
    `after` gets each message's outcomes (the notifications): when it raises, the message goes
    back to the queue like a failed ingest, and its redelivery calls `after` again."""
    runtime = runtime or Runtime()

    def ingest_message(record: SQSRecord) -> None:
        if remaining_millis is not None and remaining_millis() < RESERVE_MILLIS:
            raise DeferredError(f"message {record.message_id}: too little time left, deferred")
        notification = json.loads(record.body)
        outcomes = handle_event(
            notification, s3=s3, ddb=ddb, batch=batch, settings=settings, runtime=runtime
        )
        if after is not None:
            after(outcomes)

    # Not raise_on_entire_batch_failure: a batch whose every record failed is reported like any
    # other (each item named), so Lambda counts a receive for each and none is lost.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response: dict[str, Any] = dict(process_batch(event, ingest_message, processor))
    failed = len(response.get("batchItemFailures", []))
    if failed:
        logger.warning("%d of %d message(s) go back to the queue", failed, len(event["Records"]))
    return response
