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

from fnmatch import fnmatch
from typing import Any

import boto3
import pytest
from support.iam_policy import Arns, Call
from support.iam_policy import needs as resource_needs
from support.lambda_paths import ingest_paths, state_paths
from support.submitter_aws import SubmitterAws
from support.terraform_hcl import load_hcl

Need = tuple[str, str | None]  # (IAM action, S3 key or DynamoDB index the action is on)


# A role's policies kept beside the feature that needs them (each an aws_iam_role_policy on it).
EXTRA_POLICIES = {"state": [("array_commit.tf", "state_commit")]}


def policy_statements(document: str, file: str = "iam.tf") -> list[dict[str, Any]]:
    for block in load_hcl(file)["data"]:
        for name, body in block.get("aws_iam_policy_document", {}).items():
            if name == document:
                return body["statement"]
    raise AssertionError(f"no aws_iam_policy_document.{document} in terraform/{file}")


def role_statements(lambda_name: str) -> list[dict[str, Any]]:
    extra = EXTRA_POLICIES.get(lambda_name, [])
    return [
        *policy_statements(lambda_name),
        *(statement for file, name in extra for statement in policy_statements(name, file)),
    ]


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


@pytest.mark.parametrize(
    ("lambda_name", "paths", "must_include"),
    [
        (
            "ingest",
            lambda aws: ingest_paths(aws, boto3.client),
            {"batch:SubmitJob", "batch:ListJobs", "batch:TerminateJob", "s3:PutObject"},
        ),
        (
            "state",
            state_paths,
            {"dynamodb:Query", "batch:DescribeJobs", "batch:ListJobs"}
            | {"batch:DescribeJobQueues", "batch:DescribeComputeEnvironments"}
            | {"batch:SubmitJob", "batch:TerminateJob"},  # an array's commit job
        ),
    ],
)
def test_every_call_of_the_lambda_is_allowed_by_its_policy(
    aws: SubmitterAws, lambda_name: str, paths: Any, must_include: set[str]
) -> None:
    statements = role_statements(lambda_name)
    calls = paths(aws)
    required = {need for call in calls for need in needs(call)}
    # Every call has its resource rule for the ARN-level check on the applied stack
    # (tests/e2e/terraform/test_terraform_iam.py), which raises on a call it cannot place.
    assert all(resource_needs(call, Arns("eu-west-1", "123456789012")) for call in calls)
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
