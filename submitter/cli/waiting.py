"""`batchscore status` on a job not yet running: why (`submitter.waiting`), and its cost once
finished: the parts of a job's view this issue added, kept apart from `status` itself."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Group
from rich.text import Text

from config.status import JobStatus
from submitter.cli.target import Target


def why_waiting(target: Target, record: dict[str, Any]) -> dict[str, Any] | None:
    """The explanation (as a dict) for a SUBMITTED record whose Batch job waits; None otherwise
    or when Batch cannot be asked (a warning says why: `status` must still work)."""
    if record.get("status") != JobStatus.SUBMITTED.value or not record.get("batch_job_id"):
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    from submitter.waiting import explain

    try:
        explanation = explain(target.client("batch"), record["batch_job_id"])
    except (ClientError, BotoCoreError) as exc:
        typer.echo(f"warning: could not ask Batch why {record['job_id']} waits: {exc}", err=True)
        return None
    return explanation.as_dict() if explanation else None


def waiting_view(waiting: dict[str, Any]) -> Group:
    lines = [Text("why it is not running: ", style="bold") + Text(waiting["headline"])]
    lines += [Text(f"  {line}") for line in waiting["details"]]
    return Group(*lines)


def cost_line(cost: dict[str, Any]) -> str:
    """`$0.0123 (on-demand $0.0100, spot $0.0023); 2 attempt(s), 120 vCPU-s, 240 GiB-s`."""
    return (
        f"${cost['usd']:.4f} (on-demand ${cost['on_demand_usd']:.4f}, spot "
        f"${cost['spot_usd']:.4f}); {cost['attempts']} attempt(s), "
        f"{cost['vcpu_seconds']:,.0f} vCPU-s, {cost['gib_seconds']:,.0f} GiB-s"
    )


def cost_view(cost: dict[str, Any]) -> Group:
    return Group(
        Text("cost: ", style="bold") + Text(cost_line(cost)),
        Text(f"  basis: {cost['basis']}"),
    )
