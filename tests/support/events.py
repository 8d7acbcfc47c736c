"""Lambda payloads: the samples in tests/events/ and S3 notifications built for an upload."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote_plus

from support.names import JOBS_BUCKET, REGION
from support.paths import EVENTS


def load_event(name: str) -> dict[str, Any]:
    """A sample payload of tests/events/ (`batch-running.json`...), as a fresh dict."""
    return json.loads((EVENTS / name).read_text())


def s3_event(
    *uploads: tuple[str, str | None], moto_shape: bool = False, bucket: str = JOBS_BUCKET
) -> dict[str, Any]:
    """An S3 notification for (key, version id) uploads to the jobs bucket, built from the sample
    AWS (or moto) sent: every field of the real thing, the sample's sequencer included."""
    template = load_event("s3-put-moto.json" if moto_shape else "s3-put.json")["Records"][0]
    records = []
    for key, version in uploads:
        record = copy.deepcopy(template)
        record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
        record["s3"]["object"]["key"] = quote_plus(key)
        if moto_shape or version is None:
            record["s3"]["object"].pop("versionId", None)
        else:
            record["s3"]["object"]["versionId"] = version
        records.append(record)
    return {"Records": records}


def s3_put_event(
    key: str,
    version_id: str | None,
    bucket: str = JOBS_BUCKET,
    *,
    size: int = 1,
    etag: str | None = None,
    region: str = REGION,
    configuration_id: str | None = None,
    event_time: str = "2026-11-22T00:00:00.000Z",
) -> dict[str, Any]:
    """A minimal `ObjectCreated:Put` notification (no sequencer, as moto sends them), the key
    `quote_plus`-encoded as S3 does."""
    obj: dict[str, Any] = {"key": quote_plus(key), "size": size}
    if etag is not None:
        obj["eTag"] = etag
    if version_id:
        obj["versionId"] = version_id
    s3: dict[str, Any] = {"s3SchemaVersion": "1.0"}
    if configuration_id is not None:
        s3["configurationId"] = configuration_id
    s3["bucket"] = {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    s3["object"] = obj
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time,
                "eventName": "ObjectCreated:Put",
                "s3": s3,
            }
        ]
    }
