"""`batchscore report JOB [-o FILE]`: the job's self-contained HTML page (`submitter.report`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from submitter.cli.options import JobId, Local, TerraformDir
from submitter.cli.target import Target, find_record, resolve


def report(
    job_id: JobId,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the page (default: JOB.html here)."),
    ] = None,
    local: Local = False,
    terraform_dir: TerraformDir = None,
) -> None:
    """Write one HTML file about the job: status and timeline, stage timings, cost, and its
    predictions beside the previous run of the same name. No network needed to open it."""
    from submitter import drift
    from submitter.report import render

    target = resolve(local=local, terraform_dir=terraform_dir)
    record = find_record(target, job_id)
    ddb = target.client("dynamodb")
    manifest = read_manifest(target, record.get("manifest_uri"))
    previous = None
    if record.get("status") == "SUCCEEDED" and record.get("name"):
        previous = drift.previous_success(ddb, target.table, record)
    found = None
    if previous is not None and record.get("prediction_summary"):
        found = drift.drift_between(previous, record["prediction_summary"])
    path = output or Path(f"{job_id}.html")
    path.write_text(render(record, manifest, previous, found), encoding="utf-8")
    typer.echo(f"{job_id}: report written to {path}")


def read_manifest(target: Target, uri: Any) -> dict[str, Any] | None:
    """The committed manifest (None: no manifest URI, e.g. a failed job)."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = target.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    loaded: dict[str, Any] = json.loads(body)
    return loaded
