"""`batchscore status | list`: a job's record (brought up to date from Batch), or many jobs."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from config.status import JobStatus
from submitter.cli.options import AsJson, JobId, Local, TerraformDir
from submitter.cli.target import Target, find_record, resolve
from submitter.cli.views import console, job_view, jobs_table, public
from submitter.cli.waiting import cost_view, waiting_view, why_waiting


def status(
    job_id: JobId,
    refresh: Annotated[
        bool, typer.Option(help="Ask Batch first about a job that is not finished.")
    ] = True,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """A job's record: status, queue, attempts, reason, output and its history.

    A job not yet finished is first brought up to date from Batch (one DescribeJobs), so a
    state-change event that never arrived does not leave it looking RUNNING."""
    target = resolve(local=local, terraform_dir=terraform_dir)
    record = find_record(target, job_id)
    if refresh and not JobStatus(record["status"]).is_terminal and record.get("batch_job_id"):
        record = _refreshed(target, record)
    waiting = why_waiting(target, record)
    if as_json:
        typer.echo(json.dumps(public(record, waiting=waiting), indent=2, default=str))
    else:
        console.print(job_view(record))
        if record.get("cost"):
            console.print(cost_view(record["cost"]))
        if waiting:
            console.print(waiting_view(waiting))


def _refreshed(target: Target, record: dict[str, Any]) -> dict[str, Any]:
    """The record after asking Batch about its job; the stored one, with a warning, when Batch
    cannot be asked (e.g. credentials without batch:DescribeJobs): `status` must still work."""
    from botocore.exceptions import BotoCoreError, ClientError

    from submitter.exceptions import SubmitterError
    from submitter.reconcile import Verdict, refresh

    job_id = record["job_id"]
    try:
        finding = refresh(target.client("dynamodb"), target.client("batch"), target.table, record)
    except (ClientError, BotoCoreError, SubmitterError) as exc:
        typer.echo(f"warning: could not ask Batch about {job_id}: {exc}", err=True)
        return record
    if finding is None or finding.action == Verdict.UNCHANGED:
        return record
    typer.echo(f"{job_id}: {finding.action} (Batch: {finding.batch_status})", err=True)
    return find_record(target, job_id)


def list_(
    status: Annotated[
        list[JobStatus] | None, typer.Option("--status", "-s", help="Only these statuses.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """Jobs, newest first."""
    from submitter.cli.queries import list_jobs

    target = resolve(local=local, terraform_dir=terraform_dir)
    found = list_jobs(target.client("dynamodb"), target.table, statuses=status, limit=limit)
    if as_json:
        typer.echo(json.dumps([public(r) for r in found], indent=2, default=str))
    else:
        console.print(jobs_table(found, title=f"{len(found)} job(s), newest first"))
