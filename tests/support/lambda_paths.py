"""The paths through both Lambdas that the IAM checks replay, and the botocore recording of the
calls a Lambda makes on them (the test's own set-up calls, uploads and listings, are not the
Lambda's). Run on any `SubmitterAws`: the functional tier's in-process moto, or the stack
Terraform applied to a moto server (tests/e2e/terraform)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from config import records
from config.pricing import load_prices
from submitter import job_actions, reconcile, state_change
from submitter.finished import after_state_change
from support.aws_errors import Crash
from support.events import load_event, s3_event
from support.iam_policy import Call
from support.job_configs import job_config
from support.names import DATA_BUCKET
from support.submitter_aws import SubmitterAws


def config(aws: SubmitterAws, name: str = "churn", **overrides: Any) -> dict[str, Any]:
    """`job_config` with its files in buckets the deployment allows: the model and input in a
    bucket it reads, the output in one it writes."""
    allowed = sorted(aws.settings.allowed_buckets) or [DATA_BUCKET]
    writable = sorted(aws.settings.write_buckets) or allowed
    read = next((b for b in allowed if b not in writable), allowed[0])
    document = job_config(name, **overrides)
    for part, bucket in (("model", read), ("input", read), ("output", writable[0])):
        document[part]["uri"] = document[part]["uri"].replace(
            f"s3://{DATA_BUCKET}/", f"s3://{bucket}/"
        )
    return document


@contextmanager
def recording(*clients: Any) -> Iterator[list[Call]]:
    """Note the calls made on `clients` inside the block only: (IAM service prefix, operation,
    parameters as botocore validated them)."""
    calls: list[Call] = []

    def note(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.service_model.signing_name, model.name, copy.deepcopy(params)))

    for client in clients:
        client.meta.events.register("provide-client-params.*.*", note)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("provide-client-params.*.*", note)


def ingest_paths(aws: SubmitterAws, other_clients: Callable[[str], Any]) -> list[Call]:
    """A submission (an array job with tags), a duplicate delivery, a rejection, a crash
    recovered by name, and a submission landing after its job was cancelled. `other_clients`
    makes the clients of the CLI that cancels (not the Lambda's)."""
    steps: list[Call] = []

    def event(key: str, version: str | None) -> dict[str, Any]:
        return s3_event((key, version), bucket=aws.jobs_bucket)

    def lambda_step(event: dict[str, Any]) -> list[Any]:
        with recording(aws.s3, aws.ddb, aws.batch) as step:
            try:
                return aws.ingest(event)
            except Crash:
                return []
            finally:
                steps.extend(step)

    version = aws.upload("jobs/ok.json", config(aws, tags={"team": "risk"}, shards=2))
    ok = event("jobs/ok.json", version)
    lambda_step(ok)
    lambda_step(ok)  # redelivery: a duplicate

    bad = aws.upload("jobs/bad.json", config(aws, shards=0))
    lambda_step(event("jobs/bad.json", bad))

    crashed: list[bool] = []

    def crash_once(**_: Any) -> None:
        if not crashed:
            crashed.append(True)
            raise Crash

    aws.batch.meta.events.register("after-call.batch.SubmitJob", crash_once)
    version = aws.upload("jobs/crash.json", config(aws, name="crash"))
    crash = event("jobs/crash.json", version)
    lambda_step(crash)
    aws.clock.advance(aws.settings.lease_seconds + 1)
    lambda_step(crash)  # finds the first submission with ListJobs

    def cancel_now(parsed: dict[str, Any], **_: Any) -> None:
        # The CLI's cancel, on clients of its own: not the Lambda's calls.
        job_id = parsed["jobName"].removeprefix("batchscore-")
        ddb, batch = other_clients("dynamodb"), other_clients("batch")
        job_actions.cancel(ddb, batch, aws.settings, job_id, runtime=aws.runtime)

    aws.batch.meta.events.register("after-call.batch.SubmitJob", cancel_now)
    version = aws.upload("jobs/late.json", config(aws, name="late"))
    try:
        lambda_step(event("jobs/late.json", version))  # attach sees CANCELLED: TerminateJob
    finally:
        aws.batch.meta.events.unregister("after-call.batch.SubmitJob", cancel_now)
        aws.batch.meta.events.unregister("after-call.batch.SubmitJob", crash_once)
    return steps


def state_paths(aws: SubmitterAws) -> list[Call]:
    """A reconciler run over an open record, and an array parent's FAILED arriving first, then
    costed (its queue's compute environments, its children described)."""
    table = aws.settings.table
    version = aws.upload("jobs/array.json", config(aws, name="array", shards=2))
    [array] = aws.ingest(s3_event(("jobs/array.json", version), bucket=aws.jobs_bucket))
    event = load_event("batch-array-parent-failed.json")
    event["detail"]["jobId"] = array.batch_job_id
    event["detail"]["parameters"] = {"job_id": array.job_id}
    # the queue it was submitted to (default priority), whose compute environments the cost reads
    event["detail"]["jobQueue"] = aws.settings.queue_for_priority("normal")
    with recording(aws.ddb, aws.batch) as calls:
        state_change.handle_event(copy.deepcopy(event), ddb=aws.ddb, table=table, batch=aws.batch)
        costed = after_state_change(
            copy.deepcopy(event), ddb=aws.ddb, table=table, batch=aws.batch,
            prices=load_prices(None),
        )  # fmt: skip
    assert costed is not None, "the path reaches the cost write"
    calls += array_commit_paths(aws)
    version = aws.upload("jobs/open.json", config(aws, name="open"))
    aws.ingest(s3_event(("jobs/open.json", version), bucket=aws.jobs_bucket))
    with recording(aws.ddb, aws.batch) as more:
        reconcile.reconcile(
            aws.ddb, aws.batch, table, older_than=timedelta(0), sleep=aws.sleeps.append
        )
    return calls + more


def array_commit_paths(aws: SubmitterAws) -> list[Call]:
    """An array parent's SUCCEEDED: its commit job submitted; a second delivery asking Batch
    about it; a delivery that lost the race to attach terminating its own commit job."""
    table = aws.settings.table
    version = aws.upload("jobs/done.json", config(aws, name="done", shards=2))
    [array] = aws.ingest(s3_event(("jobs/done.json", version), bucket=aws.jobs_bucket))
    event = load_event("batch-array-parent-succeeded.json")
    event["detail"].update(
        jobId=array.batch_job_id,
        parameters={"job_id": array.job_id},
        jobQueue=aws.settings.queue_for_priority("normal"),
        jobDefinition=aws.settings.job_definition,
    )

    def deliver() -> None:
        state_change.handle_event(copy.deepcopy(event), ddb=aws.ddb, table=table, batch=aws.batch)

    def attached_meanwhile(**_: Any) -> None:
        records.conditional_update(
            aws.ddb, table, array.job_id, update="SET commit_batch_job_id = :c",
            condition="attribute_exists(job_id)", names={}, values={":c": "another"},
        )  # fmt: skip

    with recording(aws.ddb, aws.batch) as calls:
        deliver()  # SubmitJob of the commit job
        deliver()  # DescribeJobs of the commit job attached
        records.conditional_update(
            aws.ddb, table, array.job_id, update="REMOVE commit_batch_job_id",
            condition="attribute_exists(job_id)", names={},
        )  # fmt: skip
        aws.batch.meta.events.register("after-call.batch.SubmitJob", attached_meanwhile)
        try:
            deliver()  # SubmitJob, then TerminateJob of its own duplicate
        finally:
            aws.batch.meta.events.unregister("after-call.batch.SubmitJob", attached_meanwhile)
    operations = [operation for service, operation, _ in calls if service == "batch"]
    assert operations == ["SubmitJob", "DescribeJobs", "SubmitJob", "TerminateJob"], operations
    return calls
