"""`batchscore logs`: each attempt's stream from the job's own log group; a log group that does not
exist is a wrong setting, said in one line, never shown as "(no output yet)"."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from submitter.cli import logs
from submitter.cli.entrypoint import app
from submitter.cli.target import Target

GROUP = "/aws/batch/bs-jobs"


class Batch:
    """DescribeJobs of one finished job with two attempts, logging to `group` when given."""

    def __init__(self, group: str | None) -> None:
        self.group = group

    def describe_jobs(self, jobs: list[str]) -> dict[str, Any]:
        container: dict[str, Any] = {"logStreamName": "score/default/two"}
        if self.group:
            options = {"awslogs-group": self.group}
            container["logConfiguration"] = {"logDriver": "awslogs", "options": options}
        attempts = [{"container": {"logStreamName": f"score/default/{n}"}} for n in ("one", "two")]
        return {"jobs": [{"jobId": jobs[0], "attempts": attempts, "container": container}]}


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("logs", region_name="us-east-1")
        client.create_log_group(logGroupName=GROUP)
        for name in ("one", "two"):
            stream = f"score/default/{name}"
            client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
            event = {"timestamp": int(time.time() * 1000), "message": f"attempt {name} says hello"}
            client.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[event])
        yield client


def run(
    monkeypatch: pytest.MonkeyPatch,
    cloudwatch: Any,
    batch: Batch,
    setting: str | None,
    *options: str,
):
    class Deployment(Target):
        def client(self, service: str) -> Any:
            return {"logs": cloudwatch, "batch": batch}[service]

    variables = {"BATCHSCORE_LOG_GROUP": setting} if setting else {}
    monkeypatch.setattr(logs, "resolve", lambda **_: Deployment("aws", variables))
    record = {"job_id": "j", "status": "SUCCEEDED", "batch_job_id": "b-1"}
    monkeypatch.setattr(logs, "find_record", lambda target, job_id: record)
    return CliRunner().invoke(app, ["logs", "j", *options])


def test_the_jobs_own_log_group_wins_over_a_wrong_setting(monkeypatch, cloudwatch) -> None:
    result = run(monkeypatch, cloudwatch, Batch(GROUP), setting="/wrong/group")
    assert result.exit_code == 0, result.output
    assert "attempt one says hello" in result.stdout
    assert "attempt two says hello" in result.stdout


def test_a_log_group_that_does_not_exist_is_an_error_not_empty_output(
    monkeypatch, cloudwatch
) -> None:
    result = run(monkeypatch, cloudwatch, Batch(None), setting="/wrong/group")
    assert result.exit_code == 1
    assert "(no output yet)" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: log group '/wrong/group' does not exist")
    assert "BATCHSCORE_LOG_GROUP" in line


def test_the_setting_serves_jobs_that_name_no_group(monkeypatch, cloudwatch) -> None:
    result = run(monkeypatch, cloudwatch, Batch(None), setting=GROUP)
    assert result.exit_code == 0, result.output
    assert "attempt two says hello" in result.stdout


def test_logs_json_for_scripts(monkeypatch, cloudwatch) -> None:
    result = run(monkeypatch, cloudwatch, Batch(GROUP), None, "--json")
    assert result.exit_code == 0, result.output
    attempts = json.loads(result.stdout)
    assert [a["attempt"] for a in attempts] == ["b-1 attempt 1", "b-1 attempt 2"]
    assert attempts[1]["lines"] == ["attempt two says hello"]
    assert {a["group"] for a in attempts} == {GROUP}
