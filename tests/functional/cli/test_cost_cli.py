"""`batchscore cost` sums the records' `cost` maps; `batchscore status` shows a job's cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.names import TABLE

from config import env
from config.records import advance, create_record
from config.status import JobStatus
from submitter.cli.cost_report import GroupBy, parse_since, summarize
from submitter.cli.entrypoint import main
from submitter.cli.waiting import cost_line

START = datetime(2026, 11, 1, tzinfo=UTC)


def cost(usd_on_demand: float, usd_spot: float, attempts: int = 1) -> dict[str, Any]:
    return {
        "usd": usd_on_demand + usd_spot,
        "on_demand_usd": usd_on_demand,
        "spot_usd": usd_spot,
        "vcpu_seconds": 3600.0 * attempts,
        "gib_seconds": 7200.0 * attempts,
        "attempts": attempts,
        "basis": "test",
    }


def finished(ddb: Any, job_id: str, name: str, priority: str, day: int, **fields: Any) -> None:
    record = {"job_id": job_id, "name": name, "priority": priority, "status": "SUBMITTED"}
    create_record(ddb, TABLE, record, now=START + timedelta(days=day))
    advance(ddb, TABLE, job_id, JobStatus.SUCCEEDED, fields=fields)


@pytest.fixture
def costed(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(env.TABLE_NAME, TABLE)
    finished(ddb, "a1", "churn", "high", 0, cost=cost(0.5, 0.0))
    finished(ddb, "a2", "churn", "normal", 1, cost=cost(0.1, 0.2, attempts=3))
    finished(ddb, "b1", "fraud", "normal", 1, cost=cost(0.0, 0.05))
    finished(ddb, "b2", "fraud", "normal", 2)  # finished before costs were recorded
    create_record(ddb, TABLE, {"job_id": "c1", "name": "open", "status": "SUBMITTED"}, now=START)
    finished(ddb, "old", "churn", "high", -30, cost=cost(9, 9))  # before --since
    return ddb


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_cost_by_name_sums_every_finished_job_since(costed, capsys) -> None:
    report = run_json(capsys, "cost", "--since", "2026-11-01", "--json")
    groups = {g["group"]: g for g in report["groups"]}
    assert groups["churn"]["usd"] == pytest.approx(0.8)
    assert groups["churn"]["attempts"] == 4
    assert groups["churn"]["spot_usd"] == pytest.approx(0.2)
    assert groups["fraud"]["jobs"] == 2
    assert groups["fraud"]["costed"] == 1
    assert [g["group"] for g in report["groups"]] == ["churn", "fraud"]  # most expensive first
    assert report["total"]["usd"] == pytest.approx(0.85)
    assert report["total"]["vcpu_hours"] == pytest.approx(5)


def test_cost_by_priority_and_by_day(costed, capsys) -> None:
    by_priority = run_json(capsys, "cost", "--since", "2026-11-01", "--by", "priority", "--json")
    assert {g["group"]: round(g["usd"], 6) for g in by_priority["groups"]} == {
        "high": 0.5,
        "normal": 0.35,
    }
    by_day = run_json(capsys, "cost", "--since", "2026-11-01", "--by", "day", "--json")
    assert [g["group"] for g in by_day["groups"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_cost_as_a_table(costed, capsys) -> None:
    assert main(["cost", "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert "churn" in out
    assert "total" in out
    assert "0.8000" in out


def test_a_bad_since_names_the_option(costed, capsys) -> None:
    assert main(["cost", "--since", "last tuesday"]) != 0
    assert "--since" in capsys.readouterr().err


def test_status_shows_the_recorded_cost(costed, capsys) -> None:
    assert main(["status", "a2"]) == 0
    out = capsys.readouterr().out
    assert cost_line(cost(0.1, 0.2, attempts=3)) in " ".join(out.split())
    assert "basis: test" in out


def test_since_takes_durations_and_dates() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)


def test_summarize_counts_jobs_without_a_cost_but_adds_nothing_for_them() -> None:
    rows, total = summarize([{"name": "x"}, {"name": "x", "cost": cost(1, 0)}], GroupBy.NAME)
    assert (rows[0].jobs, rows[0].costed, rows[0].usd) == (2, 1, 1)
    assert total.usd == 1
