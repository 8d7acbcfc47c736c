"""`batchscore submit`: upload a config under the jobs bucket's `jobs/` and follow its job."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live

from config import env
from config.deployment import queue_names
from config.exceptions import ConfigError
from config.parsing import parse_config, read_config_file
from config.records import get_record
from config.status import JobStatus
from submitter.cli.check import run_check
from submitter.cli.errors import ExitCode
from submitter.cli.options import AsJson, Local, TerraformDir, emit
from submitter.cli.score import JOB_MODULES
from submitter.cli.staging import Staging, stage
from submitter.cli.target import Target, TargetError, resolve
from submitter.cli.views import console, job_view, jobs_table, public


def submit(
    file: Annotated[Path, typer.Argument(help="A job-config JSON file.")],
    wait: Annotated[bool, typer.Option(help="Follow the job to its end.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 3600,
    upload_files: Annotated[
        bool,
        typer.Option(
            "--upload/--no-upload",
            help="Put local model and input files in the deployment's data bucket first.",
        ),
    ] = True,
    check_first: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Dry-run the job first (`batchscore check`) where its files can be read.",
        ),
    ] = True,
    local: Local = False,
    terraform_dir: TerraformDir = None,
    as_json: AsJson = False,
) -> None:
    """Upload FILE under the jobs bucket's `jobs/` prefix; the ingest Lambda takes it from there.

    A config that names local files (the one `batchscore score` just ran) is submitted as it is
    meant: its model and input go to the deployment's data bucket first (by content: once), a
    local output becomes a prefix of the results bucket, and the command to fetch it is printed."""
    target = resolve(local=local, terraform_dir=terraform_dir)
    raw = read_config_file(file)
    queues = queue_names(target.setting(env.QUEUES))
    config = parse_config(raw, queues=queues)
    if check_first:
        refuse_what_would_fail(raw, queues, target, str(file))
    staging = stage(raw, target, config.name) if upload_files else None
    if staging is not None and staging.changed:
        raw = json.dumps(staging.document, indent=2).encode()
        if not as_json:
            for line in [*staging.uploaded, *staging.reused]:
                typer.echo(f"staged {line}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    key = f"jobs/{file.stem}-{stamp}.json"
    uploaded = upload_config(target.client("s3"), target.jobs_bucket, key, raw, config.job_id)
    fetch = staging.fetch_command(target) if staging is not None else None
    summary = {"upload": uploaded.uri, "job_id": uploaded.job_id} | _staged(staging, fetch)
    if not wait or uploaded.job_id is None:
        text = f"uploaded {uploaded.uri}; job id {uploaded.job_id or '(derived)'}"
        emit(
            summary,
            as_json,
            text + (f"\nwhen it succeeds, fetch the output: {fetch}" if fetch else ""),
        )
        return
    record = follow(target, uploaded, timeout=timeout, quiet=as_json)
    emit(public(record) | _staged(staging, fetch), as_json, None)
    if record["status"] != JobStatus.SUCCEEDED:
        raise typer.Exit(ExitCode.FAILED)
    if fetch and not as_json:
        typer.echo(f"fetch the output: {fetch}")


def refuse_what_would_fail(raw: bytes, queues: tuple[str, ...], target: Target, name: str) -> None:
    """`batchscore check` before anything is uploaded: its problems stop the submission (exit 2);
    what it cannot read (no job extra, no access to a bucket) is said, and the upload goes on."""
    if not all(importlib.util.find_spec(module) for module in JOB_MODULES):
        typer.echo("warning: not checked first: the job extra is not installed", err=True)
        return
    with _environment(target):
        report = run_check(raw, queues)
    unread = [p for p in report.problems if p.path in ("model.uri", "input.uri")]
    for problem in unread:
        typer.echo(f"warning: not checked first: cannot read {problem}", err=True)
    refused = [p for p in report.problems if p not in unread]
    if refused:
        raise ConfigError(refused)


@contextlib.contextmanager
def _environment(target: Target) -> Iterator[None]:
    """The target's endpoint, credentials and region for the job's own readers (pyarrow's S3
    reads the process environment), restored afterwards."""
    names = (
        env.AWS_ENDPOINT_URL,
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    )
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({n: target.variables[n] for n in names if target.variables.get(n)})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _staged(staging: Staging | None, fetch: str | None) -> dict[str, Any]:
    if staging is None or not staging.changed:
        return {}
    return {"staged": {"uploaded": staging.uploaded, "reused": staging.reused, "fetch": fetch}}


@dataclass(frozen=True)
class UploadedConfig:
    """One upload of a config, and the ids its record may be filed under."""

    uri: str  # s3://bucket/key, as the record's `upload`
    identity: str | None  # as the record's `upload_id` ("version:<id>"); None: unversioned
    job_ids: tuple[str, ...]  # the config's own job_id first, then the id derived from the upload

    @property
    def job_id(self) -> str | None:
        """The id the job gets when all goes well."""
        return self.job_ids[0] if self.job_ids else None

    def is_recorded_by(self, record: dict[str, Any]) -> bool:
        """True when `record` was made from this upload (a job_id already used by another
        upload is REJECTED under the derived id: the config's id then names someone else's)."""
        if record.get("upload") != self.uri:
            return False
        return self.identity is None or record.get("upload_id") in (None, self.identity)


def _record_of(ddb: Any, table: str, uploaded: UploadedConfig) -> dict[str, Any] | None:
    for job_id in uploaded.job_ids:
        record = get_record(ddb, table, job_id)
        if record is not None and uploaded.is_recorded_by(record):
            return record
    return None


def upload_config(s3: Any, bucket: str, key: str, raw: bytes, job_id: str | None) -> UploadedConfig:
    """Upload a config; return where its record will be: under the config's job_id, or under the
    id the ingest Lambda derives from this upload's version (unknown when not versioned)."""
    from submitter.ingest import Upload  # the job id derivation, shared with the Lambda

    put = s3.put_object(Bucket=bucket, Key=key, Body=raw, ContentType="application/json")
    version = put.get("VersionId")
    ids = [job_id] if job_id else []
    identity = f"version:{version}" if version else None
    if identity:
        ids.append(Upload(bucket, key, identity, version, len(raw), raw).derived_job_id())
    return UploadedConfig(f"s3://{bucket}/{key}", identity, tuple(ids))


def follow(
    target: Target, uploaded: UploadedConfig, *, timeout: float, quiet: bool = False
) -> dict[str, Any]:
    """Poll the record of this upload until it is terminal, with a live status line for people."""
    ddb = target.client("dynamodb")
    deadline = time.monotonic() + timeout
    record: dict[str, Any] | None = None
    job_id = uploaded.job_id
    with Live(console=console, transient=True, auto_refresh=False) as live:
        while time.monotonic() < deadline:
            record = _record_of(ddb, target.table, uploaded)
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
