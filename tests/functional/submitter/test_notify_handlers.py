"""Notifications from the Lambda entry points themselves (moto's SNS, SQS and EventBridge): the
state handler on a terminal Batch event delivered twice sends one message; a failed send takes
its marker back so the retry sends; the ingest handler announces a rejection."""

from __future__ import annotations

import json

import boto3
import pytest
from support.events import load_event, s3_event
from support.job_configs import job_config
from support.names import JOB_DEFINITION, REGION, TABLE
from support.submitter_aws import SubmitterAws

from config import env, records
from config.status import JobStatus
from submitter import notify

JOB = "churn-0123456789abcdef"


@pytest.fixture
def inbox(aws: SubmitterAws, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A topic with a queue subscribed, an EventBridge rule to another, and the env pointing
    the handlers at them."""
    sns, sqs, events = (boto3.client(s, region_name=REGION) for s in ("sns", "sqs", "events"))
    topic = sns.create_topic(Name="batchscore-notifications")["TopicArn"]
    queues = {}
    for name in ("topic", "events"):
        url = sqs.create_queue(QueueName=f"inbox-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        queues[name] = (url, arn["Attributes"]["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queues["topic"][1])
    events.put_rule(Name="finished", EventPattern=json.dumps({"source": [notify.SOURCE]}))
    events.put_targets(Rule="finished", Targets=[{"Id": "q", "Arn": queues["events"][1]}])
    for name, value in {
        env.TABLE_NAME: TABLE,
        env.JOB_DEFINITION: JOB_DEFINITION,
        env.QUEUES: json.dumps(dict(aws.settings.queues)),
        env.ALLOWED_BUCKETS: ",".join(aws.settings.allowed_buckets),
        env.NOTIFY_TOPIC_ARN: topic,
        env.EVENT_BUS: "default",
    }.items():
        monkeypatch.setenv(name, value)
    return {"sqs": sqs, "sns": sns, "topic": topic, "queues": queues}


def received(inbox: dict, which: str) -> list[dict]:
    url = inbox["queues"][which][0]
    messages = inbox["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_state_handler_notifies_once_on_a_duplicated_terminal_event(cold_start, aws, inbox):
    module = cold_start("submitter.state_handler")
    records.create_record(aws.ddb, TABLE, {"job_id": JOB, "name": "churn", "status": "SUBMITTED"})
    event = load_event("batch-failed-oom.json")

    module.handler(event)
    module.handler(event)  # EventBridge delivers at least once

    [message] = received(inbox, "topic")
    assert message["Subject"] == "batchscore: churn FAILED"
    detail = json.loads(message["Message"].split("\n\n", 1)[1])
    assert detail["status"] == "FAILED"
    assert detail["reason"] == records.get_record(aws.ddb, TABLE, JOB)["status_reason"]
    assert detail["reason"]
    [event_seen] = received(inbox, "events")
    assert event_seen["detail-type"] == notify.DETAIL_TYPE
    assert event_seen["detail"]["job_id"] == JOB
    assert records.get_record(aws.ddb, TABLE, JOB)[notify.NOTIFIED]


def test_a_failed_send_is_retried_not_lost(aws, inbox):
    records.create_record(aws.ddb, TABLE, {"job_id": JOB, "name": "churn", "status": "SUBMITTED"})
    records.advance(aws.ddb, TABLE, JOB, JobStatus.SUCCEEDED, fields={"rows": 5})
    calls = []

    class FlakySns:
        def publish(self, **kwargs):
            calls.append(kwargs)
            if len(calls) == 1:
                raise ConnectionError("SNS unreachable")
            return inbox["sns"].publish(**kwargs)

    settings = notify.NotifySettings(topic_arn=inbox["topic"])
    notifier = notify.Notifier(settings, sns=FlakySns())
    with pytest.raises(ConnectionError):
        notify.job_finished(aws.ddb, TABLE, JOB, notifier)
    assert notify.NOTIFIED not in records.get_record(aws.ddb, TABLE, JOB)  # taken back

    assert notify.job_finished(aws.ddb, TABLE, JOB, notifier)["rows"] == 5  # the retry sends
    assert notify.job_finished(aws.ddb, TABLE, JOB, notifier) is None  # and only once
    assert len(received(inbox, "topic")) == 1


def test_ingest_handler_announces_a_rejection(cold_start, aws, inbox):
    module = cold_start("submitter.ingest_handler")
    version = aws.upload("jobs/bad.json", job_config(shards=0))
    [outcome] = module.handler(s3_event(("jobs/bad.json", version)))["outcomes"]
    assert outcome["action"] == "rejected"
    [message] = received(inbox, "topic")
    assert message["Subject"].endswith(" REJECTED")
    assert "shards" in message["Message"]
    module.handler(s3_event(("jobs/bad.json", version)))  # S3 delivers at least once
    assert received(inbox, "topic") == []
