"""`batchscore reconcile` and `batchscore status` refreshing from Batch, against moto (whose
"simple" Batch marks every submitted job SUCCEEDED at once; no state-change event ever arrives)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import job_records
from support.aws_errors import error_response
from support.names import JOB_DEFINITION, TABLE
from support.submitter_aws import SubmitterAws
from typer.testing import CliRunner

from config import env, records
from config.records import utc_now
from config.status import JobStatus
from submitter.batch import job_name
from submitter.cli.entrypoint import app

UNKNOWN_BATCH_JOB = "0b1c2d3e-0000-4000-8000-000000000000"


@pytest.fixture
def cli(aws: SubmitterAws, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv(env.TABLE_NAME, TABLE)  # the deployment: found through the environment
    # As in a real `batchscore` process, the submitter's loggers write nothing to stdout (an
    # earlier test's Lambda import may have given them powertools' handler).
    monkeypatch.setattr(logging.getLogger("submitter"), "handlers", [])
    return CliRunner()


def running_record(aws: SubmitterAws, job_id: str, batch_job_id: str, *, age: timedelta) -> None:
    job_records.open_record(
        aws.ddb, job_id, JobStatus.RUNNING, batch_job_id=batch_job_id, at=utc_now() - age
    )


def finished_batch_job(aws: SubmitterAws, job_id: str) -> str:
    return aws.batch.submit_job(
        jobName=job_name(job_id),
        jobQueue=aws.settings.queue_for_priority("normal"),
        jobDefinition=JOB_DEFINITION,
        parameters={"job_id": job_id},
    )["jobId"]


def invoke(cli: CliRunner, *args: str) -> Any:
    return cli.invoke(app, list(args))


def test_reconcile_fixes_a_lost_event_and_reports_an_unknown_job(cli, aws) -> None:
    running_record(aws, "lost", finished_batch_job(aws, "lost"), age=timedelta(hours=1))
    running_record(aws, "gone", UNKNOWN_BATCH_JOB, age=timedelta(hours=1))
    running_record(aws, "fresh", finished_batch_job(aws, "fresh"), age=timedelta(minutes=5))

    result = invoke(cli, "reconcile", "--json")

    assert result.exit_code == 0, result.output
    findings = {f["job_id"]: f for f in json.loads(result.stdout)}
    assert set(findings) == {"lost", "gone"}  # "fresh" is younger than 10 minutes
    assert findings["lost"] | {"batch_job_id": None} == {
        "job_id": "lost",
        "batch_job_id": None,
        "was": "RUNNING",
        "batch_status": "SUCCEEDED",
        "status": "SUCCEEDED",
        "action": "changed",
    }
    assert findings["gone"]["action"] == "unknown to Batch"
    assert records.get_record(aws.ddb, TABLE, "lost")["status"] == "SUCCEEDED"
    assert records.get_record(aws.ddb, TABLE, "gone")["status"] == "RUNNING"
    assert records.get_record(aws.ddb, TABLE, "fresh")["status"] == "RUNNING"

    result = invoke(cli, "reconcile", "--older-than", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "gone: RUNNING, left as it is: unknown to Batch",
        "fresh: RUNNING -> SUCCEEDED (Batch says so)",
        "2 open job(s) checked, 0 already up to date",
    ]

    result = invoke(cli, "reconcile", "--older-than", "0", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    assert [f["job_id"] for f in json.loads(result.stdout)] == ["gone"]  # the oldest open one


def test_status_refreshes_an_unfinished_job_from_batch(
    cli, aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_record(aws, "now", finished_batch_job(aws, "now"), age=timedelta(seconds=1))

    result = invoke(cli, "status", "now", "--no-refresh", "--json")
    assert json.loads(result.stdout)["status"] == "RUNNING"

    result = invoke(cli, "status", "now", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "SUCCEEDED"
    assert "now: changed (Batch: SUCCEEDED)" in result.stderr

    # A finished job is shown as it is, without asking Batch.
    monkeypatch.setattr("submitter.reconcile.refresh", _refuse)
    result = invoke(cli, "status", "now")
    assert result.exit_code == 0, result.output
    assert "SUCCEEDED" in result.stdout


def _refuse(*_: Any, **__: Any) -> None:
    raise AssertionError("a finished job was refreshed")


def test_status_shows_the_stored_record_when_batch_cannot_be_asked(
    cli, aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_record(aws, "denied", finished_batch_job(aws, "denied"), age=timedelta(hours=1))

    def denied(*_: Any, **__: Any) -> None:
        raise ClientError(error_response(403, "AccessDeniedException", "no")[1], "DescribeJobs")

    monkeypatch.setattr("submitter.reconcile.refresh", denied)
    result = invoke(cli, "status", "denied", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "RUNNING"
    assert "warning: could not ask Batch about denied" in result.stderr
