"""Every `batchscore` command against the local stack, as a user drives it (real handlers, real
container processes), including the errors a user meets."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from support.names import DEMO_ROWS
from typer.testing import CliRunner

from config import records
from config.status import JobStatus
from submitter.batch import job_name
from submitter.cli.entrypoint import app
from submitter.local.stack import LocalStack

pytestmark = pytest.mark.slow
ROWS = DEMO_ROWS


def config_file(tmp_path: Path, stack: LocalStack, name: str, **extra: object) -> Path:
    data = f"s3://{stack.names.data_bucket}"
    document = {
        "name": name,
        "model": {"uri": f"{data}/models/churn.skops"},
        "input": {"uri": f"{data}/input/customers.parquet"},
        "output": {"uri": f"{data}/output/{name}/", "passthrough": ["customer_id"]},
    } | extra
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


def last_json_document(output: str) -> dict:
    """The `--json` document at the end of the output. The stack's handler threads share this
    process's stdout (in AWS they log in their own Lambda), so their log lines may come first."""
    lines = output.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    return json.loads("\n".join(lines[start:]))


def invoke(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_submit_wait_then_status_list_logs_and_rerun(cli, stack, tmp_path) -> None:
    path = config_file(tmp_path, stack, "cli-job", priority="high")
    code, output = invoke(cli, "submit", str(path), "--wait", "--timeout", "120", "--json")
    assert code == 0, output
    record = last_json_document(output)
    job_id = record["job_id"]
    assert (record["status"], record["queue"], record["rows"]) == ("SUCCEEDED", "high", ROWS)

    code, output = invoke(cli, "status", job_id, "--json")
    assert code == 0
    assert json.loads(output)["output_uri"] == f"s3://{stack.names.data_bucket}/output/cli-job/"
    code, output = invoke(cli, "status", job_id)
    assert code == 0
    assert "SUCCEEDED" in output
    assert "history" in output

    code, output = invoke(cli, "list", "--status", "SUCCEEDED", "--json")
    assert code == 0
    assert job_id in [r["job_id"] for r in json.loads(output)]

    # The record is SUCCEEDED before the container has exited; logs ship when the attempt ends.
    stack.batch.wait([record["batch_job_id"]], timeout=60)
    code, output = invoke(cli, "logs", job_id)
    assert code == 0, output
    assert "attempt 1" in output
    assert '"rows": 500' in output  # the container's last line, its summary

    code, output = invoke(cli, "rerun", job_id, "--json")
    assert code == 0, output
    rerun = json.loads(output)
    assert rerun["rerun_of"] == job_id
    assert rerun["action"] == "submitted"
    stack.batch.wait([], timeout=1)  # the rerun's job exists in Batch already
    code, output = invoke(cli, "status", rerun["job_id"], "--json")
    assert json.loads(output)["rerun_of"] == job_id


def test_cancel_a_job_that_cannot_be_placed(cli, stack, tmp_path) -> None:
    # More vCPUs than the local compute environments have: it stays RUNNABLE, as in Batch.
    path = config_file(tmp_path, stack, "too-big", resources={"vcpus": 64})
    code, output = invoke(cli, "submit", str(path), "--json")
    assert code == 0, output
    job_id = json.loads(output)["job_id"]
    stack.batch.wait([], timeout=1)
    for _ in range(100):
        code, output = invoke(cli, "status", job_id, "--json")
        if code == 0 and json.loads(output).get("batch_job_id"):
            break
        stack.batch.wait([], timeout=0.1)
    # `status` says why it waits: the local environments allow 2 vCPUs (their maxvCpus)
    waiting = last_json_document(output)["waiting"]
    assert waiting["headline"].startswith("too big for its compute environments")
    assert "asks for 64 vCPU" in waiting["headline"]
    assert waiting["batch_status"] in ("SUBMITTED", "PENDING", "RUNNABLE")
    code, output = invoke(cli, "status", job_id)
    assert "why it is not running: too big" in output
    code, output = invoke(cli, "cancel", job_id)
    assert (code, output.strip()) == (0, f"{job_id}: cancelled")
    code, output = invoke(cli, "status", job_id, "--json")
    assert json.loads(output)["status"] == "CANCELLED"
    code, output = invoke(cli, "cancel", job_id)
    assert output.strip() == f"{job_id}: already CANCELLED"


def test_submit_refuses_an_invalid_config_before_uploading(cli, stack, tmp_path) -> None:
    path = config_file(tmp_path, stack, "bad", shards=0)
    code, output = invoke(cli, "submit", str(path))
    assert code == 2
    assert "error: shards: must be greater than or equal to 1, got 0" in output


def test_errors_are_one_line(cli, stack) -> None:
    code, output = invoke(cli, "status", "no-such-job")
    assert code == 1
    assert output.strip().startswith("error: ")
    assert "no-such-job" in output
    assert "Traceback" not in output
    code, output = invoke(cli, "rerun", "no-such-job")
    assert code == 1
    assert len(output.strip().splitlines()) == 1


def test_no_deployment_is_one_clear_line(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("BATCHSCORE_LOCAL_STATE", str(tmp_path / "none.json"))
    monkeypatch.delenv("BATCHSCORE_TABLE", raising=False)
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: no deployment found")
    result = CliRunner().invoke(app, ["list", "--local"])
    assert (
        result.output.strip() == "error: no local stack runs: start one with `batchscore local up`"
    )


def test_reconcile_and_status_repair_records_whose_events_were_lost(
    cli, stack, monkeypatch
) -> None:
    ddb, table = stack.client("dynamodb"), stack.names.table
    long_ago = records.utc_now() - timedelta(hours=1)
    monkeypatch.setattr(stack, "on_batch_event", None)  # EventBridge loses every event
    ended = {}
    for job_id, exit_code in (("lost-ok", 0), ("lost-bad", 2), ("asked", 2)):
        ended[job_id] = stack.batch.submit_job(
            jobName=job_name(job_id),
            jobQueue="normal",
            jobDefinition=stack.names.job_definition,
            parameters={"job_id": job_id},
            containerOverrides={
                "command": ["python", "-S", "-c", f"raise SystemExit({exit_code})"]
            },
        )["jobId"]
        when = long_ago if job_id != "asked" else records.utc_now()
        records.create_record(
            ddb,
            table,
            {"job_id": job_id, "name": "n", "status": "SUBMITTED", "batch_job_id": ended[job_id]},
            now=when,
        )
        assert records.advance(ddb, table, job_id, JobStatus.RUNNING, attempt=1, now=when)
    stack.batch.wait(list(ended.values()), timeout=60)

    code, output = invoke(cli, "reconcile")
    assert code == 0, output
    assert "lost-ok: RUNNING -> SUCCEEDED (Batch says so)" in output
    assert "lost-bad: RUNNING -> FAILED (Batch says so)" in output
    assert "asked" not in output  # updated a moment ago: left to its events
    assert records.get_record(ddb, table, "lost-bad")["exit_code"] == 2

    code, output = invoke(cli, "status", "asked")
    assert code == 0, output
    assert "FAILED" in output
    assert records.get_record(ddb, table, "asked")["status"] == "FAILED"


def test_submit_wait_follows_its_own_upload_when_the_job_id_is_taken(cli, stack, tmp_path) -> None:
    # GIVEN a job id used by an earlier upload
    first = config_file(tmp_path, stack, "taken", job_id="taken-1")
    code, output = invoke(cli, "submit", str(first), "--wait", "--timeout", "240", "--json")
    assert code == 0, output
    # WHEN another config naming the same job_id is submitted and followed
    second = config_file(tmp_path, stack, "taken-again", job_id="taken-1")
    code, output = invoke(cli, "submit", str(second), "--wait", "--timeout", "60", "--json")
    # THEN --wait shows the record of this upload (REJECTED under the derived id), not the old job,
    # and says so with its exit code
    assert code == 1, output
    record = last_json_document(output)
    assert record["status"] == "REJECTED"
    assert record["job_id"] != "taken-1"
    assert "job_id: 'taken-1' is already used" in record["status_reason"]


def test_submit_wait_ends_when_its_upload_is_rejected(cli, stack, tmp_path) -> None:
    # GIVEN a new job_id, and a model path the deployed service refuses (a local file)
    path = config_file(tmp_path, stack, "local-model", job_id="fresh-1")
    document = json.loads(path.read_text())
    document["model"]["uri"] = str(tmp_path / "model.skops")
    path.write_text(json.dumps(document))
    # WHEN followed, THEN it ends at once with the rejection (it used to wait forever for fresh-1)
    code, output = invoke(cli, "submit", str(path), "--no-upload", "--wait", "--timeout", "60")
    assert code == 1, output
    assert "REJECTED" in output
    assert "model.uri" in output


def test_submit_checks_the_job_first_and_uploads_nothing_that_would_fail(cli, stack, tmp_path):
    # GIVEN a config whose input lacks a column the model needs (read from the stack's bucket)
    s3 = stack.client("s3")
    data = stack.names.data_bucket
    table = s3.get_object(Bucket=data, Key="input/customers.csv")["Body"].read().decode()
    header, *rows = table.splitlines()
    dropped = header.split(",")[-1].strip('"')
    keep = len(header.split(",")) - 1
    trimmed = "\n".join(",".join(line.split(",")[:keep]) for line in [header, *rows])
    s3.put_object(Bucket=data, Key="input/trimmed.csv", Body=trimmed.encode())
    path = config_file(tmp_path, stack, "trimmed", input={"uri": f"s3://{data}/input/trimmed.csv"})
    before = s3.list_objects_v2(Bucket=stack.names.jobs_bucket).get("KeyCount", 0)
    # WHEN submitted, THEN the check refuses it before any upload, naming the column
    code, output = invoke(cli, "submit", str(path))
    assert code == 2, output
    assert dropped in output
    assert s3.list_objects_v2(Bucket=stack.names.jobs_bucket).get("KeyCount", 0) == before
    # AND --no-check uploads it anyway (the job then fails in Batch: what the check is for)
    code, output = invoke(cli, "submit", str(path), "--no-check")
    assert code == 0, output
