"""`python -m job`: the container's entry point, and the only place that configures logging, reads
the environment and turns exceptions into exit codes (0 ok, 2 permanent, 3 transient).

    python -m job score CONFIG.json     score what a config file describes (no record, no Batch)
    python -m job run --job-id ID       Batch mode: the config comes from the job record
    python -m job commit --job-id ID    Batch mode: commit an array job's shards (job.commit_job)

Both print a one-line JSON summary (rows, seconds, output) as the last line on stdout.

SIGTERM (Batch stopping the attempt: terminate, timeout, spot notice) stops the job at once
where it is: the open part is deleted, no manifest is written, the record is left as it is and
the exit code is 3 (transient). Python as a container's PID 1 has no default action for
SIGTERM, so without this handler the attempt would only end with SIGKILL 30 s later.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from config import env
from config.deployment import location_problems, parse_buckets
from config.digest import text_sha256
from config.exceptions import ConfigError
from config.models import SHA256_PATTERN, JobConfig
from config.parsing import parse_config, validate_document
from config.retry import EXIT_OK, EXIT_PERMANENT, EXIT_TRANSIENT
from job import commit_job, logs, shard_rerun, status
from job.exceptions import (
    JobError,
    PermanentError,
    RecordError,
    TerminatedError,
    translate_os_error,
)
from job.inputs import DEFAULT_BATCH_ROWS
from job.output import DEFAULT_PART_ROWS
from job.runner import RunOptions, ShardResult, commit_shards, score_shard
from job.storage import read_bytes

log = logging.getLogger("job")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m job", description=__doc__.split("\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score the job a config file describes")
    score.add_argument("config", help="job-config JSON: a local path, file:// or s3:// URI")
    run = commands.add_parser("run", help="Batch mode: score the job a record describes")
    run.add_argument("--job-id", required=True)
    run.add_argument(
        "--config-sha256",
        help="the SHA-256 of the config submitted (Batch parameter config_sha256): the record's "
        "config must have it",
    )
    commit_job.add_parser(commands)
    for command in (score, run):
        command.add_argument("--batch-rows", type=_positive, default=DEFAULT_BATCH_ROWS)
        command.add_argument("--part-rows", type=_positive, default=DEFAULT_PART_ROWS)
        command.add_argument("--workers", type=_positive, default=1, help="predict threads")
        command.add_argument(
            "--log-format",
            choices=("json", "text"),
            default="json",
            help="json: one object per line, for CloudWatch (default); text: for a terminal",
        )
    return top


# Set once SIGTERM arrived: whatever exception it turned into on its way up (a call site may
# have wrapped it), the attempt ends as terminated, exit 3, and no failure is recorded.
_terminated = threading.Event()


def _on_sigterm(signum: int, frame: Any) -> None:
    if _terminated.is_set():  # once: a second SIGTERM must not break the cleanup under way
        return
    _terminated.set()
    raise TerminatedError("terminated by SIGTERM: stopped without committing, a retry may finish")


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    arguments = parser().parse_args(argv)
    text = arguments.log_format == "text"
    # Text is for a person: the log goes to stderr, stdout keeps only the result.
    context = logs.configure(sys.stderr if text else None, text=text)
    _terminated.clear()
    handles = threading.current_thread() is threading.main_thread()  # where Python allows it
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if handles else None
    try:
        code = _main(arguments, environ, context)
    finally:
        if handles:
            signal.signal(signal.SIGTERM, previous)
    if _terminated.is_set() and code != EXIT_OK:
        # SIGTERM turned into another error on its way up (a call site wrapped it): still a stop.
        return EXIT_TRANSIENT
    return code


def _main(arguments: argparse.Namespace, environ: dict[str, str], context: dict[str, Any]) -> int:
    try:
        if arguments.command == "score":
            result = score_command(arguments, context)
        elif arguments.command == commit_job.COMMAND:
            result = commit_job.run(
                arguments,
                environ,
                context,
                load_config=lambda record: _record_config(arguments, environ, record),
                report_failure=_report_failure,
            )
        else:
            result = run_command(arguments, environ, context)
    except ConfigError as exc:
        log.error("invalid job config", extra={"problems": [str(p) for p in exc.problems]})
        return EXIT_PERMANENT
    except OSError as exc:  # I/O that no call site translated: treat as the storage layer does
        return _failed(translate_os_error(exc, "I/O"))
    except JobError as exc:  # TerminatedError (SIGTERM) is a TransientError: exit 3
        return _failed(exc)
    except Exception:  # a bug: the same code on the same input would fail again
        log.exception("unexpected error")
        return EXIT_PERMANENT
    # Last line on stdout, after every log line.
    sys.stdout.flush()
    if arguments.log_format == "text":
        summary = result.summary()
        print(f"scored {summary['rows']:,} rows in {summary['seconds']} s: {summary['output']}")
    else:
        print(json.dumps(result.summary()), flush=True)
    return EXIT_OK


def _failed(exc: JobError) -> int:
    kind = "permanent" if isinstance(exc, PermanentError) else "transient"
    log.error(str(exc), extra={"error": type(exc).__name__, "kind": kind})
    return exc.exit_code


def score_command(arguments: argparse.Namespace, context: dict[str, Any]) -> ShardResult:
    config = parse_config(read_bytes(arguments.config))
    context.update(job_id=config.job_id or config.name)
    return score_shard(config, _run_options(arguments))


def run_command(
    arguments: argparse.Namespace, environ: dict[str, str], context: dict[str, Any]
) -> ShardResult:
    job_id = arguments.job_id
    table = environ.get(env.TABLE_NAME)
    if not table:
        raise RecordError(f"{env.TABLE_NAME} is not set: which table holds job {job_id!r}?")
    attempt = int(environ.get(env.BATCH_JOB_ATTEMPT) or 1)
    shard = int(environ.get(env.BATCH_ARRAY_INDEX) or 0)
    context.update(job_id=job_id, attempt=attempt, shard=shard)

    ddb = status.dynamodb_client()
    record = status.load_record(ddb, table, job_id)
    try:
        config = _record_config(arguments, environ, record)
        # A rerun of failed shards scores the original job's shards in its name (job.shard_rerun).
        target = shard_rerun.target(record, job_id, shard)
        shard = target.shard
        shards = config.shards
        if not 0 <= shard < shards:
            raise PermanentError(f"array index {shard} is outside the job's {shards} shards")
        if shards == 1:
            # An array's children do not each write the job's record: the parent's RUNNING event
            # (state handler) moves it, once, instead of 10,000 writes on one item.
            status.mark_running(ddb, table, job_id, attempt)
        options = _run_options(
            arguments,
            job_id=target.output_job,
            shard=shard,
            shards=shards,
            attempt=attempt,
            holder_over=lambda holder: status.job_is_over(ddb, table, holder),
            refresh_input=target.reruns is not None,
        )
        # An array child writes only its shard marker: the commit follows the array's end
        # (`job.commit_job`), so no child writes the job's record.
        result = score_shard(config, options)
        if target.reruns == 1:
            # A rerun of one shard is a single Batch job (an array has 2 children or more): no
            # parent's SUCCEEDED follows, so it commits the job itself, once.
            result = commit_shards(config, target.output_job, shards)
    except ConfigError as exc:
        _report_failure(ddb, table, job_id, PermanentError(f"invalid job config: {exc}"))
        raise
    except PermanentError as exc:
        _report_failure(ddb, table, job_id, exc)
        raise
    if result.manifest_uri is not None:
        status.mark_succeeded(ddb, table, job_id, result.figures())
    return result


def _record_config(
    arguments: argparse.Namespace, environ: dict[str, str], record: dict[str, Any]
) -> JobConfig:
    """The record's config, checked: the submitted one (its digest), valid, within the
    deployment's rules. Raises ConfigError or RecordError."""
    job_id = arguments.job_id
    if arguments.config_sha256 is not None:
        _check_submitted_config(job_id, record, arguments.config_sha256)
    try:
        document = json.loads(record["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"job {job_id!r}: the record's config is not JSON ({exc})") from exc
    config = validate_document(document, queues=(document.get("priority", "normal"),))
    _check_deployment_rules(config, environ)
    return config


def _check_deployment_rules(config: JobConfig, environ: dict[str, str]) -> None:
    """The deployment's rules again: the record may have been changed after the Lambda checked
    it (the job role can write records). A deployment names its buckets (Terraform and the local
    stack always do); without them (`run` by hand on local files) none apply."""
    allowed = parse_buckets(environ.get(env.ALLOWED_BUCKETS, ""))
    writable = parse_buckets(environ.get(env.WRITE_BUCKETS, ""))
    if allowed or writable:
        problems = location_problems(config, allowed_buckets=allowed, write_buckets=writable)
        if problems:
            raise ConfigError(problems)


def _check_submitted_config(job_id: str, record: dict[str, Any], expected: str) -> None:
    """The record's config must be the one submitted: its SHA-256 came with the Batch job (a
    parameter of SubmitJob, which whoever can write the record cannot change)."""
    if not re.fullmatch(SHA256_PATTERN, expected):
        raise RecordError(
            f"job {job_id!r}: the submission carried no config digest (Batch parameter "
            f"config_sha256 is {expected[:80]!r}); refusing to score an unbound config"
        )
    config = record.get("config")
    actual = text_sha256(config) if isinstance(config, str) else None
    if actual != expected.lower():
        raise RecordError(
            f"job {job_id!r}: the record's config has SHA-256 {actual}, not the submitted "
            f"{expected.lower()}; it was changed after submission, refusing to score it"
        )


def _run_options(arguments: argparse.Namespace, **run: Any) -> RunOptions:
    return RunOptions(
        batch_rows=arguments.batch_rows,
        part_rows=arguments.part_rows,
        workers=arguments.workers,
        **run,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _report_failure(ddb: Any, table: str, job_id: str, error: PermanentError) -> None:
    """Record why a permanent failure happened; never let the report mask the failure."""
    if _terminated.is_set():  # an error caused by the stop itself: a retry may still succeed
        return
    try:
        status.mark_failed(ddb, table, job_id, error)
    except JobError as exc:
        log.warning("could not record the failure", extra={"error": str(exc)})
