"""One job (or one array child) from config to committed output, without any job record.

`score_shard` loads and checks the model, plans the input, streams this shard through the model
into parts, and commits: the manifest for a single job, a shard marker for an array child.
`commit_shards` writes the job's manifest from the markers once every child is done. The caller
(`job.commands`) owns the record and decides who commits.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from config.digest import config_sha256
from config.endpoint import EndpointConfig
from config.models import JobConfig
from config.records import timestamp, utc_now
from config.uris import Location, parse_uri
from job.bad_rows import ERRORS_DIR, FIRST_REASONS, BadRowSink, Budget, RowGuard
from job.exceptions import InputError
from job.frames import describe, frame_plan
from job.inputs import (
    DEFAULT_BATCH_ROWS,
    numeric_columns,
    plan_units,
    read_batches,
    read_schema,
)
from job.logs import Progress
from job.models import Columns, load_configured_model, output_names, resolve_columns
from job.output import (
    DEFAULT_PART_ROWS,
    MANIFEST_VERSION,
    SCORE_OWNER,
    HolderOver,
    PartWriter,
    check_claim,
    claim_output,
    clear_stale_parts,
    commit_manifest,
    guard_output,
    manifest_location,
    merge_shard_markers,
    refuse_committed,
    release_claim,
    shard_marker_location,
    write_json,
)
from job.plan import Slice, read_units, refreshed, shard_slice
from job.scoring import Predictor, quiet_feature_names, score
from job.storage import Unit, filesystem, input_files, shard_units
from job.summary import SummaryBuilder, kind_for, merge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """How to run, as opposed to what to score (the config)."""

    job_id: str | None = None  # the record's id in Batch mode; None for `python -m job score`
    shard: int = 0
    shards: int = 1
    attempt: int = 1
    batch_rows: int = DEFAULT_BATCH_ROWS
    part_rows: int = DEFAULT_PART_ROWS
    workers: int = 1
    # Batch mode: is the job holding another claim on the output over? (job.commands asks the
    # table); None: nobody to ask (`python -m job score`).
    holder_over: HolderOver | None = None
    # A rerun of failed shards (job.shard_rerun): the slice's files as they are now, not planned.
    refresh_input: bool = False


@dataclass(frozen=True)
class ShardResult:
    rows: int
    seconds: float
    output_uri: str
    manifest_uri: str | None  # None: an array child whose job is not committed yet
    bad_rows: int = 0  # rows set aside under _errors/ (a job with a bad-rows budget)
    prediction_summary: dict[str, Any] | None = None  # job.summary, once the job is committed

    def figures(self) -> dict[str, Any]:
        """What a SUCCEEDED record carries (`status.mark_succeeded`)."""
        return {
            "rows": self.rows,
            "seconds": self.seconds,
            "output_uri": self.output_uri,
            "manifest_uri": self.manifest_uri,
            "bad_rows": self.bad_rows,
            "prediction_summary": self.prediction_summary,
        }

    def summary(self) -> dict[str, Any]:
        summary = {"rows": self.rows, "seconds": round(self.seconds, 3), "output": self.output_uri}
        if self.bad_rows:
            summary["bad_rows"] = self.bad_rows
        return summary


@dataclass(frozen=True)
class ScoringPlan:
    """What to read from the input and how each batch becomes predictions, for one model and
    one input schema: what `score_shard` streams, and what a dry run can try on a sample."""

    columns: Columns
    predictor: Predictor
    csv_types: dict[str, pa.DataType]  # CSV columns parsed as a given type

    def read(
        self,
        fs: pafs.FileSystem,
        units: Sequence[Unit],
        input_format: str,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> Iterator[pa.RecordBatch]:
        """The input batches, each conformed to what the model needs."""
        frame = self.predictor.frame
        return read_batches(
            fs,
            units,
            input_format,
            self.columns.to_read,
            types=self.csv_types if frame is not None else None,
            numeric=() if frame is not None else list(self.csv_types),
            conform=frame.conform if frame is not None else None,
            batch_rows=batch_rows,
        )

    def guard(self) -> RowGuard:
        """The predict stage of a job with a bad-rows budget (`job.bad_rows`): the features the
        model needs as numbers are converted there, so rows that do not convert are known."""
        numbers = tuple(n for n, kind in self.csv_types.items() if kind == pa.float64())
        matrix = self.predictor.frame is None
        csv_numbers = tuple(self.predictor.features) if matrix else numbers
        return RowGuard(self.predictor, numbers, dict(self.csv_types), csv_numbers)


def plan_scoring(
    estimator: Any, schema: pa.Schema, config: JobConfig | EndpointConfig, source: str
) -> ScoringPlan:
    """Match the input (`schema`, read from the file `source`) to the model and choose how the
    model is fed: a float64 matrix, or a DataFrame as it was fit on (`job.frames`)."""
    try:
        columns = resolve_columns(
            estimator,
            schema.names,
            features=config.input.features,
            passthrough=config.output.passthrough,
        )
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc
    frame = frame_plan(estimator)
    predictor = Predictor(
        estimator,
        columns.features,
        columns.passthrough,
        config.output.predict,
        output_names(estimator, config.output.predict),
        frame=frame,
    )
    if frame is not None:
        csv_types = frame.csv_types(schema)
    else:
        csv_types = dict.fromkeys(numeric_columns(schema, columns.features), pa.float64())
    return ScoringPlan(columns, predictor, csv_types)


def score_sample(
    plan: ScoringPlan, fs: pafs.FileSystem, units: Sequence[Unit], input_format: str, rows: int
) -> pa.RecordBatch | None:
    """The predictions for the input's first batch of at most `rows` rows (None: no rows)."""
    for batch in plan.read(fs, units[:1], input_format, batch_rows=rows):
        with quiet_feature_names():
            return plan.predictor(batch.slice(0, rows))
    return None


def score_shard(config: JobConfig, options: RunOptions) -> ShardResult:
    """Claim the output prefix, then score this shard into it. In Batch mode the claim's owner is
    the job id (kept: retries and array children reclaim it; an ended job's claim is taken over);
    a `python -m job score` run owns a fresh token and drops its claim when it ends."""
    output = parse_uri(config.output.uri)
    job_id = options.job_id or config.job_id or config.name
    owner = options.job_id or f"{SCORE_OWNER}{job_id}:{uuid.uuid4().hex}"
    # A job refused for a committed output touches nothing, not even the claim.
    refuse_committed(output, overwrite=config.output.overwrite, job_id=options.job_id)
    claim_output(
        output,
        owner,
        job_id=job_id,
        overwrite=config.output.overwrite,
        holder_over=options.holder_over,
    )
    try:
        return _score_claimed(config, options, output, job_id, owner)
    finally:
        if options.job_id is None:
            release_claim(output, owner)


def _score_claimed(
    config: JobConfig, options: RunOptions, output: Location, job_id: str, owner: str
) -> ShardResult:
    started_at, begun = utc_now(), time.perf_counter()
    committed = guard_output(output, overwrite=config.output.overwrite, job_id=options.job_id)
    if committed is not None:
        log.info("output committed by an earlier attempt", extra={"rows": committed["rows"]})
        return _outcome_of(committed, output)

    model = load_configured_model(config.model, config.model_format)
    planned = None
    if options.shards > 1:
        # An array child reads its slice of the job's one plan (`job.plan`), never the listing.
        planned = _array_slice(config, options, output, job_id)
        fs, _ = filesystem(parse_uri(config.input.uri))
        units = read_units(planned)
        files, first = len(planned.files), planned.schema_file.path
    else:
        fs, listed = input_files(config.input.uri, config.input_format)
        files, first = len(listed), listed[0].path
        units = shard_units(plan_units(fs, listed, config.input_format), 0, 1)
    schema = read_schema(fs, first, config.input_format)
    plan = plan_scoring(model.estimator, schema, config, source=first)
    log.info(
        "scoring",
        extra={
            "files": files,
            "units": len(units),
            "features": len(plan.columns.features),
            **describe(plan.predictor.frame),
        },
    )
    stale = clear_stale_parts(output, options.shard, options.shards)
    stale += clear_stale_parts(output.join(ERRORS_DIR), options.shard, options.shards)
    if stale:
        log.info("removed stale parts", extra={"parts": stale})

    writer = PartWriter(output, options.shard, config.output.format, part_rows=options.part_rows)
    summary = SummaryBuilder(kind_for(model.estimator, config.output.predict), plan.predictor.names)

    def write(batch: pa.RecordBatch) -> None:
        summary.observe(batch)  # the writer thread: in input order, no lock needed
        writer.write(batch)

    budget = Budget.of(config.output)
    sink = None
    try:
        if budget.enabled:
            # Bad rows set aside within the budget; a batch is taken apart only when it fails.
            guard = plan.guard()
            sink = BadRowSink(
                output,
                options.shard,
                config.output.format,
                write,
                budget,
                passthrough=plan.columns.passthrough,
                part_rows=options.part_rows,
            )
            checked = guard.read(
                fs, units, config.input_format, plan.columns.to_read, batch_rows=options.batch_rows
            )
            stats = score(checked, guard, sink, workers=options.workers, on_progress=Progress(log))
        else:
            batches = plan.read(fs, units, config.input_format, batch_rows=options.batch_rows)
            stats = score(
                batches,
                plan.predictor,
                write,
                workers=options.workers,
                on_progress=Progress(log),
            )
        parts = writer.close()
        error_parts = sink.close() if sink is not None else []
    except BaseException:
        writer.abort()
        if sink is not None:
            sink.abort()
        raise
    if planned is not None:
        planned.check_unchanged()  # a file replaced while it was read fails the shard, too
    bad_rows, reasons = (sink.bad_rows, sink.reasons) if sink is not None else (0, [])
    seconds = time.perf_counter() - begun
    log.info(
        "scored",
        extra={
            "rows": stats.rows,
            "bad_rows": bad_rows,
            "rate": round(stats.rows / seconds) if seconds else 0,
            "stages": {k: round(v, 3) for k, v in stats.stages.items()},
        },
    )
    marker = {
        "version": MANIFEST_VERSION,
        "job_id": job_id,
        "name": config.name,
        "shard": options.shard,
        "shards": options.shards,
        "attempt": options.attempt,
        "rows": stats.rows,
        "parts": [{"uri": p.uri, "rows": p.rows} for p in parts],
        "bad_rows": bad_rows,
        "error_parts": [{"uri": p.uri, "rows": p.rows} for p in error_parts],
        "bad_reasons": reasons,
        "format": config.output.format,
        "columns": [*plan.columns.passthrough, *plan.predictor.names],
        "model_sha256": model.sha256,
        "config_sha256": config_sha256(config),
        "started_at": timestamp(started_at),
        "finished_at": timestamp(utc_now()),
        "seconds": round(seconds, 3),
        "timings": {k: round(v, 3) for k, v in stats.stages.items()},
        "prediction_summary": summary.as_dict(),
    }
    if options.shards == 1:
        budget.check(bad_rows, stats.rows + bad_rows, reasons)
        _refuse_empty(stats.rows, config, bad_rows)
        # The commit: written last, after every part is complete, only if still ours and absent.
        check_claim(output, owner)
        return _outcome_of(commit_manifest(output, marker), output)
    write_json(shard_marker_location(output, options.shard), marker)
    return ShardResult(stats.rows, seconds, output.uri(), None, bad_rows)


def _array_slice(config: JobConfig, options: RunOptions, output: Location, job_id: str) -> Slice:
    """This child's slice of the job's plan; a rerun of failed shards takes its files' tags as
    they are now (the data may have been fixed: `job.shard_rerun`)."""
    planned = shard_slice(
        output, job_id, config.input.uri, config.input_format, options.shard, options.shards
    )
    return refreshed(planned) if options.refresh_input else planned


def commit_shards(config: JobConfig, job_id: str, shards: int) -> ShardResult:
    """Write the job's manifest from every child's marker (the commit job calls this)."""
    output = parse_uri(config.output.uri)
    markers = merge_shard_markers(output, job_id, shards)
    first = markers[0]
    started = min(m["started_at"] for m in markers)
    finished = utc_now()
    rows = sum(m["rows"] for m in markers)
    # The budget is the job's: the shards' counts summed, against the rows read by all of them.
    bad_rows = sum(m.get("bad_rows", 0) for m in markers)
    reasons = [reason for m in markers for reason in m.get("bad_reasons", [])]
    Budget.of(config.output).check(bad_rows, rows + bad_rows, reasons)
    _refuse_empty(rows, config, bad_rows)
    manifest = {
        **{k: first[k] for k in ("version", "job_id", "name", "format", "columns")},
        **{k: first[k] for k in ("model_sha256", "config_sha256")},
        "shards": shards,
        "rows": rows,
        "parts": [part for m in markers for part in m["parts"]],
        "bad_rows": bad_rows,
        "error_parts": [part for m in markers for part in m.get("error_parts", [])],
        "bad_reasons": reasons[:FIRST_REASONS],
        "started_at": started,
        "finished_at": timestamp(finished),
        "seconds": round(finished.timestamp() - _epoch(started), 3),
        "shard_figures": [
            {k: m.get(k, 0) for k in ("shard", "attempt", "rows", "bad_rows", "seconds", "timings")}
            for m in markers
        ],
        "prediction_summary": merge(m.get("prediction_summary") for m in markers),
    }
    check_claim(output, job_id)
    return _outcome_of(commit_manifest(output, manifest), output)


def _refuse_empty(rows: int, config: JobConfig, bad_rows: int = 0) -> None:
    """A job whose whole input holds no rows is almost always a broken upstream step: fail it
    rather than commit an empty output (one empty file among others is fine). So is one whose
    every row was set aside."""
    if rows == 0 and bad_rows:
        raise InputError(f"input.uri: every one of the {bad_rows:,} rows was set aside as bad")
    if rows == 0:
        raise InputError(f"input.uri: {config.input.uri} holds no rows; nothing to score")


def _outcome_of(manifest: dict[str, Any], output: Any) -> ShardResult:
    return ShardResult(
        manifest["rows"],
        manifest["seconds"],
        output.uri(),
        manifest_location(output).uri(),
        manifest.get("bad_rows", 0),
        manifest.get("prediction_summary"),
    )


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
