"""`batchscore submit`: upload a config under the jobs bucket's `jobs/` and follow its job."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live

from config import env
from config.deployment import queue_names
from config.parsing import parse_config, read_config_file
from config.records import get_record
from config.status import JobStatus
from submitter.cli.errors import ExitCode
from submitter.cli.options import AsJson, Local, TerraformDir, emit
from submitter.cli.target import Target, TargetError, resolve
from submitter.cli.views import console, job_view, jobs_table, public


def submit(
    file: Annotated[Path, typer.Argument(help="A job-config JSON file.")],
    wait: Annotated[bool, typer.Option(help="Follow the job to its end.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 3600,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """Upload FILE under the jobs bucket's `jobs/` prefix; the ingest Lambda takes it from there."""
    target = resolve(local=local, terraform_dir=terraform_dir)
    raw = read_config_file(file)
    config = parse_config(raw, queues=queue_names(target.setting(env.QUEUES)))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    key = f"jobs/{file.stem}-{stamp}.json"
    job_id = upload_config(target.client("s3"), target.jobs_bucket, key, raw, config.job_id)
    summary = {"upload": f"s3://{target.jobs_bucket}/{key}", "job_id": job_id}
    if not wait or job_id is None:
        emit(summary, as_json, f"uploaded {summary['upload']}; job id {job_id or '(derived)'}")
        return
    record = follow(target, job_id, timeout=timeout, quiet=as_json)
    emit(public(record), as_json, None)
    if record["status"] != JobStatus.SUCCEEDED:
        raise typer.Exit(ExitCode.FAILED)


def upload_config(s3: Any, bucket: str, key: str, raw: bytes, job_id: str | None) -> str | None:
    """Upload a config; return its job id: the config's own, or the one the ingest Lambda will
    derive from this upload's version (None when the bucket is not versioned)."""
    from submitter.ingest import Upload  # the job id derivation, shared with the Lambda

    put = s3.put_object(Bucket=bucket, Key=key, Body=raw, ContentType="application/json")
    version = put.get("VersionId")
    if job_id is None and version:
        upload = Upload(bucket, key, f"version:{version}", version, len(raw), raw)
        job_id = upload.derived_job_id()
    return job_id


def follow(target: Target, job_id: str, *, timeout: float, quiet: bool = False) -> dict[str, Any]:
    """Poll the record until it is terminal, with a live status line for people."""
    ddb = target.client("dynamodb")
    deadline = time.monotonic() + timeout
    record: dict[str, Any] | None = None
    with Live(console=console, transient=True, auto_refresh=False) as live:
        while time.monotonic() < deadline:
            record = get_record(ddb, target.table, job_id)
            if record is not None and not quiet:
                live.update(jobs_table([record]), refresh=True)
            if record is not None and JobStatus(record["status"]).is_terminal:
                if not quiet:
                    console.print(job_view(record))
                return record
            time.sleep(0.5)
    raise TargetError(
        f"job {job_id} is still {record['status'] if record else 'not recorded'} "
        f"after {timeout:.0f} s"
    )
