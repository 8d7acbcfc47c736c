"""The demo's last table: what each job cost, as the state-change handler recorded it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from config.records import get_record
from submitter.cli.views import plain

COST_WAIT_SECONDS = 10.0  # the cost follows Batch's final event, which may trail the record


def show_costs(console: Console, ddb: Any, table: str, job_ids: Iterable[str | None]) -> None:
    records = wait_for_costs(ddb, table, [j for j in job_ids if j])
    console.print(cost_table(records))


def wait_for_costs(ddb: Any, table: str, job_ids: list[str]) -> list[dict[str, Any]]:
    """The records, once every job that reached Batch carries its cost (or the wait is over)."""
    deadline = time.monotonic() + COST_WAIT_SECONDS
    while True:
        records = [r for j in job_ids if (r := get_record(ddb, table, j)) is not None]
        pending = [r for r in records if r.get("batch_job_id") and "cost" not in r]
        if not pending or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def cost_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="cost of each job (estimated)", header_style="bold")
    for column in ("job", "status", "attempts", "vCPU-s", "on-demand $", "spot $", "total $"):
        table.add_column(column, justify="left" if column in ("job", "status") else "right")
    total = 0.0
    for record in records:
        cost = record.get("cost")
        if not cost:
            why = "never ran" if not record.get("batch_job_id") else "not recorded"
            table.add_row(plain(record["job_id"]), plain(record["status"]), why, "", "", "", "")
            continue
        total += float(cost["usd"])
        table.add_row(
            plain(record["job_id"]),
            plain(record["status"]),
            str(cost["attempts"]),
            f"{cost['vcpu_seconds']:,.1f}",
            f"{cost['on_demand_usd']:.6f}",
            f"{cost['spot_usd']:.6f}",
            f"{cost['usd']:.6f}",
        )
    table.add_row("total", "", "", "", "", "", f"{total:.6f}", style="bold")
    return table
