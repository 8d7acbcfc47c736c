"""`submitter.shard_rerun`: which shards a rerun scores, the record and the Batch request it
makes (moto S3, DynamoDB and Batch API), and the jobs it refuses."""

from __future__ import annotations

import json

import pytest
from support.events import s3_event
from support.job_configs import job_config
from support.names import DATA_BUCKET, JOBS_BUCKET

from config import records
from config.digest import text_sha256
from config.status import JobStatus
from submitter.exceptions import JobStateError
from submitter.shard_rerun import rerun_failed_shards


def submitted(aws, name: str, shards: int) -> str:
    version = aws.upload(f"jobs/{name}.json", job_config(name, shards=shards))
    [outcome] = aws.ingest(s3_event((f"jobs/{name}.json", version), bucket=JOBS_BUCKET))
    return str(outcome.job_id)


def marker(aws, name: str, shard: int, job_id: str) -> None:
    aws.s3.put_object(
        Bucket=DATA_BUCKET,
        Key=f"output/{name}/_shards/shard-{shard:05d}.json",
        Body=json.dumps({"job_id": job_id, "shard": shard}).encode(),
    )


def test_only_the_shards_without_a_marker_of_the_job_are_rerun(aws) -> None:
    job_id = submitted(aws, "arr", 5)
    records.advance(aws.ddb, aws.settings.table, job_id, JobStatus.FAILED, reason="shard 1")
    for shard in (0, 2, 4):
        marker(aws, "arr", shard, job_id)
    marker(aws, "arr", 3, "an-earlier-job")  # another job's marker does not count

    outcome = rerun_failed_shards(aws.ddb, aws.batch, aws.s3, aws.settings, job_id)

    record = records.get_record(aws.ddb, aws.settings.table, outcome.job_id)
    original = records.get_record(aws.ddb, aws.settings.table, job_id)
    assert (record["rerun_of"], record["shards_of"], record["rerun_shards"]) == (
        job_id,
        job_id,
        [1, 3],
    )
    assert record["config"] == original["config"]  # the same digest as the shards kept
    assert record["batch_job_id"] == outcome.batch_job_id
    described = aws.describe(outcome.batch_job_id)
    assert described["arrayProperties"]["size"] == 2
    assert described["parameters"]["job_id"] == outcome.job_id
    assert described["parameters"]["config_sha256"] == text_sha256(original["config"])
    assert original["status"] == "FAILED"  # forward-only: the original stays as it ended


def test_one_failed_shard_is_a_single_batch_job(aws) -> None:
    job_id = submitted(aws, "one", 2)
    records.advance(aws.ddb, aws.settings.table, job_id, JobStatus.FAILED)
    marker(aws, "one", 0, job_id)
    outcome = rerun_failed_shards(aws.ddb, aws.batch, aws.s3, aws.settings, job_id)
    assert "arrayProperties" not in aws.describe(outcome.batch_job_id)


def test_a_rerun_of_a_rerun_completes_the_first_jobs_output(aws) -> None:
    job_id = submitted(aws, "twice", 3)
    records.advance(aws.ddb, aws.settings.table, job_id, JobStatus.FAILED)
    marker(aws, "twice", 0, job_id)
    first = rerun_failed_shards(aws.ddb, aws.batch, aws.s3, aws.settings, job_id)
    records.advance(aws.ddb, aws.settings.table, first.job_id, JobStatus.FAILED)
    marker(aws, "twice", 1, job_id)  # the first rerun's shard 1 succeeded, in the job's name
    second = rerun_failed_shards(aws.ddb, aws.batch, aws.s3, aws.settings, first.job_id)
    record = records.get_record(aws.ddb, aws.settings.table, second.job_id)
    assert (record["shards_of"], record["rerun_shards"]) == (job_id, [2])


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("running", "is SUBMITTED: cancel it first"),
        ("single", "is not an array job"),
        ("committed", "committed its output"),
        ("complete", "every shard of job"),
    ],
)
def test_jobs_without_failed_shards_are_refused(aws, case: str, message: str) -> None:
    job_id = submitted(aws, case, 1 if case == "single" else 2)
    if case != "running":
        records.advance(aws.ddb, aws.settings.table, job_id, JobStatus.FAILED)
    if case == "committed":
        aws.s3.put_object(Bucket=DATA_BUCKET, Key=f"output/{case}/_manifest.json", Body=b"{}")
    if case == "complete":
        for shard in (0, 1):
            marker(aws, case, shard, job_id)
    with pytest.raises(JobStateError, match=message):
        rerun_failed_shards(aws.ddb, aws.batch, aws.s3, aws.settings, job_id)
