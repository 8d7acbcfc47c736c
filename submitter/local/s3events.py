"""S3 "ObjectCreated:Put" notifications for the local stack, polled from the bucket itself.

moto can send S3 notifications only to SQS, SNS, EventBridge or a Lambda it runs in Docker: nothing
calls back into this process, and its events carry no `versionId`. So the pump lists the versions
under the prefix (the jobs bucket is versioned) and hands each new version, once, an event in the
shape S3 sends to Lambda: one record, key URL-encoded as S3 does (`quote_plus`, slashes kept),
`size`, `eTag`, `versionId`. Like moto's, the events carry no `sequencer`, `userIdentity`,
`requestParameters` or `responseElements`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

logger = logging.getLogger(__name__)

UploadHandler = Callable[[dict[str, Any]], object]  # what a handler returns is ignored


def object_created_event(
    bucket: str,
    key: str,
    *,
    size: int,
    etag: str,
    version_id: str,
    event_time: datetime,
    region: str = "us-east-1",
    configuration_id: str = "batchscore-jobs",
) -> dict[str, Any]:
    """The event S3 delivers to a Lambda for one `PutObject`."""
    moment = event_time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": moment,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag.strip('"'),
                        "versionId": version_id,
                    },
                },
            }
        ]
    }


class S3EventPump:
    """Polls `bucket` for new object versions under `prefix` and gives each one event to
    `handler()`'s current value (nothing is consumed while it returns None). A failing handler is
    logged and not called again for that upload (S3 -> Lambda would retry twice, then drop it)."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str,
        handler: Callable[[], UploadHandler | None],
        *,
        poll_seconds: float = 0.1,
        region: str = "us-east-1",
    ) -> None:
        self._s3, self._bucket, self._prefix = s3, bucket, prefix
        self._handler = handler
        self._poll = poll_seconds
        self._region = region
        self._seen: set[tuple[str, str]] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-s3-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def poll_once(self) -> int:
        """Deliver the events of the versions not seen yet, oldest first; return how many."""
        handler = self._handler()
        if handler is None:
            return 0
        fresh = []
        pages = self._s3.get_paginator("list_object_versions").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        )
        for page in pages:
            for version in page.get("Versions", []):
                if (version["Key"], version["VersionId"]) not in self._seen:
                    fresh.append(version)
        # Versions of a key are listed newest first and LastModified has whole seconds: reverse,
        # then a stable sort, so that two uploads within a second arrive in the order made.
        fresh.reverse()
        fresh.sort(key=lambda v: v["LastModified"])
        for version in fresh:
            self._seen.add((version["Key"], version["VersionId"]))
            event = object_created_event(
                self._bucket,
                version["Key"],
                size=version["Size"],
                etag=version["ETag"],
                version_id=version["VersionId"],
                event_time=version["LastModified"],
                region=self._region,
            )
            try:
                handler(event)
            except Exception:
                logger.exception("local stack: the upload handler failed for %s", version["Key"])
        return len(fresh)

    def _run(self) -> None:
        while not self._stopping.wait(self._poll):
            try:
                self.poll_once()
            except Exception:
                logger.exception("local stack: polling s3://%s failed", self._bucket)
