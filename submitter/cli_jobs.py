"""`batchscore submit | status | list | logs | cancel | rerun`: driving jobs from a terminal.

Each command resolves its deployment (`submitter.target`), then calls the same functions the
Lambdas use, with boto3 clients made from the target. Errors become one line (`cli.one_line`).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

from config import env
from config.deployment import queue_names
from config.parsing import parse_config, read_config_file
from config.records import get_record
from config.status import JobStatus
from submitter.exceptions import JobNotFoundError
from submitter.target import Target, TargetError, resolve
from submitter.views import job_view, jobs_table, public

Local = Annotated[bool, typer.Option("--local", help="Use the running `batchscore local up`.")]
TerraformDir = Annotated[
    Path | None,
    typer.Option(help="Read the deployment from `terraform output -json` in this directory."),
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout, for scripts.")]
JobId = Annotated[str, typer.Argument(help="The job id (see `batchscore list`).")]

console = Console()


def _target(local: bool, terraform_dir: Path | None) -> Target:
    return resolve(local=local, terraform_dir=terraform_dir)


def _record(target: Target, job_id: str) -> dict[str, Any]:
    record = get_record(target.client("dynamodb"), target.table, job_id)
    if record is None:
        raise JobNotFoundError(job_id)
    return record


def submit(
    file: Annotated[Path, typer.Argument(help="A job-config JSON file.")],
    wait: Annotated[bool, typer.Option(help="Follow the job to its end.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 3600,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """Upload FILE under the jobs bucket's `jobs/` prefix; the ingest Lambda takes it from there."""
    target = _target(local, terraform_dir)
    raw = read_config_file(file)
    config = parse_config(raw, queues=queue_names(target.setting(env.QUEUES)))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    key = f"jobs/{file.stem}-{stamp}.json"
    job_id = upload_config(target.client("s3"), target.jobs_bucket, key, raw, config.job_id)
    summary = {"upload": f"s3://{target.jobs_bucket}/{key}", "job_id": job_id}
    if not wait or job_id is None:
        _emit(summary, as_json, f"uploaded {summary['upload']}; job id {job_id or '(derived)'}")
        return
    record = follow(target, job_id, timeout=timeout, quiet=as_json)
    _emit(public(record), as_json, None)
    if record["status"] != JobStatus.SUCCEEDED:
        raise typer.Exit(1)


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
    target = _target(local, terraform_dir)
    record = _record(target, job_id)
    if refresh and not JobStatus(record["status"]).is_terminal and record.get("batch_job_id"):
        record = _refreshed(target, record)
    if as_json:
        typer.echo(json.dumps(public(record), indent=2, default=str))
    else:
        console.print(job_view(record))


def _refreshed(target: Target, record: dict[str, Any]) -> dict[str, Any]:
    """The record after asking Batch about its job; the stored one, with a warning, when Batch
    cannot be asked (e.g. credentials without batch:DescribeJobs): `status` must still work."""
    from botocore.exceptions import BotoCoreError, ClientError

    from submitter.exceptions import SubmitterError
    from submitter.reconcile import UNCHANGED, refresh

    job_id = record["job_id"]
    try:
        finding = refresh(target.client("dynamodb"), target.client("batch"), target.table, record)
    except (ClientError, BotoCoreError, SubmitterError) as exc:
        typer.echo(f"warning: could not ask Batch about {job_id}: {exc}", err=True)
        return record
    if finding is None or finding.action == UNCHANGED:
        return record
    typer.echo(f"{job_id}: {finding.action} (Batch: {finding.batch_status})", err=True)
    return _record(target, job_id)


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
    from submitter.queries import list_jobs

    target = _target(local, terraform_dir)
    found = list_jobs(target.client("dynamodb"), target.table, statuses=status, limit=limit)
    if as_json:
        typer.echo(json.dumps([public(r) for r in found], indent=2, default=str))
    else:
        console.print(jobs_table(found, title=f"{len(found)} job(s), newest first"))


def logs(
    job_id: JobId,
    local: Local = False,
    terraform_dir: TerraformDir = None,
) -> None:
    """The container's output of every attempt (CloudWatch Logs; locally its emulation)."""
    target = _target(local, terraform_dir)
    record = _record(target, job_id)
    batch_job_id = record.get("batch_job_id")
    if not batch_job_id:
        raise TargetError(f"job {job_id} never reached Batch ({record['status']})")
    streams = log_streams(target.client("batch"), batch_job_id)
    if not streams:
        raise TargetError(f"job {job_id} has no logs yet ({record['status']})")
    cloudwatch = target.client("logs")
    for label, stream in streams:
        typer.echo(f"==> {label}: {target.log_group} {stream}")
        try:
            lines = read_stream(cloudwatch, target.log_group, stream)
        except cloudwatch.exceptions.ResourceNotFoundException:
            lines = ["(no output yet)"]
        for line in lines:
            typer.echo(line)


def log_streams(batch: Any, batch_job_id: str) -> list[tuple[str, str]]:
    """(label, log stream) of every attempt of the job, or of its array children."""
    jobs = batch.describe_jobs(jobs=[batch_job_id])["jobs"]
    if not jobs:
        return []
    job = jobs[0]
    details = [job]
    if "arrayProperties" in job and "index" not in job["arrayProperties"]:
        size = job["arrayProperties"].get("size", 0)
        children = [f"{batch_job_id}:{i}" for i in range(size)]
        details = [
            d for start in range(0, len(children), 100)
            for d in batch.describe_jobs(jobs=children[start : start + 100])["jobs"]
        ]  # fmt: skip
    streams = []
    for detail in details:
        attempts = detail.get("attempts", [])
        for number, attempt in enumerate(attempts, start=1):
            stream = attempt.get("container", {}).get("logStreamName")
            if stream:
                streams.append((f"{detail['jobId']} attempt {number}", stream))
        # The attempt under way is not in `attempts` until it ends; its stream is the job's.
        current = detail.get("container", {}).get("logStreamName")
        if current and current not in {stream for _, stream in streams}:
            streams.append((f"{detail['jobId']} attempt {len(attempts) + 1} (running)", current))
    return streams


def read_stream(cloudwatch: Any, group: str, stream: str) -> list[str]:
    lines: list[str] = []
    token: str | None = None
    while True:
        kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        page = cloudwatch.get_log_events(**kwargs, **({"nextToken": token} if token else {}))
        lines.extend(event["message"] for event in page.get("events", []))
        if not page.get("events") or page.get("nextForwardToken") == token:
            return lines
        token = page.get("nextForwardToken")


def cancel(
    job_id: JobId, local: Local = False, terraform_dir: TerraformDir = None, as_json: AsJson = False
) -> None:
    """Terminate the job in Batch and record CANCELLED."""
    from submitter import jobs
    from submitter.settings import Settings

    target = _target(local, terraform_dir)
    ddb = target.client("dynamodb")
    settings = Settings.from_env(target.variables)
    moved = jobs.cancel(ddb, target.client("batch"), settings, job_id)
    record = _record(target, job_id)
    text = f"{job_id}: {'cancelled' if moved else 'already ' + record['status']}"
    _emit({"job_id": job_id, "cancelled": moved, "status": record["status"]}, as_json, text)


def rerun(
    job_id: JobId, local: Local = False, terraform_dir: TerraformDir = None, as_json: AsJson = False
) -> None:
    """Submit a finished job's stored config again, as a new job linked to the original."""
    from submitter import jobs
    from submitter.settings import Settings

    target = _target(local, terraform_dir)
    settings = Settings.from_env(target.variables)
    outcome = jobs.rerun(target.client("dynamodb"), target.client("batch"), settings, job_id)
    summary = {"job_id": outcome.job_id, "rerun_of": job_id, "action": outcome.action}
    _emit(summary, as_json, f"{outcome.job_id}: {outcome.action} (rerun of {job_id})")


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

    from submitter.reconcile import CHANGED, UNCHANGED
    from submitter.reconcile import reconcile as run

    target = _target(local, terraform_dir)
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
        if finding.action == UNCHANGED:
            continue
        if finding.action == CHANGED:
            typer.echo(f"{finding.job_id}: {finding.was} -> {finding.status} (Batch says so)")
        else:
            typer.echo(f"{finding.job_id}: {finding.was}, left as it is: {finding.action}")
    unchanged = sum(f.action == UNCHANGED for f in findings)
    typer.echo(f"{len(findings)} open job(s) checked, {unchanged} already up to date")


def _emit(document: dict[str, Any], as_json: bool, text: str | None) -> None:
    if as_json:
        typer.echo(json.dumps(document, indent=2, default=str))
    elif text:
        typer.echo(text)
