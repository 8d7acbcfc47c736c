"""The alarms, dashboard and notifications topic as Terraform applied them to the emulator
(the package's stack has alarms_enabled and dashboard_enabled on)."""

from __future__ import annotations

import json

from support.terraform_stack import TerraformStack

from submitter import job_metrics


def topic_arn(stack: TerraformStack) -> str:
    topics = [t["TopicArn"] for t in stack.client("sns").list_topics()["Topics"]]
    [arn] = [t for t in topics if t.endswith(":batchscore-notifications")]
    return arn


def test_every_alarm_notifies_the_topic(terraform_stack: TerraformStack) -> None:
    alarms = terraform_stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms}
    expected = {"batchscore-dead-letters"} | {
        f"batchscore-{queue}-{kind}"
        for queue in ("high", "normal", "low")
        for kind in ("failed-jobs", "queued-too-long")
    }
    assert expected <= set(by_name)
    topic = topic_arn(terraform_stack)
    assert all(by_name[name]["AlarmActions"] == [topic] for name in expected)
    failed = by_name["batchscore-high-failed-jobs"]
    assert failed["Namespace"] == job_metrics.NAMESPACE
    assert failed["MetricName"] == job_metrics.JOBS_FINISHED
    assert {d["Name"]: d["Value"] for d in failed["Dimensions"]} == {
        "status": "FAILED",
        "queue": "batchscore-high",
        "service": "batchscore-state",
    }
    queued = by_name["batchscore-low-queued-too-long"]
    assert queued["MetricName"] == job_metrics.RUNNABLE


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use(
    terraform_stack: TerraformStack,
) -> None:
    attributes = terraform_stack.client("sns").get_topic_attributes(
        TopicArn=topic_arn(terraform_stack)
    )["Attributes"]
    key = attributes["KmsMasterKeyId"]
    assert "alias/aws/sns" not in key
    kms = terraform_stack.client("kms")
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    statements = policy["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    [cloudwatch] = [
        s for s in statements if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch["Action"])


def test_the_dashboard_charts_the_lambdas_metrics(terraform_stack: TerraformStack) -> None:
    body = json.loads(
        terraform_stack.client("cloudwatch").get_dashboard(DashboardName="batchscore-jobs")[
            "DashboardBody"
        ]
    )
    charted = {line[1] for widget in body["widgets"] for line in widget["properties"]["metrics"]}
    assert set(job_metrics.METRIC_NAMES) <= charted
