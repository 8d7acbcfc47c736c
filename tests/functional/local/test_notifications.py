"""Notifications through the real handlers on the local stack: one per job on every terminal
status (SUCCEEDED, FAILED, REJECTED, CANCELLED), read as a subscriber reads them (the SNS
topic's SQS subscription and an EventBridge rule's queue); never twice; drift reported when the
same name runs on shifted input; a job stuck in RUNNABLE reported once."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from support.local_stack import demo_stack
from typer.testing import CliRunner

from config import records
from config.status import JobStatus
from submitter import notify, notify_hooks
from submitter.cli.demo import FEATURES
from submitter.cli.demo_drift import write_shifted_input
from submitter.cli.entrypoint import app
from submitter.cli.submit import upload_config
from submitter.local import notifications
from submitter.local.stack import LocalStack

pytestmark = pytest.mark.slow
ROWS = 600


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with demo_stack(tmp_path_factory, ROWS) as running:
        write_shifted_input(running.client("s3"), running.names.data_bucket, ROWS)
        yield running


@pytest.fixture(scope="module")
def events(stack: LocalStack) -> list[dict]:
    """Every EventBridge event seen so far (the queue is drained into it)."""
    return []


def config(stack: LocalStack, name: str, *, output: dict | None = None, **extra: object) -> dict:
    data = f"s3://{stack.names.data_bucket}"
    return {
        "name": name,
        "model": {"uri": f"{data}/models/churn.skops"},
        "input": {"uri": f"{data}/input/customers.parquet", "features": list(FEATURES)},
        "output": {"uri": f"{data}/output/{name}-{time.monotonic_ns()}/"} | (output or {}),
    } | extra


def submit(stack: LocalStack, document: dict) -> str:
    raw = json.dumps(document).encode()
    key = f"jobs/{document['name']}-{time.monotonic_ns()}.json"
    return upload_config(stack.client("s3"), stack.names.jobs_bucket, key, raw, None).job_id


def wait_record(stack: LocalStack, job_id: str, *, terminal: bool = True, timeout: float = 120):
    ddb = stack.client("dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = records.get_record(ddb, stack.names.table, job_id)
        if record and (not terminal or JobStatus(record["status"]).is_terminal):
            return record
        time.sleep(0.2)
    raise AssertionError(f"{job_id} did not finish: {record}")


def notifications_of(stack: LocalStack, job_id: str, events: list[dict], timeout: float = 60):
    """(SNS messages, EventBridge events) about `job_id`, once its SNS message has arrived."""
    sqs = stack.client("sqs")
    deadline = time.monotonic() + timeout
    messages: list[dict] = []
    while time.monotonic() < deadline:
        messages += notifications.receive(sqs, notifications.TOPIC_INBOX)
        events += notifications.receive(sqs, notifications.EVENTS_INBOX)
        mine = [m for m in messages if m["detail"]["job_id"] == job_id]
        if mine:
            return mine, [e for e in events if e["detail"]["job_id"] == job_id]
        time.sleep(0.2)
    raise AssertionError(f"no notification for {job_id}")


def finished(stack: LocalStack, job_id: str, events: list[dict]) -> tuple[dict, dict]:
    """The one SNS message and the one EventBridge event of a finished job."""
    record = wait_record(stack, job_id)
    if record.get("batch_job_id"):
        stack.batch.wait([record["batch_job_id"]], timeout=60)  # every Batch event delivered
    messages, _ = notifications_of(stack, job_id, events)
    time.sleep(0.5)
    more, _ = notifications_of_now(stack, events)
    assert [m for m in more if m["detail"]["job_id"] == job_id] == []
    assert len(messages) == 1, messages
    mine = [e for e in events if e["detail"]["job_id"] == job_id]
    assert len(mine) == 1, mine
    event = mine[0]
    assert event["source"] == "batchscore"
    assert event["detail-type"] == "batchscore Job Finished"
    assert event["detail"] == messages[0]["detail"]
    return messages[0], event["detail"]


def notifications_of_now(stack: LocalStack, events: list[dict]):
    sqs = stack.client("sqs")
    messages = notifications.receive(sqs, notifications.TOPIC_INBOX)
    events += notifications.receive(sqs, notifications.EVENTS_INBOX)
    return messages, events


def test_succeeded_then_drift_on_shifted_input(stack, events):
    first = submit(stack, config(stack, "churn-drift", output={"predict": "predict_proba"}))
    message, detail = finished(stack, first, events)
    assert detail["status"] == "SUCCEEDED"
    assert detail["rows"] == ROWS
    assert detail["queue"] == "normal"
    assert detail["attempts"] == 1
    assert detail["output_uri"].startswith(f"s3://{stack.names.data_bucket}/output/churn-drift")
    assert detail["duration_seconds"] > 0
    # The state handler costs the job before it notifies, so the notification carries the cost.
    cost = detail["cost"]
    assert set(cost) == {
        "usd",
        "on_demand_usd",
        "spot_usd",
        "vcpu_seconds",
        "gib_seconds",
        "attempts",
        "basis",
    }
    assert cost["attempts"] == 1
    assert cost["vcpu_seconds"] > 0
    assert cost["usd"] > 0
    summary = detail["prediction_summary"]
    assert summary["kind"] == "probabilities"
    assert {sum(counts) for counts in summary["histograms"].values()} == {ROWS}
    assert detail["drift"] is None  # the first run of its name
    assert message["subject"] == "batchscore: churn-drift SUCCEEDED"
    assert message["attributes"] == {
        "status": "SUCCEEDED",
        "name": "churn-drift",
        "drifted": "false",
    }

    same = submit(stack, config(stack, "churn-drift", output={"predict": "predict_proba"}))
    _, detail = finished(stack, same, events)
    assert detail["drift"]["previous_job_id"] == first
    assert detail["drift"]["psi"] == 0.0
    assert detail["drift"]["drifted"] is False

    shifted = config(stack, "churn-drift", output={"predict": "predict_proba"})
    shifted["input"]["uri"] = f"s3://{stack.names.data_bucket}/input/customers-shifted.parquet"
    job_id = submit(stack, shifted)
    message, detail = finished(stack, job_id, events)
    drift = detail["drift"]
    assert drift["previous_job_id"] == same  # the latest earlier success of the name
    assert drift["psi"] > 0.2
    assert drift["drifted"] is True
    assert message["subject"] == "batchscore: churn-drift SUCCEEDED (predictions drifted)"
    assert "DRIFTED" in message["message"]
    assert message["attributes"]["drifted"] == "true"


def test_failed_notifies_with_the_reason(stack, events):
    bad = config(stack, "churn-fails")
    bad["input"]["features"] = [*FEATURES[:-1], "no_such_column"]
    job_id = submit(stack, bad)
    message, detail = finished(stack, job_id, events)
    assert detail["status"] == "FAILED"
    assert "no_such_column" in detail["reason"]
    assert detail["prediction_summary"] is None
    assert message["subject"] == "batchscore: churn-fails FAILED"
    assert "no_such_column" in message["message"]


def test_rejected_notifies_from_the_ingest_handler(stack, events):
    data = f"s3://{stack.names.data_bucket}"
    job_id = submit(stack, config(stack, "churn-unpinned", model={"uri": f"{data}/models/x.pkl"}))
    _, detail = finished(stack, job_id, events)
    assert detail["status"] == "REJECTED"
    assert "model.sha256" in detail["reason"]
    assert detail["queue"] is None


def test_stuck_in_runnable_then_cancelled_each_notify_once(stack, events, monkeypatch):
    # 4 vCPUs on a 2-vCPU compute environment: RUNNABLE for ever, as in AWS Batch.
    job_id = submit(stack, config(stack, "churn-too-big", resources={"vcpus": 4}))
    record = wait_record(stack, job_id, terminal=False)
    while not record.get("batch_job_id"):
        record = wait_record(stack, job_id, terminal=False)
    ddb = stack.client("dynamodb")
    notifier = notify.Notifier.from_env(stack.env, stack.client)
    later = records.utc_now() + timedelta(hours=2)
    sent = notify.stuck_jobs(ddb, stack.batch, stack.names.table, notifier, now=later)
    assert [d["job_id"] for d in sent] == [job_id]
    assert sent[0]["runnable_seconds"] >= 7200
    assert notify.stuck_jobs(ddb, stack.batch, stack.names.table, notifier, now=later) == []
    messages, stuck_events = notifications_of(stack, job_id, events)
    assert [m["subject"] for m in messages] == ["batchscore: churn-too-big stuck in RUNNABLE"]
    assert [e["detail-type"] for e in stuck_events] == ["batchscore Job Stuck"]
    events.clear()

    for name in ("BATCHSCORE_TABLE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(logging.getLogger("submitter"), "handlers", [])
    result = CliRunner().invoke(app, ["cancel", job_id, "--local"])
    assert result.exit_code == 0, result.output
    message, detail = finished(stack, job_id, events)
    assert detail["status"] == "CANCELLED"
    assert message["subject"] == "batchscore: churn-too-big CANCELLED"


def test_a_repeated_terminal_event_sends_nothing_more(stack, events):
    job_id = submit(stack, config(stack, "churn-twice"))
    finished(stack, job_id, events)
    record = wait_record(stack, job_id)
    [job] = stack.batch.describe_jobs(jobs=[record["batch_job_id"]])["jobs"]
    event = {"detail-type": "Batch Job State Change", "source": "aws.batch", "detail": job}
    for _ in range(2):  # EventBridge delivers at least once
        stack.on_batch_event(copy.deepcopy(event))
    ddb = stack.client("dynamodb")
    notifier = notify.Notifier.from_env(stack.env, stack.client)
    notify_hooks.after_batch_event(copy.deepcopy(event), ddb, stack.names.table, notifier)
    time.sleep(0.5)
    messages, _ = notifications_of_now(stack, events)
    assert [m for m in messages if m["detail"]["job_id"] == job_id] == []


# --- the report, in a real browser -----------------------------------------------------------


def chromium() -> str:
    """Debian's chromium (`apt-get install chromium`): the test needs a real browser and says so
    when there is none, rather than skipping."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed: `apt-get install chromium` (Debian's package)"
    return found


def browse(page: Path, *args: str) -> str:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", *args, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_report_renders_in_chromium_with_the_previous_run_beside(
    stack, events, tmp_path, monkeypatch
):
    first = submit(stack, config(stack, "churn-report", output={"predict": "predict_proba"}))
    wait_record(stack, first)
    shifted = config(stack, "churn-report", output={"predict": "predict_proba"})
    shifted["input"]["uri"] = f"s3://{stack.names.data_bucket}/input/customers-shifted.parquet"
    job_id = submit(stack, shifted)
    record = wait_record(stack, job_id)
    assert record["status"] == "SUCCEEDED"

    for name in ("BATCHSCORE_TABLE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(logging.getLogger("submitter"), "handlers", [])
    page = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", job_id, "-o", str(page), "--local"])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    # Self-contained: nothing to fetch (no URL in any src/href, a CSP that forbids loads).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "default-src 'none'" in html

    dom = browse(page, "--dump-dom")
    assert 'id="status"' in dom
    assert "SUCCEEDED" in dom
    assert dom.count('class="bar current"') == dom.count('class="bar previous"') > 0
    assert len(re.findall(r'class="stage" data-stage="(read|predict|write)"', dom)) == 3
    assert f"PSI against {first}" in dom
    assert 'class="drifted"' in dom
    assert "no cost recorded" in dom  # the cost section says so rather than inventing one

    shot = tmp_path / "report.png"
    browse(page, f"--screenshot={shot}", "--window-size=1000,1700", "--hide-scrollbars")
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 20_000  # a rendered page with charts, not a blank one
    if os.environ.get("BATCHSCORE_REPORT_SCREENSHOT"):  # docs/operations.md's picture
        Path(os.environ["BATCHSCORE_REPORT_SCREENSHOT"]).write_bytes(png)
