"""`batchscore logs`: the container's output of every attempt, from CloudWatch Logs."""

from __future__ import annotations

from typing import Any

import typer

from submitter.cli.options import JobId, Local, TerraformDir
from submitter.cli.target import TargetError, find_record, resolve


def logs(
    job_id: JobId,
    local: Local = False,
    terraform_dir: TerraformDir = None,
) -> None:
    """The container's output of every attempt (CloudWatch Logs; locally its emulation)."""
    target = resolve(local=local, terraform_dir=terraform_dir)
    record = find_record(target, job_id)
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
