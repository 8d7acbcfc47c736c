"""IAM as AWS evaluates it for one principal, which moto does not: the action and the resource
ARN(s) each API call is authorised on, and a small evaluator of identity policy documents.

`needs(call, arns)` turns a call (IAM service prefix, operation, botocore parameters) into the
(action, resource ARN) pairs AWS checks for it, per the Service Authorization Reference:
S3 objects `arn:aws:s3:::bucket/key` and buckets `arn:aws:s3:::bucket`; DynamoDB tables
`...:table/T` and indexes `...:table/T/index/I`; Batch `SubmitJob` on the job queue *and* the job
definition (AWS documents both forms of the definition's ARN, with and without its revision, so
both must be granted), `TerminateJob`/`CancelJob`/`TagResource` on the job; Logs on the log
stream. Actions without a resource type (`batch:ListJobs`, `batch:DescribeJobs`,
`batch:DescribeJobQueues`, `batch:DescribeComputeEnvironments`,
`ecr:GetAuthorizationToken`) are checked against "*": only a `"*"` resource grants them.

`allowed(documents, action, resource)`: an explicit Deny wins, else some Allow must match;
`Action`/`NotAction` match case-insensitively, `Resource`/`NotResource` case-sensitively, with
IAM's two wildcards (`*` any run, `?` one character). A statement's `Condition` is evaluated
against the request's condition keys where the operator is one we implement (`StringEquals`,
`StringEqualsIfExists`, `ForAllValues:StringEquals`; e.g. DynamoDB's `dynamodb:Attributes` and
`dynamodb:ReturnValues` for item writes); any other operator never proves an Allow and always
counts as a Deny (it may hold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

Call = tuple[str, str, dict[str, Any]]  # (IAM service prefix, operation, parameters)
Need = tuple[str, str]  # (IAM action, resource ARN or "*")
# A need with the request's condition keys (multi-valued keys as tuples), for item writes.
Context = frozenset[tuple[str, tuple[str, ...]]]
ConditionalNeed = tuple[str, str, Context]

# S3 operations and the action each is authorised as (on the object, unless noted in BUCKET_LEVEL)
S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "DeleteObject": "s3:DeleteObject",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "GetBucketLocation": "s3:GetBucketLocation",
    "CreateBucket": "s3:CreateBucket",
}
VERSIONED = {"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion"}
BUCKET_LEVEL = {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"}
BUCKET_LEVEL |= {"s3:GetBucketLocation", "s3:CreateBucket"}
UNSCOPED = {"batch:ListJobs", "batch:DescribeJobs", "batch:DescribeJobQueues"}
UNSCOPED |= {"batch:DescribeJobDefinitions", "ecr:GetAuthorizationToken"}
UNSCOPED |= {"batch:DescribeComputeEnvironments"}  # no resource type either (a job's cost)
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Arns:
    """ARNs of one account and region."""

    region: str
    account: str
    partition: str = "aws"
    # SNS topic ARN -> its KMS key ARN, for topics with server-side encryption: publishing to
    # one is also authorised by KMS (kms:GenerateDataKey and kms:Decrypt, as the publisher).
    topic_keys: tuple[tuple[str, str], ...] = ()

    def s3(self, bucket: str, key: str | None = None) -> str:
        return f"arn:{self.partition}:s3:::{bucket}" + ("" if key is None else f"/{key}")

    def table(self, table: str, index: str | None = None) -> str:
        if table.startswith("arn:"):
            arn = table
        else:
            arn = f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{table}"
        return arn if index is None else f"{arn}/index/{index}"

    def batch(self, kind: str, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:{self.partition}:batch:{self.region}:{self.account}:{kind}/{name}"

    def job_definitions(self, definition: str) -> list[str]:
        """The definition's ARN with its revision (when it has one) and without."""
        arn = self.batch("job-definition", definition)
        base = arn.rsplit(":", 1)[0] if re.search(r"/[^/:]+:\d+$", arn) else arn
        return sorted({arn, base})

    def event_bus(self, bus: str | None) -> str:
        if bus and bus.startswith("arn:"):
            return bus
        name = bus or "default"
        return f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/{name}"

    def log_stream(self, group: str, stream: str) -> str:
        prefix = f"arn:{self.partition}:logs:{self.region}:{self.account}"
        return f"{prefix}:log-group:{group}:log-stream:{stream}"


def s3_needs(operation: str, params: dict[str, Any], arns: Arns) -> list[Need]:
    bucket = params["Bucket"]
    if operation == "CopyObject":
        source = params["CopySource"]
        read = "s3:GetObjectVersion" if source.get("VersionId") else "s3:GetObject"
        return [
            (read, arns.s3(source["Bucket"], source["Key"])),
            ("s3:PutObject", arns.s3(bucket, params["Key"])),
        ]
    if operation == "DeleteObjects":
        return [
            (
                "s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                arns.s3(bucket, o["Key"]),
            )
            for o in params["Delete"]["Objects"]
        ]
    action = S3_ACTIONS[operation]
    if action in BUCKET_LEVEL:
        return [(action, arns.s3(bucket))]
    if params.get("VersionId"):
        action = VERSIONED.get(action, action)
    return [(action, arns.s3(bucket, params["Key"]))]


def dynamodb_needs(operation: str, params: dict[str, Any], arns: Arns) -> list[Need]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            action = TRANSACT_ACTIONS.get(kind, "GetItem")
            found.append((f"dynamodb:{action}", arns.table(body["TableName"])))
        return found
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", arns.table(t)) for t in params["RequestItems"]]
    return [(f"dynamodb:{operation}", arns.table(params["TableName"], params.get("IndexName")))]


ITEM_WRITES = ("UpdateItem", "PutItem", "DeleteItem")


def dynamodb_context(operation: str, params: dict[str, Any]) -> Context:
    """The condition keys AWS sets on an item write: `dynamodb:Attributes` (the key's and every
    attribute the request names) and `dynamodb:ReturnValues` (when the request sets it)."""
    if operation not in ITEM_WRITES:
        return frozenset()
    names = set(params.get("Key", {})) | set(params.get("Item", {}))
    names |= set(params.get("ExpressionAttributeNames", {}).values())
    context = {"dynamodb:Attributes": tuple(sorted(names))}
    if "ReturnValues" in params:
        context["dynamodb:ReturnValues"] = (params["ReturnValues"],)
    return frozenset(context.items())


def conditional_needs(call: Call, arns: Arns) -> list[ConditionalNeed]:
    """`needs(call)` with the call's condition keys (empty where we set none)."""
    service, operation, params = call
    context = dynamodb_context(operation, params) if service == "dynamodb" else frozenset()
    return [(action, resource, context) for action, resource in needs(call, arns)]


def batch_needs(operation: str, params: dict[str, Any], arns: Arns) -> list[Need]:
    action = f"batch:{operation}"
    if action in UNSCOPED:
        return [(action, "*")]
    if operation == "SubmitJob":
        found = [(action, arns.batch("job-queue", params["jobQueue"]))]
        found += [(action, arn) for arn in arns.job_definitions(params["jobDefinition"])]
        if params.get("tags"):
            # The new job's id is not known before the call: any job of the account and region.
            found.append(("batch:TagResource", arns.batch("job", "NEW-JOB-ID")))
        return found
    if operation in ("TerminateJob", "CancelJob"):
        return [(action, arns.batch("job", params["jobId"]))]
    raise AssertionError(f"no resource rule for {action}: add one to support.iam_policy")


def logs_needs(operation: str, params: dict[str, Any], arns: Arns) -> list[Need]:
    return [(f"logs:{operation}", arns.log_stream(params["logGroupName"], params["logStreamName"]))]


def sns_needs(operation: str, params: dict[str, Any], arns: Arns) -> list[Need]:
    if operation != "Publish":
        raise AssertionError(f"no resource rule for sns:{operation}: add one to support.iam_policy")
    topic = params["TopicArn"]
    found = [("sns:Publish", topic)]
    key = dict(arns.topic_keys).get(topic)
    if key:
        found += [("kms:GenerateDataKey", key), ("kms:Decrypt", key)]
    return found


def events_needs(operation: str, params: dict[str, Any], arns: Arns) -> list[Need]:
    """PutEvents is authorised on each entry's event bus (the default bus when unnamed)."""
    if operation != "PutEvents":
        raise AssertionError(f"no resource rule for events:{operation}")
    buses = {arns.event_bus(entry.get("EventBusName")) for entry in params["Entries"]}
    return [("events:PutEvents", bus) for bus in sorted(buses)]


NEEDS = {"s3": s3_needs, "dynamodb": dynamodb_needs, "batch": batch_needs, "logs": logs_needs}
NEEDS |= {"sns": sns_needs, "events": events_needs}


def needs(call: Call, arns: Arns) -> list[Need]:
    """The (action, resource ARN) pairs AWS authorises for one call."""
    service, operation, params = call
    if service not in NEEDS:
        raise AssertionError(f"no resource rule for {service}:{operation}")
    return NEEDS[service](operation, params, arns)


# ---------------------------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------------------------


@cache
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(statement: dict[str, Any], key: str, value: str, ignore_case: bool) -> bool:
    if key in statement:
        return any(_pattern(p, ignore_case).match(value) for p in _listed(statement[key]))
    negated = f"Not{key}"
    if negated in statement:
        return not any(_pattern(p, ignore_case).match(value) for p in _listed(statement[negated]))
    return False


def applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    return _matches(statement, "Action", action, True) and _matches(
        statement, "Resource", resource, False
    )


def allowed(
    documents: list[dict[str, Any]], action: str, resource: str, context: Context = frozenset()
) -> bool:
    """Whether identity policies `documents` (IAM JSON) allow `action` on `resource` for a
    request with the condition keys `context`."""
    statements = [s for d in documents for s in _listed_statements(d)]
    relevant = [s for s in statements if applies(s, action, resource)]
    keys = dict(context)
    if any(s["Effect"] == "Deny" and _holds(s, keys) is not False for s in relevant):
        return False
    return any(s["Effect"] == "Allow" and _holds(s, keys) is True for s in relevant)


def _holds(statement: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> bool | None:
    """Whether every condition of the statement holds: None when one cannot be told here."""
    verdicts = [
        _condition(operator, key, _listed(values), keys.get(key))
        for operator, tests in statement.get("Condition", {}).items()
        for key, values in tests.items()
    ]
    if any(verdict is None for verdict in verdicts):
        return None
    return all(verdicts)


def _condition(
    operator: str, key: str, values: list[str], present: tuple[str, ...] | None
) -> bool | None:
    if operator == "ForAllValues:StringEquals":
        return present is None or all(v in values for v in present)
    if operator == "StringEqualsIfExists":
        return present is None or all(v in values for v in present)
    if operator == "StringEquals":
        return present is not None and all(v in values for v in present)
    return None


def _listed_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statement = document["Statement"]
    return [statement] if isinstance(statement, dict) else list(statement)


def refused(
    documents: list[dict[str, Any]], required: set[Need] | set[ConditionalNeed]
) -> list[tuple[str, ...]]:
    """The needs `documents` do not allow, sorted (with their condition keys, if any)."""
    return sorted(
        need[:2] if len(need) == 2 or not need[2] else (*need[:2], str(sorted(need[2])))
        for need in required
        if not allowed(documents, *need)
    )
