"""S3 uploads -> job records and Batch jobs, against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.aws_errors import error_response
from support.events import load_event, s3_event
from support.job_configs import job_config
from support.names import JOBS_BUCKET
from support.submitter_aws import SubmitterAws

from config import records
from config.retry import retry_strategy
from submitter.ingest import IngestIncompleteError


def record_of(aws: SubmitterAws, job_id: str) -> dict[str, Any]:
    record = records.get_record(aws.ddb, aws.settings.table, job_id)
    assert record is not None, job_id
    return record


def capture_submits(aws: SubmitterAws) -> list[dict[str, Any]]:
    """The SubmitJob requests as sent (moto keeps no retryStrategy or overrides to read back)."""
    sent: list[dict[str, Any]] = []
    aws.batch.meta.events.register(
        "provide-client-params.batch.SubmitJob", lambda params, **_: sent.append(params)
    )
    return sent


def test_valid_upload_becomes_one_submitted_batch_job(aws: SubmitterAws) -> None:
    # GIVEN a full config at high priority, sharded, with overrides and tags
    document = job_config(
        priority="high",
        shards=4,
        resources={"vcpus": 2, "memory_mib": 4096},
        timeout_seconds=3600,
        attempts=5,
        tags={"team": "growth"},
    )
    version = aws.upload("jobs/churn.json", document)
    sent = capture_submits(aws)

    # WHEN the upload's notification arrives
    [outcome] = aws.ingest(s3_event(("jobs/churn.json", version)))

    # THEN one record, SUBMITTED, on the high queue, with the Batch job id
    assert outcome.action == "submitted"
    record = record_of(aws, outcome.job_id)
    assert record["status"] == "SUBMITTED"
    assert record["queue"] == "batchscore-high"
    assert record["priority"] == "high"
    assert record["batch_job_id"] == outcome.batch_job_id
    assert record["upload"] == f"s3://{JOBS_BUCKET}/jobs/churn.json"
    assert record["upload_id"] == f"version:{version}"
    assert record["shards"] == 4
    assert [h["status"] for h in record["history"]] == ["SUBMITTED"]
    assert "lease_token" not in record
    assert record["expires_at"] > 0
    stored = json.loads(record["config"])
    assert stored["job_id"] == outcome.job_id
    assert stored["resources"] == {"vcpus": 2, "memory_mib": 4096}
    # AND the Batch job as submitted: array, overrides, timeout, tags, the whole retry strategy
    [job] = aws.batch_jobs("high")
    assert job["jobId"] == outcome.batch_job_id
    described = aws.describe(outcome.batch_job_id)
    assert described["jobName"] == f"batchscore-{outcome.job_id}"
    assert described["parameters"]["job_id"] == outcome.job_id
    assert described["arrayProperties"]["size"] == 4
    assert described["tags"] == {"team": "growth"}
    assert described["timeout"] == {"attemptDurationSeconds": 3600}
    assert described["jobQueue"] == aws.queue_arns["high"]
    [request] = sent
    assert request["containerOverrides"] == {
        "resourceRequirements": [
            {"type": "VCPU", "value": "2"},
            {"type": "MEMORY", "value": "4096"},
        ]
    }
    assert request["retryStrategy"] == retry_strategy(5)
    assert request["retryStrategy"]["evaluateOnExit"][-1] == {"onReason": "*", "action": "EXIT"}


def test_minimal_upload_uses_the_job_definitions_defaults(aws: SubmitterAws) -> None:
    version = aws.upload("jobs/minimal.json", job_config())
    sent = capture_submits(aws)

    [outcome] = aws.ingest(s3_event(("jobs/minimal.json", version)))

    [request] = sent
    assert request["jobQueue"] == "batchscore-normal"
    for absent in ("arrayProperties", "containerOverrides", "timeout", "retryStrategy", "tags"):
        assert absent not in request
    assert record_of(aws, outcome.job_id)["queue"] == "batchscore-normal"


def test_explicit_job_id_is_the_record_key(aws: SubmitterAws) -> None:
    version = aws.upload("jobs/a.json", job_config(job_id="churn-2026-11"))
    [outcome] = aws.ingest(s3_event(("jobs/a.json", version)))
    assert outcome.job_id == "churn-2026-11"
    assert record_of(aws, "churn-2026-11")["status"] == "SUBMITTED"


@pytest.mark.parametrize(
    "key",
    ["jobs/with space.json", "jobs/plus+sign.json", "jobs/été ünï 模型.json", "jobs/a%2Fb.json"],
)
def test_keys_with_spaces_plus_and_unicode_are_decoded(aws: SubmitterAws, key: str) -> None:
    version = aws.upload(key, job_config())
    [outcome] = aws.ingest(s3_event((key, version)))
    assert outcome.action == "submitted"
    assert record_of(aws, outcome.job_id)["upload"] == f"s3://{JOBS_BUCKET}/{key}"


def test_real_aws_payload_is_read(aws: SubmitterAws) -> None:
    # GIVEN the event exactly as AWS sends it (key "jobs/churn model été.json", URL-encoded)
    event = load_event("s3-put.json")
    key = "jobs/churn model été.json"
    version = aws.upload(key, job_config())
    event["Records"][0]["s3"]["object"]["versionId"] = version
    [outcome] = aws.ingest(event)
    assert outcome.action == "submitted"
    assert record_of(aws, outcome.job_id)["upload"].endswith(key)


def test_moto_shaped_payload_without_version_or_sequencer(aws: SubmitterAws) -> None:
    version = aws.upload("jobs/churn.json", job_config())
    [first] = aws.ingest(load_event("s3-put-moto.json"))
    [again] = aws.ingest(load_event("s3-put-moto.json"))
    assert first.action == "submitted"
    assert again.action == "duplicate"
    assert record_of(aws, first.job_id)["upload_id"] == f"version:{version}"


def test_unversioned_bucket_uses_the_sequencer(aws: SubmitterAws) -> None:
    aws.s3.create_bucket(Bucket="plain-jobs")
    aws.s3.put_object(Bucket="plain-jobs", Key="jobs/x.json", Body=json.dumps(job_config()))
    event = load_event("s3-put.json")
    obj = event["Records"][0]["s3"]
    obj["bucket"]["name"] = "plain-jobs"
    obj["object"]["key"] = "jobs/x.json"
    del obj["object"]["versionId"]
    [outcome] = aws.ingest(event)
    assert record_of(aws, outcome.job_id)["upload_id"] == "sequencer:0055AED6DCD90281E5"


def test_test_event_and_removals_are_ignored(aws: SubmitterAws) -> None:
    assert aws.ingest(load_event("s3-test-event.json")) == []
    [outcome] = aws.ingest(load_event("s3-delete.json"))
    assert outcome.action == "ignored"
    assert aws.all_batch_jobs() == []


def test_same_upload_twice_is_one_job_and_a_new_upload_of_the_same_file_another(
    aws: SubmitterAws,
) -> None:
    document = job_config()
    v1 = aws.upload("jobs/churn.json", document)
    [first] = aws.ingest(s3_event(("jobs/churn.json", v1)))
    [again] = aws.ingest(s3_event(("jobs/churn.json", v1)))
    v2 = aws.upload("jobs/churn.json", document)
    [second] = aws.ingest(s3_event(("jobs/churn.json", v2)))

    assert (first.action, again.action, second.action) == ("submitted", "duplicate", "submitted")
    assert again.job_id == first.job_id
    assert again.batch_job_id == first.batch_job_id
    assert second.job_id != first.job_id
    assert len(aws.batch_jobs()) == 2


def test_reused_job_id_from_another_upload_is_rejected(aws: SubmitterAws) -> None:
    v1 = aws.upload("jobs/a.json", job_config(job_id="fixed"))
    v2 = aws.upload("jobs/b.json", job_config(job_id="fixed"))
    [first] = aws.ingest(s3_event(("jobs/a.json", v1)))
    [second] = aws.ingest(s3_event(("jobs/b.json", v2)))
    assert first.action == "submitted"
    assert second.action == "rejected"
    assert "job_id: 'fixed' is already used" in second.reason
    assert len(aws.batch_jobs()) == 1


def test_multi_record_event_with_mixed_outcomes(aws: SubmitterAws) -> None:
    good = aws.upload("jobs/good.json", job_config())
    bad = aws.upload("jobs/bad.json", job_config(shards=0))
    low = aws.upload("jobs/low.json", job_config(priority="low", name="nightly"))
    outcomes = aws.ingest(
        s3_event(("jobs/good.json", good), ("jobs/bad.json", bad), ("jobs/low.json", low))
    )
    assert [o.action for o in outcomes] == ["submitted", "rejected", "submitted"]
    assert len(aws.batch_jobs("normal")) == 1
    assert len(aws.batch_jobs("low")) == 1


def test_a_transient_failure_fails_the_invocation_after_the_other_records(
    aws: SubmitterAws,
) -> None:
    # GIVEN an event whose first record's object cannot be read right now (S3 500)
    good = aws.upload("jobs/good.json", job_config())
    aws.upload("jobs/flaky.json", job_config(name="flaky"))
    failed_once: list[bool] = []

    def flaky_get(params: dict[str, Any], **_: Any):
        if "flaky.json" in params["url_path"] and not failed_once:
            failed_once.append(True)
            return error_response(500, "InternalError", "We encountered an internal error.")
        return None

    aws.s3.meta.events.register("before-call.s3.GetObject", flaky_get)
    event = s3_event(("jobs/flaky.json", None), ("jobs/good.json", good))

    # WHEN it is handled: the good record is done, then the invocation fails
    with pytest.raises(IngestIncompleteError) as raised:
        aws.ingest(event)
    assert "jobs/flaky.json" in str(raised.value)
    assert len(aws.batch_jobs()) == 1
    # AND Lambda's retry of the whole event completes it without repeating the good one
    outcomes = aws.ingest(event)
    assert [o.action for o in outcomes] == ["submitted", "duplicate"]
    assert len(aws.batch_jobs()) == 2


def test_throttled_submit_job_is_retried_with_backoff(aws: SubmitterAws) -> None:
    version = aws.upload("jobs/churn.json", job_config())
    throttles = [
        error_response(429, "TooManyRequestsException", "Too Many Requests"),
        error_response(429, "TooManyRequestsException", "Too Many Requests"),
        error_response(400, "ThrottlingException", "Rate exceeded"),
    ]

    def throttle(**_: Any):
        return throttles.pop(0) if throttles else None

    aws.batch.meta.events.register("before-call.batch.SubmitJob", throttle)
    [outcome] = aws.ingest(s3_event(("jobs/churn.json", version)))
    assert outcome.action == "submitted"
    assert len(aws.sleeps) == 3
    assert all(0 <= s <= 5 for s in aws.sleeps)
    assert len(aws.batch_jobs()) == 1


def test_refused_submit_job_fails_the_job_without_retrying(aws: SubmitterAws) -> None:
    version = aws.upload("jobs/churn.json", job_config())
    aws.batch.meta.events.register(
        "before-call.batch.SubmitJob",
        lambda **_: error_response(400, "ClientException", "Job queue is DISABLED"),
    )
    [outcome] = aws.ingest(s3_event(("jobs/churn.json", version)))
    assert outcome.action == "failed"
    record = record_of(aws, outcome.job_id)
    assert record["status"] == "FAILED"
    assert "DISABLED" in record["status_reason"]


def test_throttling_that_outlasts_the_backoff_fails_the_invocation_and_the_retry_submits_once(
    aws: SubmitterAws,
) -> None:
    version = aws.upload("jobs/churn.json", job_config())
    event = s3_event(("jobs/churn.json", version))
    throttled = [True]

    def throttle(**_: Any):
        if throttled[0]:
            return error_response(429, "TooManyRequestsException", "Too Many Requests")
        return None

    aws.batch.meta.events.register("before-call.batch.SubmitJob", throttle)
    with pytest.raises(IngestIncompleteError, match="ThrottledError"):
        aws.ingest(event)
    assert len(aws.sleeps) == 7  # 8 attempts
    assert aws.batch_jobs() == []

    throttled[0] = False
    [outcome] = aws.ingest(event)
    assert outcome.action == "submitted"
    assert len(aws.batch_jobs()) == 1
