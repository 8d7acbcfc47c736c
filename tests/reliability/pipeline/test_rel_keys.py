"""Hostile keys and URIs at the pipeline's edge.

- Config keys with spaces, `+`, unicode and `../` (S3 keys are literal: `..` is a name, not a
  step up) arrive percent-encoded as S3 sends them -> one job each, run once, the record naming
  the exact key; a rejected one keeps its copy under `rejected/<job id>/` whatever its name.
- A config pointing at a bucket outside the allow-list, or at a local file -> REJECTED, no Batch
  job, the config kept (untouched upload, copy, reason.json).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from support.events import s3_put_event
from support.job_configs import job_config
from support.names import JOBS_BUCKET

from config.models import NAME_PATTERN
from config.status import JobStatus
from submitter.batch import job_name

HOSTILE_KEYS = [
    "jobs/my job.json",
    "jobs/a+b.json",
    "jobs/a%2Bb.json",
    "jobs/café ü/日本語 スコア.json",
    "jobs/../escape.json",
    "jobs/x/../../etc/passwd.json",
    "jobs/..json",
]


def one_record(pipeline: Any, upload: str) -> dict[str, Any]:
    [record] = [r for r in pipeline.records() if r["upload"] == upload]
    return record


def test_hostile_keys_each_make_one_job_naming_the_exact_key(make_pipeline) -> None:
    pipeline = make_pipeline()
    for index, key in enumerate(HOSTILE_KEYS):
        version = pipeline.upload(key, job_config(f"hostile{index}"))
        event = s3_put_event(key, version)
        pipeline.ingest(event)
        pipeline.ingest(event)  # redelivered

    jobs = pipeline.batch_jobs()
    assert len(jobs) == len(HOSTILE_KEYS)
    pipeline.local_batch.wait([job["jobId"] for job in jobs], timeout=60)
    assert len(pipeline.runs()) == len(HOSTILE_KEYS)
    for key in HOSTILE_KEYS:
        record = one_record(pipeline, f"s3://{JOBS_BUCKET}/{key}")
        assert record["status"] == JobStatus.SUBMITTED
        assert re.fullmatch(NAME_PATTERN, record["job_id"])
        assert len(record["job_id"]) <= 64
        assert record["job_id"] in {job_id for job_id, _ in pipeline.runs()}
        assert any(job["jobName"] == job_name(record["job_id"]) for job in jobs)


@pytest.mark.parametrize("key", ["jobs/bad dir/../a+b é.json", "jobs/.."])
def test_a_rejected_hostile_key_is_kept_under_its_own_rejected_folder(
    make_pipeline, key: str
) -> None:
    pipeline = make_pipeline()
    body = b'{"name": "broken"'
    version = pipeline.upload(key, body)

    [outcome] = pipeline.ingest(s3_put_event(key, version))

    assert outcome.action == "rejected"
    record = one_record(pipeline, f"s3://{JOBS_BUCKET}/{key}")
    folder = f"rejected/{record['job_id']}/"
    copy_key = record["rejected_uri"].removeprefix(f"s3://{JOBS_BUCKET}/")
    assert copy_key.startswith(folder)
    assert "/" not in copy_key.removeprefix(folder)
    copied = pipeline.s3.get_object(Bucket=JOBS_BUCKET, Key=copy_key)["Body"].read()
    assert copied == body
    assert pipeline.batch_jobs() == []


@pytest.mark.parametrize(
    ("field", "uri", "problem"),
    [
        ("input", "s3://someone-elses-bucket/input/x.parquet", "'someone-elses-bucket' is not"),
        ("output", "s3://someone-elses-bucket/out/", "'someone-elses-bucket' is not allowed"),
        ("model", "file:///etc/passwd.skops", "s3:// URIs only"),
        ("input", "/etc/shadow.csv", "s3:// URIs only"),
    ],
)
def test_a_config_outside_the_allow_list_is_rejected_and_kept(
    make_pipeline, field: str, uri: str, problem: str
) -> None:
    pipeline = make_pipeline()
    document = job_config("sneaky")
    document[field] = {**document[field], "uri": uri}
    if field == "model" and uri.startswith("file://"):
        document["model"]["sha256"] = "0" * 64
    body = json.dumps(document).encode()
    version = pipeline.upload("jobs/sneaky.json", body)

    [outcome] = pipeline.ingest(s3_put_event("jobs/sneaky.json", version))

    # THEN rejected, naming the field and the reason; no Batch job, nothing run
    assert outcome.action == "rejected"
    record = one_record(pipeline, f"s3://{JOBS_BUCKET}/jobs/sneaky.json")
    assert record["status"] == JobStatus.REJECTED
    assert f"{field}.uri" in record["status_reason"]
    assert problem in record["status_reason"]
    assert pipeline.batch_jobs() == []
    assert pipeline.runs() == []
    # ... and the config kept: the upload untouched, a copy and the reason beside it
    original = pipeline.s3.get_object(Bucket=JOBS_BUCKET, Key="jobs/sneaky.json")["Body"].read()
    assert original == body
    copy_key = record["rejected_uri"].removeprefix(f"s3://{JOBS_BUCKET}/")
    assert pipeline.s3.get_object(Bucket=JOBS_BUCKET, Key=copy_key)["Body"].read() == body
    reason_key = f"rejected/{record['job_id']}/reason.json"
    reason = json.loads(pipeline.s3.get_object(Bucket=JOBS_BUCKET, Key=reason_key)["Body"].read())
    assert [p["path"] for p in reason["problems"]] == [f"{field}.uri"]
