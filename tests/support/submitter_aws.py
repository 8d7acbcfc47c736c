"""The submitter's work functions over an emulated AWS: `SubmitterWork` (any S3, DynamoDB and
Batch client, with the settings and runtime of a deployment) and `SubmitterAws`, the in-process
moto account the `aws` fixture yields (Batch's API from `submitter.local.moto_batch`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from submitter.settings import Settings
from submitter.submission import Runtime
from support.aws_errors import error_response
from support.clock import FakeClock
from support.names import DATA_BUCKET, JOB_DEFINITION, JOBS_BUCKET, QUEUES, TABLE


def settings(**overrides: Any) -> Settings:
    """The deployment's settings: our table, job definition and queues (`batchscore-<priority>`,
    as `create_batch` names them), inputs allowed from the data bucket only."""
    values: dict[str, Any] = {
        "table": TABLE,
        "job_definition": JOB_DEFINITION,
        "queues": {q: f"batchscore-{q}" for q in QUEUES},
        "allowed_buckets": frozenset({DATA_BUCKET}),
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class SubmitterWork:
    """Clients and settings, and the submitter's ingest over them."""

    s3: Any
    ddb: Any
    batch: Any
    settings: Settings
    runtime: Runtime
    jobs_bucket: str = field(default=JOBS_BUCKET, kw_only=True)  # where configs are uploaded

    def upload(self, key: str, document: dict[str, Any] | bytes) -> str | None:
        """Put a config (a dict as JSON, or raw bytes) in the jobs bucket; its version id."""
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.s3.put_object(Bucket=self.jobs_bucket, Key=key, Body=body).get("VersionId")

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


@dataclass
class SubmitterAws(SubmitterWork):
    """moto's S3, DynamoDB and Batch API (jobs never run), the runtime's clock and its sleeps."""

    clock: FakeClock
    sleeps: list[float]
    queue_arns: dict[str, str]

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

    def describe(self, batch_job_id: str) -> dict[str, Any]:
        return self.batch.describe_jobs(jobs=[batch_job_id])["jobs"][0]


def fail_next_attach(aws: SubmitterAws, times: int = 1) -> list[bool]:
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
