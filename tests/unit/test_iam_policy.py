"""The IAM evaluator and resource rules of `support.iam_policy` that the e2e IAM checks rely on."""

from __future__ import annotations

from support.iam_policy import Arns, allowed, needs

ARNS = Arns("eu-west-1", "123456789012")
BUCKET = "arn:aws:s3:::data"


def policy(*statements: dict) -> list[dict]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def test_wildcards_match_actions_case_insensitively_and_resources_exactly():
    documents = policy({"Effect": "Allow", "Action": "S3:Get*", "Resource": f"{BUCKET}/in/?.csv"})

    assert allowed(documents, "s3:GetObject", f"{BUCKET}/in/a.csv")
    assert not allowed(documents, "s3:GetObject", f"{BUCKET}/in/ab.csv")
    assert not allowed(documents, "s3:GetObject", "arn:aws:s3:::DATA/in/a.csv")
    assert not allowed(documents, "s3:PutObject", f"{BUCKET}/in/a.csv")


def test_a_deny_wins_and_a_conditional_allow_proves_nothing():
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    deny = {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    conditional = {**allow, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}

    assert allowed(policy(allow, deny), "s3:GetObject", f"{BUCKET}/k")
    assert not allowed(policy(allow, deny), "s3:PutObject", f"{BUCKET}/k")
    assert not allowed(policy(conditional), "s3:GetObject", f"{BUCKET}/k")


def test_unscoped_actions_need_a_star_resource():
    scoped = policy({"Effect": "Allow", "Action": "batch:ListJobs", "Resource": "arn:aws:batch:*"})
    [need] = needs(("batch", "ListJobs", {"jobQueue": "q"}), ARNS)

    assert need == ("batch:ListJobs", "*")
    assert not allowed(scoped, *need)


def test_submit_job_is_authorised_on_the_queue_and_both_forms_of_the_definition():
    params = {"jobName": "j", "jobQueue": "high", "jobDefinition": "score:3", "tags": {"a": "b"}}
    prefix = "arn:aws:batch:eu-west-1:123456789012"

    assert needs(("batch", "SubmitJob", params), ARNS) == [
        ("batch:SubmitJob", f"{prefix}:job-queue/high"),
        ("batch:SubmitJob", f"{prefix}:job-definition/score"),
        ("batch:SubmitJob", f"{prefix}:job-definition/score:3"),
        ("batch:TagResource", f"{prefix}:job/NEW-JOB-ID"),
    ]


def test_s3_and_dynamodb_calls_name_their_objects_buckets_tables_and_indexes():
    copy = {
        "Bucket": "b",
        "Key": "out",
        "CopySource": {"Bucket": "a", "Key": "in", "VersionId": "1"},
    }
    query = {"TableName": "jobs", "IndexName": "by-status"}

    assert needs(("s3", "CopyObject", copy), ARNS) == [
        ("s3:GetObjectVersion", "arn:aws:s3:::a/in"),
        ("s3:PutObject", "arn:aws:s3:::b/out"),
    ]
    assert needs(("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "x/"}), ARNS) == [
        ("s3:ListBucket", "arn:aws:s3:::b")
    ]
    assert needs(("dynamodb", "Query", query), ARNS) == [
        ("dynamodb:Query", "arn:aws:dynamodb:eu-west-1:123456789012:table/jobs/index/by-status")
    ]


def test_dynamodb_item_writes_are_judged_by_their_attributes() -> None:
    from support.iam_policy import conditional_needs

    statement = {
        "Effect": "Allow",
        "Action": "dynamodb:UpdateItem",
        "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/jobs",
        "Condition": {
            "ForAllValues:StringEquals": {"dynamodb:Attributes": ["job_id", "status", "rows"]},
            "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_NEW"]},
        },
    }
    documents = [{"Statement": [statement]}]

    def update(names: dict[str, str], **extra: str) -> dict:
        return {
            "TableName": "jobs",
            "Key": {"job_id": {"S": "j"}},
            "ExpressionAttributeNames": names,
        } | extra

    [ok] = conditional_needs(("dynamodb", "UpdateItem", update({"#s": "status"})), ARNS)
    [config] = conditional_needs(("dynamodb", "UpdateItem", update({"#c": "config"})), ARNS)
    [everything] = conditional_needs(
        ("dynamodb", "UpdateItem", update({"#s": "status"}, ReturnValues="ALL_NEW")), ARNS
    )
    assert allowed(documents, *ok)
    assert not allowed(documents, *config)
    assert not allowed(documents, *everything)
