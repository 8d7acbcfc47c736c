"""`python -m job commit --job-id ID`: an array job's commit, run once after the whole array.

An array's children each write only their own shard marker (`_shards/shard-SSSSS.json`, one PUT
per shard) and never the job's record: counting shards on one DynamoDB item made that item grow
with the shard count and every child's write cost more (issue 15: ~180,000 WCU on one key at
10,000 shards). Batch itself counts the children: the array parent becomes SUCCEEDED only after
every child has. On that event the state Lambda submits this small job
(`submitter.array_commit`), in the same image and with the job role, so the output is still
written only by the job's role. It reads the N markers, holds the job's bad-rows budget over the
whole array, writes the one manifest (only if absent) and records SUCCEEDED with the figures:
one write on the record per job, whatever N.

Running it twice is harmless: a manifest this job already committed is accepted as is, and the
record only moves forward. A record that ended otherwise (cancelled, failed) is not committed.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from config import env
from config.exceptions import ConfigError
from config.status import TERMINAL, JobStatus
from job import shard_rerun, status
from job.exceptions import PermanentError, RecordError
from job.runner import ShardResult, commit_shards

log = logging.getLogger("job")

COMMAND = "commit"


def add_parser(commands: Any) -> None:
    commit = commands.add_parser(COMMAND, help="Batch mode: commit an array job's shards")
    commit.add_argument("--job-id", required=True)
    commit.add_argument(
        "--config-sha256",
        help="the SHA-256 of the config submitted: the record's config must have it",
    )
    commit.add_argument("--log-format", choices=("json", "text"), default="json")


def run(
    arguments: argparse.Namespace,
    environ: dict[str, str],
    context: dict[str, Any],
    *,
    load_config: Any,
    report_failure: Any,
) -> ShardResult:
    """`load_config(record)`: the checked config of the record (`job.commands`' checks: the
    submitted digest, the deployment's rules); `report_failure(ddb, table, job_id, error)`."""
    job_id = arguments.job_id
    table = environ.get(env.TABLE_NAME)
    if not table:
        raise RecordError(f"{env.TABLE_NAME} is not set: which table holds job {job_id!r}?")
    context.update(job_id=job_id, step=COMMAND)
    ddb = status.dynamodb_client()
    record = status.load_record(ddb, table, job_id)
    state = record.get("status")
    if state in TERMINAL and state != JobStatus.SUCCEEDED:
        raise PermanentError(f"job {job_id!r} is {state}: not committing its shards")
    try:
        config = load_config(record)
        if config.shards < 2:
            raise PermanentError(f"job {job_id!r} is not an array job: nothing to commit")
        log.info("committing the array's shards", extra={"shards": config.shards})
        # A rerun of failed shards commits the original job's output (job.shard_rerun).
        output_job = str(record.get(shard_rerun.SHARDS_OF) or job_id)
        result = commit_shards(config, output_job, config.shards)
    except ConfigError as exc:
        report_failure(ddb, table, job_id, PermanentError(f"invalid job config: {exc}"))
        raise
    except PermanentError as exc:  # a shard marker missing or mixed, the bad-rows budget
        report_failure(ddb, table, job_id, exc)
        raise
    status.mark_succeeded(ddb, table, job_id, result.figures())
    return result
