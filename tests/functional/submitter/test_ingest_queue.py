"""Uploads through the upload queue: SQS batches of S3 notifications, partial batch responses."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from support.aws_errors import client_error
from support.events import load_event, s3_put_event
from support.job_configs import job_config
from support.names import TABLE
from support.submitter_aws import SubmitterAws

from config import env, records
from submitter.ingest_queue import RESERVE_MILLIS, handle_batch, is_queue_event
from submitter.local.ingest_queue import LocalIngestQueue, queue_event, queue_message

ARN = "arn:aws:sqs:us-east-1:123456789012:batchscore-ingest"


def message(notification: dict, message_id: str, receive_count: int = 1) -> dict:
    return queue_message(
        notification,
        queue_arn=ARN,
        region="us-east-1",
        receive_count=receive_count,
        message_id=message_id,
    )


def run(aws: SubmitterAws, event: dict, **kwargs) -> dict:
    return handle_batch(
        event, s3=aws.s3, ddb=aws.ddb, batch=aws.batch, settings=aws.settings,
        runtime=aws.runtime, **kwargs,
    )  # fmt: skip


def uploaded(aws: SubmitterAws, name: str) -> dict:
    key = f"jobs/{name}.json"
    return s3_put_event(key, aws.upload(key, job_config(name)))


def test_every_message_of_a_batch_becomes_a_job(aws: SubmitterAws) -> None:
    event = queue_event([message(uploaded(aws, f"q{i}"), str(i)) for i in range(3)])
    assert is_queue_event(event)

    assert run(aws, event) == {"batchItemFailures": []}

    assert len(aws.batch_jobs()) == 3


def test_a_redelivered_message_makes_no_second_job(aws: SubmitterAws) -> None:
    notification = uploaded(aws, "again")
    run(aws, queue_event([message(notification, "m1")]))
    run(aws, queue_event([message(notification, "m1", receive_count=2)]))
    assert len(aws.batch_jobs()) == 1


def test_only_the_failed_message_returns_to_the_queue(
    aws: SubmitterAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Batch refusing every call with throttling for the second upload only
    good, throttled = uploaded(aws, "good"), uploaded(aws, "throttled")
    submit = aws.batch.submit_job

    def submit_job(**request):
        if request["jobName"].startswith("batchscore-throttled"):
            raise client_error("TooManyRequestsException", 429)
        return submit(**request)

    monkeypatch.setattr(aws.batch, "submit_job", submit_job)
    event = queue_event([message(good, "ok"), message(throttled, "slow")])

    # WHEN the batch is handled
    response = run(aws, event)

    # THEN only the throttled one is reported; its record waits for the redelivery
    assert response == {"batchItemFailures": [{"itemIdentifier": "slow"}]}
    [job] = aws.batch_jobs()
    assert job["jobName"].startswith("batchscore-good-")
    waiting = [r for r in aws.ddb.scan(TableName=TABLE)["Items"] if "batch_job_id" not in r]
    assert len(waiting) == 1


def test_messages_not_started_in_time_are_deferred(aws: SubmitterAws) -> None:
    event = queue_event([message(uploaded(aws, "late"), "late")])
    response = run(aws, event, remaining_millis=lambda: RESERVE_MILLIS - 1)
    assert response == {"batchItemFailures": [{"itemIdentifier": "late"}]}
    assert aws.batch_jobs() == []


def test_s3s_test_event_in_a_message_is_ignored(aws: SubmitterAws) -> None:
    event = queue_event([message(load_event("s3-test-event.json"), "t")])
    assert run(aws, event) == {"batchItemFailures": []}


def test_the_lambda_handler_takes_queue_batches(
    cold_start, aws: SubmitterAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env.TABLE_NAME, TABLE)
    monkeypatch.setenv(env.JOB_DEFINITION, aws.settings.job_definition)
    monkeypatch.setenv(env.QUEUES, json.dumps(dict(aws.settings.queues)))
    monkeypatch.setenv(env.ALLOWED_BUCKETS, ",".join(aws.settings.allowed_buckets))
    module = cold_start("submitter.ingest_handler")
    context = SimpleNamespace(aws_request_id="r", get_remaining_time_in_millis=lambda: 60_000)
    notification = uploaded(aws, "via-handler")

    assert module.handler(queue_event([message(notification, "h")]), context) == {
        "batchItemFailures": []
    }
    [item] = aws.ddb.scan(TableName=TABLE)["Items"]
    assert records.get_record(aws.ddb, TABLE, item["job_id"]["S"])["batch_job_id"]


def test_the_local_queue_redelivers_then_keeps_a_dead_letter() -> None:
    calls: list[str] = []

    def failing(event: dict) -> dict:
        (record,) = event["Records"]
        calls.append(record["attributes"]["ApproximateReceiveCount"])
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    queue = LocalIngestQueue(failing, queue_arn=ARN, region="us-east-1", max_receives=3)
    queue({"Records": []})
    assert calls == ["1", "2", "3"]
    assert queue.dead_letters == [{"Records": []}]
