"""CloudWatch metrics of finished jobs, as Embedded Metric Format lines (Powertools Metrics).

AWS Batch publishes no per-job metrics; the state Lambda prints these when it costs a finished
job (once per job: the cost write is conditional, so a repeated event publishes nothing), and
CloudWatch Logs turns them into metrics in the `batchscore` namespace with no API call.
Dimensions are kept few and bounded (status x queue), since each combination is a metric billed
on its own; the job id is a property of the line, searchable in Logs Insights, not a dimension.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "batchscore"
JOBS_FINISHED = "JobsFinished"
DURATION = "JobDurationSeconds"
ROWS = "RowsScored"
COST = "JobCostUSD"
RUNNABLE = "QueuedSeconds"
METRIC_NAMES = (JOBS_FINISHED, DURATION, ROWS, COST, RUNNABLE)


def job_figures(
    record: Mapping[str, Any], runnable_seconds: float | None
) -> list[tuple[str, MetricUnit, float]]:
    """(name, unit, value) of each metric a finished record gives."""
    figures: list[tuple[str, MetricUnit, float]] = [(JOBS_FINISHED, MetricUnit.Count, 1)]
    if isinstance(record.get("seconds"), int | float):
        figures.append((DURATION, MetricUnit.Seconds, float(record["seconds"])))
    if isinstance(record.get("rows"), int):
        figures.append((ROWS, MetricUnit.Count, float(record["rows"])))
    cost = record.get("cost") or {}
    if isinstance(cost.get("usd"), int | float):
        figures.append((COST, MetricUnit.NoUnit, float(cost["usd"])))
    if runnable_seconds is not None:
        figures.append((RUNNABLE, MetricUnit.Seconds, runnable_seconds))
    return figures


def publish(record: Mapping[str, Any], runnable_seconds: float | None) -> int:
    """Print one EMF line per metric, dimensions status and queue; return how many."""
    queue = str(record.get("queue") or record.get("priority") or "unknown").rsplit("/", 1)[-1]
    dimensions = {"status": str(record.get("status", "unknown")), "queue": queue}
    figures = job_figures(record, runnable_seconds)
    for name, unit, value in figures:
        with single_metric(
            name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=dimensions
        ) as metric:
            metric.add_metadata("job_id", str(record.get("job_id", "")))
    return len(figures)
