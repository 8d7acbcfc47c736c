"""The ingest queue of the local stack: S3 notifications reach the ingest code in the shape the
deployed path gives them (terraform/ingest_queue.tf: S3 -> SQS -> Lambda event source mapping).

Each notification becomes one SQS message, handed to `submitter.ingest_queue.handle_batch` in
Lambda's SQS event shape; messages it reports in `batchItemFailures` are delivered again (their
`ApproximateReceiveCount` raised) up to `max_receives` times, as the queue's redrive policy does,
and then logged as dead letters (the deployed queue moves them to the dead-letter queue).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# The deployed redrive policy's maxReceiveCount (var.ingest_max_receives, terraform).
MAX_RECEIVES = 5

BatchHandler = Callable[[dict[str, Any]], dict[str, Any]]


def queue_message(
    notification: dict[str, Any],
    *,
    queue_arn: str,
    region: str,
    receive_count: int = 1,
    message_id: str | None = None,
) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source mapping delivers: the message body is
    the S3 notification as S3 sent it to the queue (JSON text)."""
    body = json.dumps(notification)
    now_ms = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now_ms,
            "SenderId": "AIDAJHIPRHEMV73VRJEBU",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def queue_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


class LocalIngestQueue:
    """Delivers each S3 notification as a one-message SQS batch and redelivers the failed ones."""

    def __init__(
        self,
        handler: BatchHandler,
        *,
        queue_arn: str,
        region: str,
        max_receives: int = MAX_RECEIVES,
    ) -> None:
        self._handler = handler
        self._queue_arn, self._region = queue_arn, region
        self._max_receives = max_receives
        self.dead_letters: list[dict[str, Any]] = []

    def __call__(self, notification: dict[str, Any]) -> dict[str, Any]:
        message_id = str(uuid.uuid4())
        response: dict[str, Any] = {}
        for receive in range(1, self._max_receives + 1):
            record = queue_message(
                notification,
                queue_arn=self._queue_arn,
                region=self._region,
                receive_count=receive,
                message_id=message_id,
            )
            response = self._handler(queue_event([record]))
            if not response.get("batchItemFailures"):
                return response
        logger.error("local stack: message %s went to the dead letters", message_id)
        self.dead_letters.append(notification)
        return response
