"""Every rejection path: a REJECTED record naming the field, the config kept, no Batch call."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from support.events import s3_event
from support.job_configs import job_config
from support.names import JOBS_BUCKET
from support.submitter_aws import SubmitterAws

from config import records


def ingest_one(aws: SubmitterAws, key: str, body: dict[str, Any] | bytes):
    version = aws.upload(key, body)
    [outcome] = aws.ingest(s3_event((key, version)))
    return outcome


REJECTIONS: dict[str, tuple[dict[str, Any] | bytes, str]] = {
    "unknown key": (job_config(colour="blue"), "colour: unknown key"),
    "bad shards": (job_config(shards=0), "shards:"),
    "no queue": (job_config(priority="urgent"), "priority: 'urgent' is not a deployed queue"),
    "pickle without pin": (
        job_config(model={"uri": "s3://batchscore-data/m.pkl"}),
        "model.sha256: required",
    ),
    "local model path": (
        job_config(model={"uri": "/tmp/model.skops"}),
        "model.uri: the deployed service accepts s3:// URIs only",
    ),
    "bucket not allowed": (
        job_config(input={"uri": "s3://someone-else/in.parquet"}),
        "input.uri: bucket 'someone-else' is not allowed",
    ),
    "output bucket not allowed": (
        job_config(output={"uri": "s3://elsewhere/out/"}),
        "output.uri: bucket 'elsewhere' is not allowed",
    ),
    "not json": (b"{ this is not json", "(root): is not valid JSON"),
    "not an object": (b"[1, 2]", "(root): must be a JSON object"),
    "empty file": (b"", "(root): is not valid JSON"),
    "not utf-8": (b'{"name": "\xff"}', "(root): is not valid UTF-8"),
    "too large": (b" " * (64 * 1024) + b"{}", "(root): is 65538 bytes; a job config is at most"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejection_keeps_the_config_and_names_the_field(aws: SubmitterAws, case: str) -> None:
    body, expected = REJECTIONS[case]
    outcome = ingest_one(aws, "jobs/bad config.json", body)

    assert outcome.action == "rejected"
    assert expected in outcome.reason
    record = records.get_record(aws.ddb, aws.settings.table, outcome.job_id)
    assert record["status"] == "REJECTED"
    assert expected in record["status_reason"]
    assert record["upload"] == f"s3://{JOBS_BUCKET}/jobs/bad config.json"
    assert record["problems"][0]["path"] in expected
    # the config is kept: the upload untouched, a copy and the reason under rejected/
    original = aws.s3.get_object(Bucket=JOBS_BUCKET, Key="jobs/bad config.json")["Body"].read()
    folder = f"rejected/{outcome.job_id}/"
    assert record["rejected_uri"] == f"s3://{JOBS_BUCKET}/{folder}bad config.json"
    copy = aws.s3.get_object(Bucket=JOBS_BUCKET, Key=f"{folder}bad config.json")["Body"].read()
    assert copy == original == (body if isinstance(body, bytes) else json.dumps(body).encode())
    reason_file = aws.s3.get_object(Bucket=JOBS_BUCKET, Key=f"{folder}reason.json")
    reason = json.loads(reason_file["Body"].read())
    assert expected in f"{reason['problems'][0]['path']}: {reason['problems'][0]['message']}"
    # and no Batch job
    assert aws.all_batch_jobs() == []


def test_too_large_config_is_not_read_whole(aws: SubmitterAws) -> None:
    ranges: list[str] = []
    aws.s3.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: ranges.append(params.get("Range"))
    )
    outcome = ingest_one(aws, "jobs/huge.json", b"{" + b" " * (5 * 1024 * 1024) + b"}")
    assert outcome.action == "rejected"
    assert "is 5242882 bytes" in outcome.reason
    assert ranges == ["bytes=0-65536"]


def test_rejection_delivered_twice_is_one_record(aws: SubmitterAws) -> None:
    version = aws.upload("jobs/bad.json", job_config(shards=0))
    event = s3_event(("jobs/bad.json", version))
    [first] = aws.ingest(event)
    [again] = aws.ingest(event)
    assert (first.action, again.action) == ("rejected", "duplicate")
    assert first.job_id == again.job_id


def test_kept_copies_do_not_trigger_ingest(aws: SubmitterAws) -> None:
    outcome = ingest_one(aws, "jobs/bad.json", job_config(shards=0))
    [ignored] = aws.ingest(s3_event((f"rejected/{outcome.job_id}/bad.json", None)))
    assert ignored.action == "ignored"


def test_every_bucket_allowed_when_the_allow_list_is_empty(aws: SubmitterAws) -> None:
    from dataclasses import replace

    aws.settings = replace(aws.settings, allowed_buckets=frozenset())
    outcome = ingest_one(
        aws, "jobs/open.json", job_config(input={"uri": "s3://anywhere/in.parquet"})
    )
    assert outcome.action == "submitted"


def test_tags_must_leave_room_for_the_job_definitions(aws: SubmitterAws) -> None:
    """propagate_tags: Batch fails a job whose tags and its job definition's exceed 50."""
    tagged = dataclasses.replace(
        aws, settings=dataclasses.replace(aws.settings, definition_tag_count=3)
    )
    too_many = {f"k{i}": "v" for i in range(48)}

    outcome = ingest_one(tagged, "jobs/tagged.json", job_config(tags=too_many))

    assert outcome.action == "rejected"
    assert outcome.reason.startswith("tags: has 48 tags, at most 47 here")
    record = records.get_record(aws.ddb, aws.settings.table, outcome.job_id)
    assert record["problems"][0]["path"] == "tags"
    assert aws.all_batch_jobs() == []

    fits = {f"k{i}": "v" for i in range(47)}
    outcome = ingest_one(tagged, "jobs/fits.json", job_config(job_id="fits-1", tags=fits))
    assert outcome.action != "rejected", outcome.reason
