from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from support.names import TABLE

from config.records import advance, create_record
from config.status import JobStatus
from submitter.cli.queries import list_jobs
from submitter.cli.views import job_view, jobs_table, public


@pytest.fixture
def seeded_ddb(ddb: Any) -> Any:
    """The job table holding j0..j6, a minute apart (j3 REJECTED, j5 FAILED, the rest SUBMITTED)."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for index in range(7):
        status = "REJECTED" if index == 3 else "SUBMITTED"
        record = {"job_id": f"j{index}", "name": "n", "status": status, "config": "{}"}
        create_record(ddb, TABLE, record, now=start + timedelta(minutes=index))
    advance(ddb, TABLE, "j5", JobStatus.FAILED, reason="boom")
    return ddb


def test_all_jobs_newest_first(seeded_ddb) -> None:
    assert [r["job_id"] for r in list_jobs(seeded_ddb, TABLE)] == [
        f"j{i}" for i in range(6, -1, -1)
    ]


def test_jobs_by_status_with_a_limit(seeded_ddb) -> None:
    assert [
        r["job_id"] for r in list_jobs(seeded_ddb, TABLE, statuses=[JobStatus.SUBMITTED], limit=2)
    ] == ["j6", "j4"]
    failed_or_rejected = list_jobs(
        seeded_ddb, TABLE, statuses=[JobStatus.FAILED, JobStatus.REJECTED]
    )
    assert [r["job_id"] for r in failed_or_rejected] == ["j5", "j3"]


def test_views_render_and_hide_the_stored_config(seeded_ddb) -> None:
    records = list_jobs(seeded_ddb, TABLE)
    console = Console(width=200, record=True)
    console.print(jobs_table(records))
    console.print(job_view(records[1]))
    text = console.export_text()
    assert "j5" in text
    assert "boom" in text
    assert "history" in text
    assert "config" not in public(records[0])
