"""Helpers of the submitter's functional tests: event payloads from tests/events/, configs, the
`Aws` bundle the `aws` fixture yields, injected AWS errors. A module with a unique name (not
`conftest`) so test modules can import it whatever other conftest files are loaded."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from moto_batch import QUEUES

from submitter.settings import Settings
from submitter.submission import Runtime

EVENTS = Path(__file__).parents[2] / "events"
JOBS_BUCKET = "batchscore-jobs"
DATA_BUCKET = "batchscore-data"
TABLE = "batchscore-jobs"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def valid_config(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "churn",
        "model": {"uri": f"s3://{DATA_BUCKET}/models/churn.skops"},
        "input": {"uri": f"s3://{DATA_BUCKET}/input/customers.parquet"},
        "output": {"uri": f"s3://{DATA_BUCKET}/output/churn/", "passthrough": ["customer_id"]},
    }
    document.update(overrides)
    return document


def s3_event(*uploads: tuple[str, str | None], moto_shape: bool = False) -> dict[str, Any]:
    """An S3 notification for (key, version id) uploads, shaped as AWS (or moto) sends it."""
    template = load_event("s3-put-moto.json" if moto_shape else "s3-put.json")["Records"][0]
    records = []
    for key, version in uploads:
        record = copy.deepcopy(template)
        record["s3"]["bucket"]["name"] = JOBS_BUCKET
        record["s3"]["object"]["key"] = quote_plus(key)
        if moto_shape or version is None:
            record["s3"]["object"].pop("versionId", None)
        else:
            record["s3"]["object"]["versionId"] = version
        records.append(record)
    return {"Records": records}


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def error_response(status: int, code: str, message: str) -> tuple[_Http, dict[str, Any]]:
    """A (http, parsed) pair: a botocore `before-call` handler returning it short-circuits the
    request, so the client raises ClientError(code) without botocore's own retries."""
    return _Http(status), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def ok_response(parsed: dict[str, Any]) -> tuple[_Http, dict[str, Any]]:
    """A (http, parsed) pair of a success: returned by a `before-call` handler, the client
    returns `parsed` without asking moto (e.g. a listing that lags behind)."""
    return _Http(200), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}


class FakeClock:
    def __init__(self) -> None:
        from config.records import utc_now

        self.now = utc_now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@dataclass
class Aws:
    s3: Any
    ddb: Any
    batch: Any
    settings: Settings
    runtime: Runtime
    clock: FakeClock
    sleeps: list[float]
    queue_arns: dict[str, str]

    def upload(self, key: str, document: dict[str, Any] | bytes) -> str | None:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.s3.put_object(Bucket=JOBS_BUCKET, Key=key, Body=body).get("VersionId")

    def batch_jobs(self, priority: str = "normal") -> list[dict[str, Any]]:
        """Parent and single jobs on a priority's queue (moto lists array children too)."""
        queue = self.settings.queue_for_priority(priority)
        jobs = []
        for status in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"):
            for summary in self.batch.list_jobs(jobQueue=queue, jobStatus=status)["jobSummaryList"]:
                if ":" not in summary["jobId"]:
                    jobs.append(summary)
        failed = self.batch.list_jobs(jobQueue=queue, jobStatus="FAILED")["jobSummaryList"]
        return jobs + [s for s in failed if ":" not in s["jobId"]]

    def all_batch_jobs(self) -> list[dict[str, Any]]:
        return [job for queue in QUEUES for job in self.batch_jobs(queue)]

    def ingest(self, event: dict[str, Any], runtime: Runtime | None = None) -> list[Any]:
        from submitter.ingest import handle_event

        return handle_event(
            event,
            s3=self.s3,
            ddb=self.ddb,
            batch=self.batch,
            settings=self.settings,
            runtime=runtime or self.runtime,
        )

    def describe(self, batch_job_id: str) -> dict[str, Any]:
        return self.batch.describe_jobs(jobs=[batch_job_id])["jobs"][0]


def fail_next_attach(aws: Aws, times: int = 1) -> list[bool]:
    """Fail (DynamoDB 500) the next `times` UpdateItems that store the Batch job id."""
    fired: list[bool] = []

    def hook(params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or b""
        body = body if isinstance(body, bytes) else body.encode()
        if len(fired) < times and b"REMOVE" in body and b"batch_job_id" in body:
            fired.append(True)
            return error_response(500, "InternalServerError", "Internal server error")
        return None

    aws.ddb.meta.events.register("before-call.dynamodb.UpdateItem", hook)
    return fired
