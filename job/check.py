"""A dry run of a job before any compute is spent (`batchscore check`): the model loads, the input
has what the model needs, a sample scores; and a plan: files, rows, shards, predicted time.

Reads the model, the input's schema and metadata, and one sample batch, never the whole input.
Every problem is collected with its field path, so one run shows them all.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow.fs as pafs

from config.exceptions import Problem
from config.models import JobConfig
from job.exceptions import InputError, JobError, ModelError
from job.inputs import plan_units, read_schema
from job.models import load_model
from job.runner import plan_scoring, score_sample
from job.storage import Unit, input_files, read_bytes

SAMPLE_ROWS = 2_000
CSV_SAMPLE_BYTES = 1 << 20  # the CSV sample's bytes per row estimate rows from file sizes


@dataclass
class Plan:
    files: int = 0
    rows: int = 0
    rows_estimated: bool = False  # CSV: from file sizes and the sample's bytes per row
    shards: int = 1
    rows_per_shard: int = 0
    model_path: str = ""  # "matrix" or "DataFrame": how batches reach the model
    sample_rows: int = 0
    sample_rows_per_second: float = 0.0
    seconds_per_shard: float | None = None  # predicted from the sample's rate
    output_columns: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    trusted_types_line: str | None = None  # what to paste into model.trusted_types, reviewed

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "plan": asdict(self.plan),
            "trusted_types_line": self.trusted_types_line,
        }


def check_job(config: JobConfig) -> CheckReport:
    report = CheckReport()
    report.plan.shards = config.shards
    estimator = _load(config, report)
    try:
        fs, files = input_files(config.input.uri, config.input_format)
        schema = read_schema(fs, files[0].path, config.input_format)
    except JobError as exc:
        report.problems.append(_problem("input.uri", exc))
        return report
    report.plan.files = len(files)
    units = plan_units(fs, files, config.input_format)
    if estimator is None:
        return report
    try:
        scoring = plan_scoring(estimator, schema, config, source=files[0].path)
        report.plan.model_path = "DataFrame" if scoring.predictor.frame is not None else "matrix"
        report.plan.output_columns = [
            *scoring.columns.passthrough,
            *scoring.predictor.names,
        ]
        started = time.perf_counter()
        sample = score_sample(scoring, fs, units, config.input_format, SAMPLE_ROWS)
        seconds = time.perf_counter() - started
    except JobError as exc:
        report.problems.append(_problem("input", exc))
        return report
    sampled = sample.num_rows if sample is not None else 0
    per_row = _csv_bytes_per_row(fs, files[0].path) if config.input_format == "csv" else None
    _plan_rows(report.plan, units, config, sampled, seconds, per_row)
    return report


def _load(config: JobConfig, report: CheckReport) -> Any:
    try:
        data = read_bytes(config.model.uri)
    except JobError as exc:
        report.problems.append(_problem("model.uri", exc))
        return None
    if config.model_format == "skops":
        report.trusted_types_line = _trusted_types_line(data, config)
    try:
        return load_model(
            data,
            config.model_format,
            sha256=config.model.sha256,
            trusted_types=config.model.trusted_types or (),
            uri=config.model.uri,
        ).estimator
    except ModelError as exc:
        report.problems.append(_problem("model", exc))
        return None


def _trusted_types_line(data: bytes, config: JobConfig) -> str | None:
    """The `trusted_types` entry naming every type the file holds that is not trusted yet: to
    review, then paste (the contract refuses the ones that reach the system)."""
    import json

    import skops.io as sio

    try:
        found = sio.get_untrusted_types(data=data)
    except Exception:  # noqa: BLE001 - a corrupt file: load_model reports it
        return None
    untrusted = sorted(set(found) - set(config.model.trusted_types or ()))
    return f'"trusted_types": {json.dumps(untrusted)}' if untrusted else None


def _plan_rows(
    plan: Plan,
    units: list[Unit],
    config: JobConfig,
    sampled: int,
    seconds: float,
    csv_bytes_per_row: float | None,
) -> None:
    plan.sample_rows = sampled
    plan.sample_rows_per_second = round(sampled / seconds, 1) if seconds > 0 else 0.0
    if csv_bytes_per_row is None:  # Parquet: the row groups' own counts
        plan.rows = sum(unit.weight for unit in units)
    else:  # CSV units weigh bytes
        total_bytes = sum(unit.weight for unit in units)
        plan.rows = round(total_bytes / csv_bytes_per_row) if csv_bytes_per_row else 0
        plan.rows_estimated = True
    plan.rows_per_shard = -(-plan.rows // max(config.shards, 1))
    if plan.sample_rows_per_second:
        plan.seconds_per_shard = round(plan.rows_per_shard / plan.sample_rows_per_second, 1)


def _csv_bytes_per_row(fs: pafs.FileSystem, path: str) -> float | None:
    """From the first MiB of the first file (its header line is one row too many: negligible)."""
    with fs.open_input_stream(path) as stream:
        head = stream.read(CSV_SAMPLE_BYTES)
    lines = head.count(b"\n")
    return len(head) / lines if lines else None


def _problem(path: str, exc: JobError) -> Problem:
    """The error's own field path when its message starts with one (`model.sha256: ...`)."""
    message = str(exc)
    head, sep, rest = message.partition(": ")
    if sep and head.split(".")[0] in ("model", "input", "output") and " " not in head:
        return Problem(head, rest)
    if isinstance(exc, InputError) and path == "input":
        return Problem("input.features", message)
    return Problem(path, message)
