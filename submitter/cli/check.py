"""`batchscore check`: a dry run of a job before any compute is spent (`job.check`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from config import env
from config.deployment import queue_names
from config.parsing import parse_config, read_config_file
from submitter.cli.check_cost import cost_line, estimated_cost
from submitter.cli.errors import ExitCode, require_extra
from submitter.cli.options import AsJson, emit
from submitter.cli.score import JOB_MODULES

if TYPE_CHECKING:
    from job.check import CheckReport


def check(
    config_file: Annotated[Path, typer.Argument(help="A job-config JSON file.", metavar="CONFIG")],
    as_json: AsJson = False,
    queues: Annotated[
        str | None,
        typer.Option(help="Deployed queue names, comma-separated.", envvar=env.QUEUES),
    ] = None,
) -> None:
    """Load the model, read the input's schema and a sample, score the sample, print the plan:
    exit 0 when the job would run, 2 with one line per problem."""
    raw = read_config_file(config_file)
    report = run_check(raw, queue_names(queues))
    cost = estimated_cost(parse_config(raw, queues=queue_names(queues)), report)
    text = describe(report, str(config_file)) + (f"\n{cost_line(cost)}" if cost else "")
    emit(report.as_dict() | {"estimated_cost": cost}, as_json, text)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.INVALID)


def run_check(raw: bytes, queues: tuple[str, ...]) -> CheckReport:
    require_extra("job", *JOB_MODULES)
    config = parse_config(raw, queues=queues)
    from job.check import check_job

    return check_job(config)


def describe(report: CheckReport, name: str) -> str:
    """The report for a person: one line per problem, or the plan."""
    if not report.ok:
        lines = [f"{name}: {problem}" for problem in report.problems]
        if report.trusted_types_line:
            lines.append(
                f"{name}: after reviewing each type, add to model (with model.sha256, required "
                f"when types are trusted): {report.trusted_types_line}"
            )
        return "\n".join(lines)
    plan = report.plan
    rows = f"{'about ' if plan.rows_estimated else ''}{plan.rows:,}"
    time_per_shard = (
        f", about {plan.seconds_per_shard:,.1f} s of scoring each"
        if plan.seconds_per_shard is not None
        else ""
    )
    return "\n".join(
        [
            f"{name}: the job would run",
            f"  input: {plan.files} file(s), {rows} rows",
            f"  shards: {plan.shards} of {plan.rows_per_shard:,} rows{time_per_shard}",
            f"  model: fed a {plan.model_path}; sample of {plan.sample_rows:,} rows scored at "
            f"{plan.sample_rows_per_second:,.0f} rows/s",
            f"  output columns: {', '.join(plan.output_columns)}",
        ]
    )
