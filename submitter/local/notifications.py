"""The local stack's notification plumbing, as a user would subscribe on AWS.

An SNS topic (the Terraform topic's stand-in) with an SQS queue subscribed to it, and an
EventBridge rule on the default bus sending batchscore's events to a second queue. The handlers
publish with plain boto3 (`submitter.notify`); `batchscore local up` prints what arrives in the
topic's queue (`watch`), and tests read both queues (`receive`), so a notification is seen the
way a subscriber sees it, whichever process sent it (the stack's handlers, `batchscore cancel`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from config import env
from submitter.notify import SOURCE

TOPIC = "batchscore-notifications"
TOPIC_INBOX = "batchscore-notifications-inbox"
EVENTS_INBOX = "batchscore-events-inbox"
RULE = "batchscore-notifications"
BUS = "default"


def create(client: Callable[[str], Any]) -> dict[str, str]:
    """Create the topic, the queues, the subscription and the rule; return the environment
    that points the handlers at them."""
    sns, sqs, events = client("sns"), client("sqs"), client("events")
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    topic_inbox = _queue_arn(sqs, TOPIC_INBOX)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=topic_inbox)
    events.put_rule(
        Name=RULE, EventBusName=BUS, EventPattern=json.dumps({"source": [SOURCE]}), State="ENABLED"
    )
    events.put_targets(
        Rule=RULE, EventBusName=BUS, Targets=[{"Id": "inbox", "Arn": _queue_arn(sqs, EVENTS_INBOX)}]
    )
    return {env.NOTIFY_TOPIC_ARN: topic, env.EVENT_BUS: BUS}


def receive(sqs: Any, queue: str, *, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """Take what is waiting in one of the queues (deleted once read): SNS messages as
    {"subject", "message", "attributes", "detail"}, EventBridge events as they are."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    taken: list[dict[str, Any]] = []
    while True:
        page = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if not page:
            return taken
        for message in page:
            taken.append(_parse(json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        wait_seconds = 0


def watch(
    sqs: Any, show: Callable[[str], None], stop: threading.Event, poll_seconds: float = 0.5
) -> threading.Thread:
    """Print each SNS notification as it arrives, until `stop` (`batchscore local up`)."""

    def run() -> None:
        while not stop.wait(poll_seconds):
            for message in receive(sqs, TOPIC_INBOX):
                show(f"notification: {message['subject']}\n{_indent(message['message'])}")

    thread = threading.Thread(target=run, name="notifications", daemon=True)
    thread.start()
    return thread


def _parse(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("Type") == "Notification":  # the SNS envelope
        text = body.get("Message", "")
        attributes = {k: v.get("Value") for k, v in (body.get("MessageAttributes") or {}).items()}
        return {
            "subject": body.get("Subject"),
            "message": text.split("\n\n{", 1)[0],
            "attributes": attributes,
            "detail": _detail_of(text),
        }
    return body


def _detail_of(text: str) -> dict[str, Any] | None:
    start = text.find("\n\n{")
    if start < 0:
        return None
    loaded: dict[str, Any] = json.loads(text[start + 2 :])
    return loaded


def _queue_arn(sqs: Any, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
