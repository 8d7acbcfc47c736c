"""Configs AWS would refuse later are REJECTED at upload, with the field path and the config kept:
outputs the job role cannot write, resources the platform does not offer, documents that break
the parser."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from support.events import s3_event
from support.job_configs import job_config
from support.names import DATA_BUCKET
from support.submitter_aws import SubmitterAws

from config import records
from config.batch_limits import Platform
from submitter import ingest


def ingest_one(aws: SubmitterAws, body: dict[str, Any] | bytes, **settings: Any) -> Any:
    deployment = dataclasses.replace(aws, settings=dataclasses.replace(aws.settings, **settings))
    key = "jobs/job.json"
    version = aws.upload(key, body)
    [outcome] = deployment.ingest(s3_event((key, version)))
    return outcome


def assert_rejected(aws: SubmitterAws, outcome: Any, expected: str) -> None:
    assert outcome.action == "rejected", outcome
    assert expected in outcome.reason
    record = records.get_record(aws.ddb, aws.settings.table, outcome.job_id)
    assert record["status"] == "REJECTED"
    kept = aws.s3.list_objects_v2(Bucket="batchscore-jobs", Prefix="rejected/")["KeyCount"]
    assert kept >= 2  # the config and its reason.json
    assert aws.batch_jobs() == []


# A deployment that may read `reference-data` but write only the data bucket.
READ_ONLY_REFERENCE = {
    "allowed_buckets": frozenset({DATA_BUCKET, "reference-data"}),
    "write_buckets": frozenset({DATA_BUCKET}),
}


def test_an_output_in_a_read_only_bucket_is_rejected(aws: SubmitterAws) -> None:
    config = job_config(output={"uri": "s3://reference-data/out/"})
    outcome = ingest_one(aws, config, **READ_ONLY_REFERENCE)
    assert_rejected(aws, outcome, "output.uri: bucket 'reference-data' is read-only for the job")


def test_an_input_in_a_read_only_bucket_is_fine(aws: SubmitterAws) -> None:
    config = job_config(input={"uri": "s3://reference-data/in.parquet"})
    outcome = ingest_one(aws, config, **READ_ONLY_REFERENCE)
    assert outcome.action == "submitted"


@pytest.mark.parametrize(
    ("platform", "resources", "expected"),
    [
        (Platform.EC2, {"vcpus": 0.5}, "resources.vcpus: must be a whole number of vCPUs on EC2"),
        (Platform.FARGATE, {"vcpus": 3}, "resources.vcpus: must be one of 0.25, 0.5, 1, 2, 4"),
        (
            Platform.FARGATE,
            {"vcpus": 0.25, "memory_mib": 4096},
            "resources.memory_mib: Fargate does not offer 4096 MiB with 0.25 vCPU",
        ),
    ],
)
def test_resources_the_platform_does_not_offer_are_rejected(
    aws: SubmitterAws, platform: Platform, resources: dict[str, Any], expected: str
) -> None:
    outcome = ingest_one(aws, job_config(resources=resources), platform=platform)
    assert_rejected(aws, outcome, expected)


@pytest.mark.parametrize(
    ("platform", "resources"),
    [(Platform.EC2, {"vcpus": 2, "memory_mib": 3000}), (Platform.FARGATE, {"vcpus": 0.5})],
)
def test_resources_the_platform_offers_are_submitted(
    aws: SubmitterAws, platform: Platform, resources: dict[str, Any]
) -> None:
    outcome = ingest_one(aws, job_config(resources=resources), platform=platform)
    assert outcome.action == "submitted"


def test_thirty_thousand_brackets_are_a_rejection_not_a_retry_loop(aws: SubmitterAws) -> None:
    outcome = ingest_one(aws, b"[" * 30_000 + b"]" * 30_000)
    assert_rejected(aws, outcome, "(root): is nested more than 16 levels deep")


def test_any_exception_from_the_parser_is_a_rejection(
    aws: SubmitterAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(ingest, "parse_config", broken)
    outcome = ingest_one(aws, job_config())
    assert_rejected(aws, outcome, "(root): cannot be parsed (RecursionError)")
