from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws
from rich.console import Console

from config.records import advance, create_record, table_definition
from config.status import JobStatus
from submitter.cli.queries import list_jobs
from submitter.cli.views import job_view, jobs_table, public

TABLE = "jobs"


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(**table_definition(TABLE))
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for index in range(7):
            status = "REJECTED" if index == 3 else "SUBMITTED"
            record = {"job_id": f"j{index}", "name": "n", "status": status, "config": "{}"}
            create_record(client, TABLE, record, now=start + timedelta(minutes=index))
        advance(client, TABLE, "j5", JobStatus.FAILED, reason="boom")
        yield client


def test_all_jobs_newest_first(ddb) -> None:
    assert [r["job_id"] for r in list_jobs(ddb, TABLE)] == [f"j{i}" for i in range(6, -1, -1)]


def test_jobs_by_status_with_a_limit(ddb) -> None:
    assert [
        r["job_id"] for r in list_jobs(ddb, TABLE, statuses=[JobStatus.SUBMITTED], limit=2)
    ] == ["j6", "j4"]
    failed_or_rejected = list_jobs(ddb, TABLE, statuses=[JobStatus.FAILED, JobStatus.REJECTED])
    assert [r["job_id"] for r in failed_or_rejected] == ["j5", "j3"]


def test_views_render_and_hide_the_stored_config(ddb) -> None:
    records = list_jobs(ddb, TABLE)
    console = Console(width=200, record=True)
    console.print(jobs_table(records))
    console.print(job_view(records[1]))
    text = console.export_text()
    assert "j5" in text
    assert "boom" in text
    assert "history" in text
    assert "config" not in public(records[0])
