"""`batchscore cancel | rerun | reconcile`: act on jobs with the functions the Lambdas use."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from submitter.cli.options import AsJson, JobId, Local, TerraformDir, emit
from submitter.cli.target import find_record, resolve


def cancel(
    job_id: JobId, local: Local = False, terraform_dir: TerraformDir = None, as_json: AsJson = False
) -> None:
    """Terminate the job in Batch and record CANCELLED."""
    from submitter import job_actions
    from submitter.settings import Settings

    target = resolve(local=local, terraform_dir=terraform_dir)
    ddb = target.client("dynamodb")
    settings = Settings.from_env(target.variables)
    moved = job_actions.cancel(ddb, target.client("batch"), settings, job_id)
    if moved:  # the CLI decided CANCELLED, so it sends the notification (once: notify.py)
        from submitter.notify import Notifier, job_finished

        notifier = Notifier.from_env(target.variables, target.client)
        job_finished(ddb, settings.table, job_id, notifier)
    record = find_record(target, job_id)
    text = f"{job_id}: {'cancelled' if moved else 'already ' + record['status']}"
    emit({"job_id": job_id, "cancelled": moved, "status": record["status"]}, as_json, text)


def rerun(
    job_id: JobId,
    failed_shards: Annotated[
        bool,
        typer.Option(
            "--failed-shards",
            help="Only the shards of an array job without a shard marker, then one commit of "
            "the whole job (the shards that succeeded are kept).",
        ),
    ] = False,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """Submit a finished job's stored config again, as a new job linked to the original."""
    from submitter import job_actions, shard_rerun
    from submitter.settings import Settings

    target = resolve(local=local, terraform_dir=terraform_dir)
    settings = Settings.from_env(target.variables)
    ddb, batch = target.client("dynamodb"), target.client("batch")
    if failed_shards:
        outcome = shard_rerun.rerun_failed_shards(ddb, batch, target.client("s3"), settings, job_id)
        shards = find_record(target, outcome.job_id).get(shard_rerun.RERUN_SHARDS, [])
        summary = {"job_id": outcome.job_id, "rerun_of": job_id, "action": outcome.action}
        summary["shards"] = shards
        text = f"{outcome.job_id}: {outcome.action} (shards {shards} of {job_id})"
        emit(summary, as_json, text)
        return
    outcome = job_actions.rerun(ddb, batch, settings, job_id)
    summary = {"job_id": outcome.job_id, "rerun_of": job_id, "action": outcome.action}
    emit(summary, as_json, f"{outcome.job_id}: {outcome.action} (rerun of {job_id})")


def reconcile(
    older_than: Annotated[
        float,
        typer.Option("--older-than", min=0, help="Only records untouched for this many minutes."),
    ] = 10,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="At most this many records, oldest first (all)."),
    ] = None,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """Compare unfinished jobs with Batch and record what Batch says (a lost state-change event).
    Jobs Batch no longer knows are reported, never changed."""
    from datetime import timedelta

    from submitter.reconcile import Verdict
    from submitter.reconcile import reconcile as run

    target = resolve(local=local, terraform_dir=terraform_dir)
    findings = run(
        target.client("dynamodb"),
        target.client("batch"),
        target.table,
        older_than=timedelta(minutes=older_than),
        limit=limit,
    )
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in findings], indent=2))
        return
    for finding in findings:
        if finding.action == Verdict.UNCHANGED:
            continue
        if finding.action == Verdict.CHANGED:
            typer.echo(f"{finding.job_id}: {finding.was} -> {finding.status} (Batch says so)")
        else:
            typer.echo(f"{finding.job_id}: {finding.was}, left as it is: {finding.action}")
    unchanged = sum(f.action == Verdict.UNCHANGED for f in findings)
    typer.echo(f"{len(findings)} open job(s) checked, {unchanged} already up to date")
