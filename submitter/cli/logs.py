"""`batchscore logs`: the container's output of every attempt, from CloudWatch Logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from config import env
from submitter.cli.options import AsJson, JobId, Local, TerraformDir, emit
from submitter.cli.target import TargetError, find_record, resolve


def logs(
    job_id: JobId,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
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
    groups = {stream.group or target.log_group for stream in streams}
    for group in sorted(groups):
        # A missing group is a wrong setting, not a job that has printed nothing yet.
        if not group_exists(cloudwatch, group):
            raise TargetError(
                f"log group {group!r} does not exist: set {env.LOG_GROUP} to the stack's "
                "job log group (terraform output job_log_group), or use --terraform-dir"
            )
    shown = []
    for stream in streams:
        group = stream.group or target.log_group
        try:
            lines: list[str] | None = read_stream(cloudwatch, group, stream.name)
        except cloudwatch.exceptions.ResourceNotFoundException:
            lines = None  # the attempt has printed nothing yet
        shown.append(
            {"attempt": stream.label, "group": group, "stream": stream.name, "lines": lines}
        )
    if as_json:
        emit(shown, as_json, None)
        return
    for entry in shown:
        typer.echo(f"==> {entry['attempt']}: {entry['group']} {entry['stream']}")
        for line in entry["lines"] if entry["lines"] is not None else ["(no output yet)"]:
            typer.echo(line)


@dataclass(frozen=True)
class LogStream:
    label: str  # "<batch job id> attempt <n>"
    name: str
    group: str | None  # from the job's own log configuration, when it names one


def group_exists(cloudwatch: Any, group: str) -> bool:
    found = cloudwatch.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
    return any(entry.get("logGroupName") == group for entry in found)


def _configured_group(detail: dict[str, Any]) -> str | None:
    configuration = detail.get("container", {}).get("logConfiguration", {})
    if configuration.get("logDriver") != "awslogs":
        return None
    group = configuration.get("options", {}).get("awslogs-group")
    return str(group) if group else None


def log_streams(batch: Any, batch_job_id: str) -> list[LogStream]:
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
    streams: list[LogStream] = []
    for detail in details:
        group = _configured_group(detail)
        attempts = detail.get("attempts", [])
        for number, attempt in enumerate(attempts, start=1):
            name = attempt.get("container", {}).get("logStreamName")
            if name:
                streams.append(LogStream(f"{detail['jobId']} attempt {number}", name, group))
        # The attempt under way is not in `attempts` until it ends; its stream is the job's.
        current = detail.get("container", {}).get("logStreamName")
        if current and current not in {stream.name for stream in streams}:
            label = f"{detail['jobId']} attempt {len(attempts) + 1} (running)"
            streams.append(LogStream(label, current, group))
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
