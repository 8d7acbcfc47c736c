"""`batchscore cost`: what finished jobs cost, summed by name, priority or day."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from config.records import STATUS_INDEX, STATUS_INDEX_RANGE, from_item, timestamp, utc_now
from config.status import TERMINAL
from submitter.cli.cost_report import GroupBy, Row, parse_since, summarize
from submitter.cli.options import AsJson, Local, TerraformDir, emit
from submitter.cli.target import resolve
from submitter.cli.views import console


def cost(
    since: Annotated[
        str, typer.Option(help="Jobs created since: a duration (7d, 12h, 30m) or an ISO date.")
    ] = "30d",
    by: Annotated[GroupBy, typer.Option(help="Sum by job name, priority or day.")] = GroupBy.NAME,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """What finished jobs cost (every attempt, every shard, spot and on-demand apart), as the
    state Lambda recorded it; one Query per final status on the table's status index."""
    start = parse_since(since, utc_now())
    target = resolve(local=local, terraform_dir=terraform_dir)
    found = finished_since(target.client("dynamodb"), target.table, timestamp(start))
    rows, total = summarize(found, by)
    document = {
        "since": timestamp(start),
        "by": by.value,
        "groups": [row.as_dict() for row in rows],
        "total": total.as_dict(),
    }
    if as_json:
        emit(document, True, None)
    else:
        console.print(cost_table(rows, total, by, timestamp(start)))


def finished_since(ddb: Any, table: str, since: str) -> list[dict[str, Any]]:
    """Every final record created at or after `since` (all pages)."""
    found: list[dict[str, Any]] = []
    for status in sorted(TERMINAL):
        kwargs: dict[str, Any] = {
            "TableName": table,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": "#s = :s AND #c >= :since",
            "ExpressionAttributeNames": {"#s": "status", "#c": STATUS_INDEX_RANGE},
            "ExpressionAttributeValues": {":s": {"S": status.value}, ":since": {"S": since}},
        }
        while True:
            page = ddb.query(**kwargs)
            found.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def cost_table(rows: list[Row], total: Row, by: GroupBy, since: str) -> Table:
    table = Table(title=f"cost of finished jobs since {since}, by {by.value}", header_style="bold")
    for column in (
        by.value,
        "jobs",
        "costed",
        "attempts",
        "vCPU-h",
        "on-demand $",
        "spot $",
        "total $",
    ):
        table.add_column(column, justify="left" if column == by.value else "right")
    for row in [*rows, total]:
        table.add_row(
            row.group,
            str(row.jobs),
            str(row.costed),
            str(row.attempts),
            f"{row.vcpu_hours:,.3f}",
            f"{row.on_demand_usd:,.4f}",
            f"{row.spot_usd:,.4f}",
            f"{row.usd:,.4f}",
            style="bold" if row is total else None,
        )
    return table
