"""The Lambda entry points themselves: settings from the environment, clients at module level,
structured logs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from support.events import load_event, s3_event
from support.job_configs import job_config
from support.names import JOB_DEFINITION, TABLE
from support.submitter_aws import SubmitterAws

from config import env, records
from config.exceptions import DeploymentSettingError


@pytest.fixture
def deployed(aws: SubmitterAws, monkeypatch: pytest.MonkeyPatch) -> SubmitterAws:
    monkeypatch.setenv(env.TABLE_NAME, TABLE)
    monkeypatch.setenv(env.JOB_DEFINITION, JOB_DEFINITION)
    monkeypatch.setenv(env.QUEUES, json.dumps(dict(aws.settings.queues)))
    monkeypatch.setenv(env.ALLOWED_BUCKETS, ",".join(aws.settings.allowed_buckets))
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    return aws


CONTEXT = SimpleNamespace(aws_request_id="3f1c0b7e-1111-2222-3333-444455556666")


def test_ingest_handler_end_to_end(
    cold_start, deployed: SubmitterAws, capsys: pytest.CaptureFixture[str]
) -> None:
    module = cold_start("submitter.ingest_handler")
    version = deployed.upload("jobs/churn.json", job_config(priority="high"))

    result = module.handler(s3_event(("jobs/churn.json", version)), CONTEXT)

    [outcome] = result["outcomes"]
    assert outcome["action"] == "submitted"
    record = records.get_record(deployed.ddb, TABLE, outcome["job_id"])
    assert record["queue"] == "batchscore-high"
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    [line] = [entry for entry in logs if entry.get("job_id") == outcome["job_id"]]
    assert line["service"] == "batchscore-ingest"
    assert line["request_id"] == CONTEXT.aws_request_id
    assert line["level"] == "INFO"


def test_ingest_handler_without_a_lambda_context(cold_start, deployed: SubmitterAws) -> None:
    module = cold_start("submitter.ingest_handler")
    assert module.handler(load_event("s3-test-event.json")) == {"outcomes": []}


def test_state_handler_end_to_end(cold_start, deployed: SubmitterAws) -> None:
    module = cold_start("submitter.state_handler")
    records.create_record(
        deployed.ddb,
        TABLE,
        {"job_id": "churn-0123456789abcdef", "name": "churn", "status": "SUBMITTED"},
    )
    result = module.handler(load_event("batch-failed-oom.json"), CONTEXT)
    assert result["change"]["applied"]
    record = records.get_record(deployed.ddb, TABLE, "churn-0123456789abcdef")
    assert record["status"] == "FAILED"
    assert record["exit_code"] == 137


def test_missing_setting_fails_at_import(
    cold_start, deployed: SubmitterAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(env.JOB_DEFINITION)
    with pytest.raises(DeploymentSettingError, match=env.JOB_DEFINITION):
        cold_start("submitter.ingest_handler")
