"""Every AWS call the two Lambdas make is allowed by their policy in terraform/iam.tf.

moto does not enforce IAM, so a missing permission passes every other test and fails only in AWS:
the ingest Lambda once lacked `batch:ListJobs` (finding a submission after a crash),
`batch:TerminateJob` (a submission landing after a cancel) and `s3:PutObject` on `rejected/*`
(keeping a rejected config). Here the Lambdas' work functions run their paths on the fixture's
moto clients while botocore's `provide-client-params` event notes each call; each call becomes
the IAM actions AWS checks for it, and each must be granted by that Lambda's policy document: for
S3 on a matching key pattern, for DynamoDB on the table or on the index queried.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from fnmatch import fnmatch
from typing import Any

import pytest
from support.aws_errors import Crash
from support.events import load_event, s3_event
from support.job_configs import job_config
from support.names import TABLE
from support.submitter_aws import SubmitterAws
from support.terraform_hcl import load_hcl

from submitter import job_actions, reconcile, state_change

Call = tuple[str, str, dict[str, Any]]  # (IAM service prefix, operation, parameters)
Need = tuple[str, str | None]  # (IAM action, S3 key or DynamoDB index the action is on)


def policy_statements(document: str) -> list[dict[str, Any]]:
    for block in load_hcl("iam.tf")["data"]:
        for name, body in block.get("aws_iam_policy_document", {}).items():
            if name == document:
                return body["statement"]
    raise AssertionError(f"no aws_iam_policy_document.{document} in terraform/iam.tf")


def needs(call: Call) -> list[Need]:
    """What AWS authorises for one call (the cases these Lambdas make)."""
    service, operation, params = call
    if service == "s3":
        if operation == "CopyObject":
            source = params["CopySource"]
            read = "s3:GetObjectVersion" if "VersionId" in source else "s3:GetObject"
            return [(read, source["Key"]), ("s3:PutObject", params["Key"])]
        if operation == "GetObject" and params.get("VersionId"):
            return [("s3:GetObjectVersion", params["Key"])]
        return [(f"s3:{operation}", params["Key"])]
    if service == "dynamodb":
        return [(f"dynamodb:{operation}", params.get("IndexName"))]
    extra = [("batch:TagResource", None)] if operation == "SubmitJob" and params.get("tags") else []
    return [(f"{service}:{operation}", None), *extra]


def allowed(statements: list[dict[str, Any]], need: Need) -> bool:
    action, target = need
    for statement in statements:
        if statement.get("effect", "Allow") != "Allow" or action not in statement["actions"]:
            continue
        for resource in statement["resources"]:
            if resource == "*":
                return True
            if action.startswith("s3:"):
                # "${aws_s3_bucket.this["jobs"].arn}/jobs/*" -> the key pattern "jobs/*"
                if "}/" in resource and fnmatch(target or "", resource.split("}/", 1)[1]):
                    return True
            elif action.startswith("dynamodb:"):
                index = resource.split("/index/", 1)[1] if "/index/" in resource else None
                if index == target or (target and index == "*"):
                    return True
            else:
                return True
    return False


@contextmanager
def recording(*clients: Any) -> Iterator[list[Call]]:
    """Note the calls made on `clients` inside the block only (the test's own set-up calls,
    uploads and listings, are not the Lambda's)."""
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


def ingest_paths(aws: SubmitterAws) -> list[Call]:
    """A submission, a rejection, a duplicate delivery, a crash recovered by name, and a
    submission landing after its job was cancelled."""
    steps: list[Call] = []

    def lambda_step(event: dict[str, Any]) -> list[Any]:
        with recording(aws.s3, aws.ddb, aws.batch) as step:
            try:
                return aws.ingest(event)
            except Crash:
                return []
            finally:
                steps.extend(step)

    version = aws.upload("jobs/ok.json", job_config(tags={"team": "risk"}, shards=2))
    ok = s3_event(("jobs/ok.json", version))
    lambda_step(ok)
    lambda_step(ok)  # redelivery: a duplicate

    bad = aws.upload("jobs/bad.json", job_config(shards=0))
    lambda_step(s3_event(("jobs/bad.json", bad)))

    crashed: list[bool] = []

    def crash_once(**_: Any) -> None:
        if not crashed:
            crashed.append(True)
            raise Crash

    aws.batch.meta.events.register("after-call.batch.SubmitJob", crash_once)
    version = aws.upload("jobs/crash.json", job_config(name="crash"))
    crash = s3_event(("jobs/crash.json", version))
    lambda_step(crash)
    aws.clock.advance(aws.settings.lease_seconds + 1)
    lambda_step(crash)  # finds the first submission with ListJobs

    def cancel_now(parsed: dict[str, Any], **_: Any) -> None:
        # The CLI's cancel, on clients of its own: not the Lambda's calls.
        import boto3

        job_id = parsed["jobName"].removeprefix("batchscore-")
        ddb, batch = boto3.client("dynamodb"), boto3.client("batch")
        job_actions.cancel(ddb, batch, aws.settings, job_id, runtime=aws.runtime)

    aws.batch.meta.events.register("after-call.batch.SubmitJob", cancel_now)
    version = aws.upload("jobs/late.json", job_config(name="late"))
    lambda_step(s3_event(("jobs/late.json", version)))  # attach sees CANCELLED: TerminateJob
    return steps


def state_paths(aws: SubmitterAws) -> list[Call]:
    """A reconciler run over an open record, and an array parent's FAILED arriving first."""
    version = aws.upload("jobs/array.json", job_config(name="array", shards=2))
    [array] = aws.ingest(s3_event(("jobs/array.json", version)))
    event = load_event("batch-array-parent-failed.json")
    event["detail"]["jobId"] = array.batch_job_id
    event["detail"]["parameters"] = {"job_id": array.job_id}
    with recording(aws.ddb, aws.batch) as calls:
        state_change.handle_event(copy.deepcopy(event), ddb=aws.ddb, table=TABLE, batch=aws.batch)
    version = aws.upload("jobs/open.json", job_config(name="open"))
    aws.ingest(s3_event(("jobs/open.json", version)))
    with recording(aws.ddb, aws.batch) as more:
        reconcile.reconcile(
            aws.ddb, aws.batch, TABLE, older_than=timedelta(0), sleep=aws.sleeps.append
        )
    return calls + more


@pytest.mark.parametrize(
    ("lambda_name", "paths", "must_include"),
    [
        (
            "ingest",
            ingest_paths,
            {"batch:SubmitJob", "batch:ListJobs", "batch:TerminateJob", "s3:PutObject"},
        ),
        ("state", state_paths, {"dynamodb:Query", "batch:DescribeJobs", "batch:ListJobs"}),
    ],
)
def test_every_call_of_the_lambda_is_allowed_by_its_policy(
    aws: SubmitterAws, lambda_name: str, paths: Any, must_include: set[str]
) -> None:
    statements = policy_statements(lambda_name)
    required = {need for call in paths(aws) for need in needs(call)}
    # The paths reach the calls this test is about (else it would prove nothing).
    assert must_include <= {action for action, _ in required}
    missing = sorted((a, t or "") for a, t in required if not allowed(statements, (a, t)))
    assert missing == []


def test_the_checker_spots_a_missing_permission() -> None:
    statements = policy_statements("ingest")
    assert allowed(statements, ("s3:GetObjectVersion", "jobs/a.json"))
    assert not allowed(statements, ("s3:PutObject", "jobs/a.json"))  # uploads are not ours
    assert not allowed(statements, ("dynamodb:Query", "by-status"))
    assert not allowed(statements, ("batch:DescribeJobs", None))
